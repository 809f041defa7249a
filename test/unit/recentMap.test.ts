// The bounded caches of models and fused graphs.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadFrModel } from '../../src/engine/model';
import { encodeModel } from '../../src/engine/onnx/proto';
import { RecentMap } from '../../src/engine/recentMap';
import { Net } from './gradcheck';

describe('RecentMap', () => {
  it('keeps the most recently used entries, reading counting as use', () => {
    const map = new RecentMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    assert.strictEqual(map.get('a'), 1);
    map.set('c', 3);
    assert.deepStrictEqual([map.get('a'), map.get('b'), map.get('c')], [1, undefined, 3], 'b was used least recently');
    map.set('a', 4);
    map.delete('c');
    assert.deepStrictEqual([map.get('a'), map.get('c')], [4, undefined]);
  });

  it('prepares a model again once two other models were loaded after it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-recent-'));
    const write = (name: string, seed: number) => {
      const net = new Net([1, 3, 4, 4], 18);
      for (let i = 0; i < seed; i++) net.weight([1]); // unused weights first, so the three files differ
      const file = path.join(dir, `${name}.onnx`);
      fs.writeFileSync(file, encodeModel(net.model(net.b.op('Flatten', [net.b.op('Conv', ['x', net.weight([2, 3, 3, 3])])], { axis: 1 }))));
      fs.writeFileSync(path.join(dir, `${name}.card.json`), JSON.stringify({ name, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1, inputSize: 4 }));
      return file;
    };
    const [a, b, c] = [write('a', 0), write('b', 1), write('c', 2)];
    const first = await loadFrModel(a);
    assert.strictEqual(await loadFrModel(b).then(() => loadFrModel(a)), first, 'two models are kept');
    await loadFrModel(b);
    await loadFrModel(c);
    assert.notStrictEqual(await loadFrModel(a), first, 'a third one pushes out the least recently used');
  });
});
