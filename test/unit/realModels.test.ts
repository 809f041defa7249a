// Models as users bring them: tensor names that clash with the engine's own.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inspectModel } from '../../src/engine/inspect';
import { type FrModel, loadFrModel } from '../../src/engine/model';
import { float16Bits, float16Values } from '../../src/engine/onnx/float16';
import { DataType, type Model, type TensorProto, encodeModel, makeTensor, tensorDims, tensorFloats } from '../../src/engine/onnx/proto';
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
/** One pair explained by a fresh explainer of the model, released afterwards. */
async function explainOnce(model: FrModel, a: Float32Array, b: Float32Array) {
  const explainer = await Explainer.create(model);
  const [result] = await explainer.explainBatch(a, b, 0.1);
  await explainer.release();
  return result;
}

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

/** The model with every float32 initializer stored as float16, and (unless `boundaryCasts`) float16 input and output. */
function toFloat16(model: Model, boundaryCasts: boolean): Model {
  const copy = structuredClone(model);
  const graph = copy.graph!;
  graph.initializer = graph.initializer!.map((t): TensorProto =>
    t.dataType === DataType.FLOAT ? { name: t.name, dims: t.dims, dataType: DataType.FLOAT16, rawData: new Uint8Array(float16Bits(tensorFloats(t)).buffer) } : t,
  );
  const [x, e] = [graph.input![0].name!, graph.output![0].name!];
  if (!boundaryCasts) {
    graph.input![0].type!.tensorType!.elemType = DataType.FLOAT16;
    graph.output = [{ name: e, type: { tensorType: { elemType: DataType.FLOAT16 } } }];
    return copy;
  }
  // float32 in and out, float16 inside.
  for (const n of graph.node!) n.input = n.input!.map((i) => (i === x ? 'x16' : i));
  graph.node!.unshift({ opType: 'Cast', name: 'to_half', input: [x], output: ['x16'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT16 }] });
  graph.node!.push({ opType: 'Cast', name: 'to_float', input: [e], output: ['e32'], attribute: [{ name: 'to', type: 2, i: DataType.FLOAT }] });
  graph.output = [{ name: 'e32' }];
  return copy;
}

/** The float32 model with its weights rounded to float16 values: what a float16 model computes, in float32. */
function roundedTwin(model: Model): Model {
  const copy = structuredClone(model);
  copy.graph!.initializer = copy.graph!.initializer!.map((t) =>
    t.dataType === DataType.FLOAT ? makeTensor(t.name!, tensorDims(t), float16Values({ dims: t.dims, dataType: DataType.FLOAT16, rawData: new Uint8Array(float16Bits(tensorFloats(t)).buffer) })) : t,
  );
  return copy;
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
    const [expected, actual] = [await explainOnce(twin.model, a, b), await explainOnce(clash.model, a, b)];
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

  for (const boundaryCasts of [false, true]) {
    it(`explains a float16 model (${boundaryCasts ? 'Cast to and from float16 at the boundaries' : 'float16 input, weights and activations'}): float32 maps, the score onnxruntime's to 1e-3 (7d)`, async () => {
      const { model } = smallNet();
      const half = toFloat16(model, boundaryCasts);
      const [twin, f16] = [await load(roundedTwin(model), `rounded-${boundaryCasts}`), await load(half, `half-${boundaryCasts}`)];
      assert.ok(f16.model.warnings.some((w) => /computes in float16/.test(w)), f16.model.warnings.join('; '));
      // The kind of the file as written, though it runs in float32; inspect reports the same.
      assert.strictEqual(f16.model.quantization, 'float16');
      assert.strictEqual((await inspectModel(f16.file)).quantization, 'float16');
      assert.strictEqual(twin.model.quantization, 'none');
      const a = randomValues(3 * 36, 7);
      const b = randomValues(3 * 36, 8);
      const [expected, actual] = [await explainOnce(twin.model, a, b), await explainOnce(f16.model, a, b)];
      assert.ok(actual.maps[0].similarity instanceof Float32Array);
      // The Casts to float16 and back round the input and the embedding; the rest is the twin's float32 arithmetic.
      const close = (u: Float32Array, v: Float32Array, what: string) => {
        const scale = Math.max(...v.map(Math.abs));
        u.forEach((x, i) => assert.ok(Math.abs(x - v[i]) <= 2e-2 * scale, `${what}[${i}]: ${x} vs ${v[i]}`));
      };
      for (const side of [0, 1]) for (const kind of ['similarity', 'dissimilarity', 'combined'] as const) close(actual.maps[side][kind], expected.maps[side][kind], `${side} ${kind}`);
      if (!boundaryCasts) {
        assert.deepStrictEqual(actual.maps, expected.maps);
        assert.strictEqual(actual.score, expected.score);
      }

      // onnxruntime's own run of the float16 file.
      const session = await createSession(fs.readFileSync(f16.file), 'cpu');
      const feed = (x: Float32Array) => (boundaryCasts ? new ort.Tensor('float32', x, [1, 3, 6, 6]) : new ort.Tensor('float16', float16Bits(x), [1, 3, 6, 6]));
      const embed = async (x: Float32Array) => {
        const out = (await session.session.run({ x: feed(x) }))[session.session.outputNames[0]];
        return out.type === 'float16' ? float16Values({ dims: [out.data.length], dataType: DataType.FLOAT16, rawData: new Uint8Array((out.data as Uint16Array).buffer) }) : (out.data as Float32Array);
      };
      const [ea, eb] = [await embed(a), await embed(b)];
      await session.session.release();
      const dot = (u: Float32Array, v: Float32Array) => u.reduce((s, x, i) => s + x * v[i], 0);
      const cosine = dot(ea, eb) / Math.sqrt(dot(ea, ea) * dot(eb, eb));
      assert.ok(Math.abs(actual.score - cosine) < 1e-3, `${actual.score} vs onnxruntime's ${cosine}`);
    });
  }
});
