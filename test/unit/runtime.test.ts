// Execution-provider choice on this machine's own providers, with the platform's own order: the
// assertions hold whichever providers work here.
import * as assert from 'assert';
import * as fs from 'fs';
import { defaultModelPath } from '../../src/engine/model';
import { type Fallback, autoOrder, createSession, shortReason, tryProviders } from '../../src/engine/runtime';

describe('execution providers', () => {
  const model = fs.readFileSync(defaultModelPath());

  it("auto's order: CUDA, then DirectML (Windows) or CoreML (macOS), then WebGPU, then the CPU", () => {
    assert.deepStrictEqual(autoOrder('linux'), ['cuda', 'webgpu', 'cpu']);
    assert.deepStrictEqual(autoOrder('win32'), ['cuda', 'dml', 'webgpu', 'cpu']);
    assert.deepStrictEqual(autoOrder('darwin'), ['cuda', 'coreml', 'webgpu', 'cpu']);
  });

  for (const provider of ['cuda', 'webgpu'] as const) {
    it(`${provider}: runs there when its trial ran, else falls back to the CPU with one notice`, async () => {
      const [trial] = await tryProviders([provider]);
      const notices: Fallback[] = [];
      const { session, ep } = await createSession(model, provider, (f) => notices.push(f));
      if (trial.reason === null) {
        assert.deepStrictEqual([ep, notices], [provider, []]);
      } else {
        assert.strictEqual(ep, 'cpu');
        assert.strictEqual(notices.length, 1);
        assert.deepStrictEqual([notices[0].providers, notices[0].ep, notices[0].reason], [provider, 'cpu', trial.reason]);
        assert.strictEqual(notices[0].notice, `running on the CPU (${trial.reason})`);
      }
      await session.release();
    });
  }

  it('auto runs on the first provider of the platform order whose trial ran, naming every one before it in one notice', async () => {
    const order = autoOrder();
    const trials = await tryProviders(order.slice(0, -1));
    const first = trials.find((t) => t.reason === null)?.ep ?? 'cpu';
    const skipped = trials.slice(0, order.indexOf(first));
    const notices: Fallback[] = [];
    const { session, ep } = await createSession(model, 'auto', (f) => notices.push(f));
    assert.strictEqual(ep, first);
    if (skipped.length === 0) assert.deepStrictEqual(notices, []);
    else {
      assert.strictEqual(notices.length, 1);
      assert.strictEqual(notices[0].providers, skipped.map((t) => t.ep).join(', '));
      assert.strictEqual(notices[0].reason, skipped.map((t) => t.reason).join(', '));
      assert.strictEqual(notices[0].notice, `running on ${first === 'cpu' ? 'the CPU' : first} (${notices[0].reason})`);
    }
    await session.release();
  });

  it('tries each provider once per process', async () => {
    const [a] = await tryProviders(['webgpu']);
    const [b] = await tryProviders(['webgpu']);
    assert.strictEqual(a, b);
  });

  it('CPU needs no fallback and gives no notice', async () => {
    const notices: Fallback[] = [];
    const { session, ep } = await createSession(model, 'cpu', (f) => notices.push(f));
    assert.deepStrictEqual([ep, notices], ['cpu', []]);
    await session.release();
  });

  it("names why a provider could not be used from onnxruntime's and the Vulkan loader's own messages", () => {
    const cuda = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
    assert.strictEqual(shortReason('cuda', cuda, ''), 'no CUDA libraries');
    const adapter = 'webgpu_context.cc:136 … Failed to get a WebGPU adapter: No supported adapters';
    assert.strictEqual(shortReason('webgpu', adapter, 'Warning: vkCreateInstance: Found no drivers!'), 'no Vulkan driver');
    assert.strictEqual(shortReason('webgpu', adapter, "Couldn't load Vulkan"), 'no Vulkan driver');
    // lavapipe: a driver, but one Dawn refuses.
    assert.strictEqual(shortReason('webgpu', adapter, 'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.'), 'no Vulkan device WebGPU can use');
    assert.strictEqual(shortReason('dml', 'DML init failed\nat line 3', ''), 'dml: DML init failed');
  });
});
