import * as assert from 'assert';
import { defaultModelPath } from '../../src/engine/model';
import { createSession } from '../../src/engine/runtime';
import * as fs from 'fs';

describe('execution providers', () => {
  const model = fs.readFileSync(defaultModelPath());

  for (const provider of ['cuda', 'webgpu'] as const) {
    it(`falls back from ${provider} to CPU with one notice when ${provider} cannot load here`, async function () {
      const notices: string[] = [];
      const { session, ep } = await createSession(model, provider, (p, reason) => notices.push(`${p}: ${reason}`));
      if (ep === provider) this.skip(); // a machine where the provider works
      assert.strictEqual(ep, 'cpu');
      assert.strictEqual(notices.length, 1);
      assert.match(notices[0], new RegExp(`^${provider}: .+`));
      await session.release();
    });
  }

  it('auto ends on CPU here, with one notice naming every provider that failed', async () => {
    const notices: string[][] = [];
    const { session, ep } = await createSession(model, 'auto', (p, reason) => notices.push([p, reason]));
    if (ep === 'cpu') {
      assert.strictEqual(notices.length, 1);
      assert.strictEqual(notices[0][0], 'cuda, webgpu');
      assert.match(notices[0][1], /^cuda: .+; webgpu: .+/);
    }
    await session.release();
  });

  it('CPU needs no fallback and gives no notice', async () => {
    const notices: string[] = [];
    const { session, ep } = await createSession(model, 'cpu', (p) => notices.push(p));
    assert.deepStrictEqual([ep, notices], ['cpu', []]);
    await session.release();
  });
});
