// The on-disk cache of measured shapes: used when it fits the model, measured anew when it does not.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { measureShapes } from '../../src/engine/autodiff/graphInfo';
import { loadFrModel } from '../../src/engine/model';
import { encodeModel } from '../../src/engine/onnx/proto';
import { modelShapes } from '../../src/engine/shapeCache';
import { Net } from './gradcheck';

/** A small convolutional embedder: x [N,3,6,6] → Conv → Relu → Flatten → MatMul → [N,8]. */
function smallModel() {
  const net = new Net([1, 3, 6, 6]);
  const conv = net.b.op('Relu', [net.b.op('Conv', ['x', net.weight([2, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
  const e = net.b.op('MatMul', [net.b.op('Flatten', [conv], { axis: 1 }), net.weight([72, 8])]);
  return { model: net.model(e), conv, e };
}

describe('shape cache', () => {
  const saved = process.env.XSSAB_CACHE_DIR;
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-shapes-'));
    process.env.XSSAB_CACHE_DIR = dir;
  });
  afterEach(() => {
    process.env.XSSAB_CACHE_DIR = saved;
  });
  const entries = () => (fs.existsSync(path.join(dir, 'shapes')) ? fs.readdirSync(path.join(dir, 'shapes')) : []);
  const entry = () => path.join(dir, 'shapes', entries()[0]);

  it('stores the measured shapes of the input and every node output, and reads them back', async () => {
    const { model, conv, e } = smallModel();
    const measured = await modelShapes(model, 'x', 'sha-1');
    assert.deepStrictEqual(measured, await measureShapes(model, 'x'));
    assert.deepStrictEqual(entries().length, 1);
    const stored = JSON.parse(fs.readFileSync(entry(), 'utf8'));
    assert.deepStrictEqual(stored.x, [1, 3, 6, 6]);
    assert.deepStrictEqual(stored[conv], [1, 2, 6, 6]);
    assert.deepStrictEqual(stored[e], [1, 8]);
    assert.ok(!Object.keys(stored).some((name) => model.graph!.initializer!.some((t) => t.name === name)), 'initializers are not stored');

    // A stored entry is what the next start uses: no probe runs (it would measure [1, 2, 6, 6]).
    stored[conv] = [1, 2, 5, 5];
    fs.writeFileSync(entry(), JSON.stringify(stored));
    const read = await modelShapes(model, 'x', 'sha-1');
    assert.deepStrictEqual(read.get(conv), [1, 2, 5, 5]);
    assert.deepStrictEqual(read.get(model.graph!.initializer![0].name!), [2, 3, 3, 3], 'initializer shapes come from the graph');
  });

  it('keys entries by model content and input shape', async () => {
    const { model } = smallModel();
    await modelShapes(model, 'x', 'sha-1');
    await modelShapes(model, 'x', 'sha-2');
    model.graph!.input![0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    await modelShapes(model, 'x', 'sha-2');
    assert.strictEqual(entries().length, 3);
  });

  for (const [what, spoil] of [
    ['a file that is not JSON', () => '{"x": [1, 3'],
    ['an entry without one of the node outputs', (s: Record<string, unknown>) => JSON.stringify({ x: s.x })],
    ['a size that is not a whole number', (s: Record<string, unknown>) => JSON.stringify({ ...s, x: [1, 3, 6, 6.5] })],
  ] as const) {
    it(`measures again over ${what}, and repairs the entry`, async () => {
      const { model, conv } = smallModel();
      await modelShapes(model, 'x', 'sha-1');
      const good = JSON.parse(fs.readFileSync(entry(), 'utf8'));
      fs.writeFileSync(entry(), spoil(good));
      const shapes = await modelShapes(model, 'x', 'sha-1');
      assert.deepStrictEqual(shapes.get(conv), [1, 2, 6, 6]);
      assert.deepStrictEqual(JSON.parse(fs.readFileSync(entry(), 'utf8')), good);
    });
  }

  it('works without a cache: XSSAB_CACHE_DIR empty, or a cache folder that cannot be written', async () => {
    const { model, e } = smallModel();
    process.env.XSSAB_CACHE_DIR = '';
    assert.deepStrictEqual((await modelShapes(model, 'x', 'sha-1')).get(e), [1, 8]);
    const blocked = path.join(dir, 'blocked');
    fs.writeFileSync(blocked, 'a file where the cache folder would be');
    process.env.XSSAB_CACHE_DIR = blocked;
    assert.deepStrictEqual((await modelShapes(model, 'x', 'sha-1')).get(e), [1, 8]);
    assert.deepStrictEqual(entries(), []);
  });

  it('gives a model loaded from the cache the same shapes as a model that was measured', async () => {
    const { model } = smallModel();
    const write = (name: string) => {
      const file = path.join(dir, `${name}.onnx`);
      fs.writeFileSync(file, encodeModel(model));
      fs.writeFileSync(path.join(dir, `${name}.card.json`), JSON.stringify({ name, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1, inputSize: 6 }));
      return file;
    };
    // Two paths, so the second load is not the first one's in-process result.
    const first = await loadFrModel(write('first'));
    assert.strictEqual(entries().length, 1);
    const second = await loadFrModel(write('second'));
    assert.deepStrictEqual(second.info.shapes, first.info.shapes);
    assert.deepStrictEqual(second.inputShape, [3, 6, 6]);
  });
});
