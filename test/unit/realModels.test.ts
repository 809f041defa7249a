// Models as users bring them: tensor names that clash with the engine's own.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadFrModel } from '../../src/engine/model';
import { type Model, encodeModel } from '../../src/engine/onnx/proto';
import { createSession, ort } from '../../src/engine/runtime';
import { Explainer } from '../../src/engine/xssab';
import { Net, randomValues } from './gradcheck';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-real-'));

/** Writes a model with a card (no preprocessing, threshold 0.1) and loads it as the engine does. */
async function load(model: Model, name: string) {
  const file = path.join(tmp, `${name}.onnx`);
  fs.writeFileSync(file, encodeModel(model));
  fs.writeFileSync(path.join(tmp, `${name}.card.json`), JSON.stringify({ name, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
  return { file, model: await loadFrModel(file) };
}

/** The model with tensors, initializers, nodes and graph inputs/outputs renamed. */
function renamed(model: Model, names: Record<string, string>): Model {
  const copy = structuredClone(model);
  const graph = copy.graph!;
  const to = (n: string) => names[n] ?? n;
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map(to);
    node.output = (node.output ?? []).map(to);
    node.name = to(node.name ?? '');
  }
  for (const t of graph.initializer ?? []) t.name = to(t.name ?? '');
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) v.name = to(v.name ?? '');
  return copy;
}

/** A conv + PRelu + Gemm embedder on [N, 3, 6, 6] faces; returns the model and its tensor names. */
function smallNet() {
  const net = new Net([1, 3, 6, 6]);
  const { b } = net;
  const conv = b.op('Conv', ['x', net.weight([4, 3, 3, 3]), net.weight([4], 0.1)], { pads: [1, 1, 1, 1] });
  const act = b.op('PRelu', [conv, net.weight([4, 1, 1])]);
  const flat = b.op('Flatten', [act], { axis: 1 });
  const weight = net.weight([8, 144], 0.2);
  const e = b.op('Gemm', [flat, weight], { transB: 1 });
  const model = net.model(e);
  const convNode = model.graph!.node!.find((n) => n.opType === 'Conv')!;
  return { model, names: { e, act, weight, conv: convNode.name! } };
}

describe('models as users bring them', () => {
  it('explains a model whose tensors, nodes and input carry the engine\'s names like its renamed twin (7a)', async () => {
    const { model, names } = smallNet();
    const clashing = renamed(model, {
      x: 'face_a',
      [names.e]: 'embeddings',
      [names.act]: 'score',
      [names.weight]: 'threshold',
      [names.conv]: 'xssab/stack_pairs',
    });
    const [twin, clash] = [await load(model, 'twin'), await load(clashing, 'clash')];
    const a = randomValues(3 * 36, 5);
    const b = randomValues(3 * 36, 6);
    const explain = async (m: typeof twin.model) => {
      const explainer = await Explainer.create(m);
      const [result] = await explainer.explain(a, b, 0.1);
      await explainer.release();
      return result;
    };
    const [expected, actual] = [await explain(twin.model), await explain(clash.model)];
    assert.deepStrictEqual(actual, expected);

    // The score is the cosine of onnxruntime's own run of the clashing file.
    const session = await createSession(fs.readFileSync(clash.file), 'cpu');
    const embed = async (x: Float32Array) => (await session.session.run({ face_a: new ort.Tensor('float32', x, [1, 3, 6, 6]) })).embeddings.data as Float32Array;
    const [ea, eb] = [await embed(a), await embed(b)];
    await session.session.release();
    const dot = (u: Float32Array, v: Float32Array) => u.reduce((s, x, i) => s + x * v[i], 0);
    const cosine = dot(ea, eb) / Math.sqrt(dot(ea, ea) * dot(eb, eb));
    assert.ok(Math.abs(actual.score - cosine) < 1e-6, `${actual.score} vs ${cosine}`);
  });
});
