// Batch handling decided by measurement (batch.ts): a fixed-batch-1 model whose batch-free bias
// Reshape must stay as it is (test 7b), one whose batch cannot be opened, and dynamic int8, whose
// one quantization range per batch makes a face's result depend on its batch partner.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type FrModel, loadFrModel } from '../../src/engine/model';
import { type Model, encodeModel, tensorInts } from '../../src/engine/onnx/proto';
import { collectConstants } from '../../src/engine/autodiff/graphInfo';
import { createSession, ort } from '../../src/engine/runtime';
import { Explainer, type PairExplanation } from '../../src/engine/xssab';
import { Net, randomValues } from './gradcheck';
import { twinModel } from './quantize';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-batch-'));

/** Writes a model with a card (no preprocessing, threshold 0.1) and loads it as the engine does. */
async function load(model: Model, name: string): Promise<{ file: string; model: FrModel }> {
  const file = path.join(tmp, `${name}.onnx`);
  fs.writeFileSync(file, encodeModel(model));
  fs.writeFileSync(path.join(tmp, `${name}.card.json`), JSON.stringify({ name, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
  return { file, model: await loadFrModel(file) };
}

/** Embeddings onnxruntime computes with the unmodified file, the faces given as one batch. */
async function ortEmbeddings(file: string, faces: Float32Array[], dims: number[]): Promise<Float64Array[]> {
  const { session } = await createSession(fs.readFileSync(file), 'cpu');
  try {
    const data = new Float32Array(faces.length * faces[0].length);
    faces.forEach((f, i) => data.set(f, i * f.length));
    const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [faces.length, ...dims]) }))[session.outputNames[0]].data as Float32Array;
    const d = out.length / faces.length;
    return faces.map((_, i) => Float64Array.from(out.subarray(i * d, (i + 1) * d)));
  } finally {
    await session.release();
  }
}

/** Each face alone through the unmodified file. */
const ortSingles = async (file: string, faces: Float32Array[], dims: number[]) => (await Promise.all(faces.map((f) => ortEmbeddings(file, [f], dims)))).map(([e]) => e);

const cosine = (u: ArrayLike<number>, v: ArrayLike<number>) => {
  let [uv, uu, vv] = [0, 0, 0];
  for (let i = 0; i < u.length; i++) [uv, uu, vv] = [uv + u[i] * v[i], uu + u[i] * u[i], vv + v[i] * v[i]];
  return uv / Math.sqrt(uu * vv);
};

/** The pairs (a[i], b[i]) explained in one call of a fresh explainer. */
async function explain(model: FrModel, a: Float32Array[], b: Float32Array[]): Promise<PairExplanation[]> {
  const explainer = await Explainer.create(model);
  try {
    const stack = (faces: Float32Array[]) => Float32Array.from(faces.flatMap((f) => [...f]));
    return await explainer.explainBatch(stack(a), stack(b), 0.1);
  } finally {
    await explainer.release();
  }
}

function assertMapsClose(actual: PairExplanation, expected: PairExplanation, what: string) {
  for (const side of [0, 1]) {
    for (const kind of ['similarity', 'dissimilarity', 'combined'] as const) {
      const [u, v] = [actual.maps[side][kind], expected.maps[side][kind]];
      const scale = Math.max(...v.map(Math.abs));
      assert.ok(scale > 0, `${what}: ${kind} ${side} is all zero`);
      const worst = Math.max(...u.map((x, i) => Math.abs(x - v[i])));
      assert.ok(worst <= 1e-5 * scale, `${what}: ${kind} ${side} differs by ${worst} (scale ${scale})`);
    }
  }
}

/** Checks the explanations of pairs (a[i], b[i]) against onnxruntime's run of each face alone through the file. */
async function assertScoresAreOnnxruntimes(file: string, results: PairExplanation[], a: Float32Array[], b: Float32Array[], dims: number[]) {
  const [ea, eb] = [await ortSingles(file, a, dims), await ortSingles(file, b, dims)];
  results.forEach((r, i) => {
    const expected = cosine(ea[i], eb[i]);
    assert.ok(Math.abs(r.score - expected) <= 1e-6, `pair ${i}: score ${r.score}, onnxruntime ${expected}`);
  });
}

const perFace = (model: FrModel): FrModel => ({ ...model, batch: { kind: 'one face per run', reason: 'the test asks for it' } });

const notices = (model: FrModel) => model.warnings.filter((w) => /one per session call/.test(w));

describe('batch handling, measured', () => {
  const saved = process.env.XSSAB_CACHE_DIR;
  before(() => {
    process.env.XSSAB_CACHE_DIR = fs.mkdtempSync(path.join(tmp, 'cache-'));
  });
  after(() => {
    process.env.XSSAB_CACHE_DIR = saved;
  });

  /**
   * Fixed batch 1: Conv, then a bias Reshape to [1, −1, 1, 1] that does not carry the batch (it
   * scales with the input's height, read through Shape, as exports with an open size do), then a
   * Reshape to [1, −1] that does carry it, and a Gemm. Opening the second and not the first is
   * what measurement finds; rewriting both by pattern makes the bias [4, 1, 1, 1].
   */
  function biasNet(): { model: Model; bias: string; flatten: string } {
    const net = new Net([1, 3, 6, 6]);
    const { b } = net;
    const conv = b.op('Conv', ['x', net.weight([4, 3, 3, 3]), net.weight([4], 0.1)], { pads: [1, 1, 1, 1] });
    const height = b.op('Cast', [b.op('Gather', [b.op('Shape', ['x']), b.ints([2])])], { to: 1 }); // [1]: 6
    const bias = b.ints([1, -1, 1, 1]);
    const scaled = b.op('Reshape', [b.op('Mul', [net.weight([4], 0.05), height]), bias]);
    const act = b.op('PRelu', [b.op('Add', [conv, scaled]), net.weight([4, 1, 1])]);
    const flatten = b.ints([1, -1]);
    const e = b.op('Gemm', [b.op('Reshape', [act, flatten]), net.weight([8, 144], 0.2)], { transB: 1 });
    const model = net.model(e);
    model.graph!.input![0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    return { model, bias, flatten };
  }
  const faces = (seed: number, n: number, size: number) => Array.from({ length: n }, (_, i) => randomValues(size, seed + i));

  it('opens a fixed batch of 1 where measured: the batch-free bias Reshape stays, scores are onnxruntime\'s, maps the per-face run\'s (7b)', async () => {
    const { model: file, bias, flatten } = biasNet();
    const { file: onnx, model } = await load(file, 'bias');
    assert.strictEqual(model.batch.kind, 'relaxed', model.batch.reason);
    assert.match(model.batch.reason, /1 shape target measured to carry the batch rewritten/);
    assert.deepStrictEqual(notices(model), []);
    // The bias Reshape keeps its constant target; the flattening Reshape now computes its batch.
    const targets = new Map((model.proto.graph!.node ?? []).filter((n) => n.opType === 'Reshape').map((n) => [n.output![0], n.input![1]]));
    const constants = collectConstants(model.proto.graph!);
    const reshapeOf = (target: string) => [...targets].find(([, t]) => t === target);
    assert.ok(reshapeOf(bias), 'the bias Reshape reads its own target');
    assert.deepStrictEqual(tensorInts(constants.get(bias)!), [1, -1, 1, 1]);
    assert.ok(!reshapeOf(flatten), 'the flattening Reshape no longer reads [1, −1]');

    const [a, b] = [faces(10, 3, 108), faces(20, 3, 108)];
    const together = await explain(model, a, b);
    await assertScoresAreOnnxruntimes(onnx, together, a, b, [3, 6, 6]);
    const oneByOne = await explain(perFace(model), a, b);
    together.forEach((r, i) => {
      assertMapsClose(r, oneByOne[i], `pair ${i}`);
      assert.ok(Math.abs(r.score - oneByOne[i].score) <= 1e-6);
      assert.deepStrictEqual([r.split.supporting.count, r.split.opposing.count], [oneByOne[i].split.supporting.count, oneByOne[i].split.opposing.count]);
    });
  });

  it('gives an Expand of a class token the batch where the model runs at batch 2 only so (ViT-style, fixed batch 1)', async () => {
    const net = new Net([1, 3, 4, 4]);
    const { b } = net;
    const patches = b.op('Transpose', [b.op('Reshape', [b.op('Conv', ['x', net.weight([8, 3, 2, 2])], { strides: [2, 2] }), b.ints([1, 8, 4])])], { perm: [0, 2, 1] });
    const classToken = b.op('Expand', [net.weight([1, 1, 8]), b.ints([1, 1, 8])]);
    const pooled = b.reduceSum(b.op('Concat', [classToken, patches], { axis: 1 }), [1], false);
    const file = net.model(b.op('Gemm', [b.op('Relu', [pooled]), net.weight([6, 8], 0.4)], { transB: 1 }));
    file.graph!.input![0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    const { file: onnx, model } = await load(file, 'class-token');
    assert.deepStrictEqual(model.batch, { kind: 'relaxed', reason: 'the file fixes batch 1; the engine opens it (2 shape targets measured to carry the batch rewritten)' });
    const [a, bs] = [faces(50, 2, 48), faces(60, 2, 48)];
    const together = await explain(model, a, bs);
    await assertScoresAreOnnxruntimes(onnx, together, a, bs, [3, 4, 4]);
    const oneByOne = await explain(perFace(model), a, bs);
    together.forEach((r, i) => assertMapsClose(r, oneByOne[i], `pair ${i}`));
  });

  it('runs one face per call, with one notice, where the batch cannot be opened; results stay onnxruntime\'s', async () => {
    // A flattening Reshape to [144]: batch 1 baked into the element count, which no rewrite of a leading 1 reaches.
    const net = new Net([1, 3, 6, 6]);
    const { b } = net;
    const act = b.op('Relu', [b.op('Conv', ['x', net.weight([4, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
    const row = b.op('Reshape', [b.op('Reshape', [act, b.ints([144])]), b.ints([1, 144])]);
    const file = net.model(b.op('MatMul', [row, net.weight([144, 8], 0.2)]));
    file.graph!.input![0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    const { file: onnx, model } = await load(file, 'baked');
    assert.strictEqual(model.batch.kind, 'one face per run');
    assert.strictEqual(notices(model).length, 1, model.warnings.join('; '));
    assert.strictEqual(notices(model)[0], `faces run one per session call, which is slower: the file fixes batch 1 and it cannot be opened: onnxruntime cannot run it with a batch of 2 (its Reshape node "${file.graph!.node![2].name}" fails)`);

    const [a, bs] = [faces(30, 2, 108), faces(40, 2, 108)];
    const results = await explain(model, a, bs);
    assert.strictEqual(results.length, 2);
    await assertScoresAreOnnxruntimes(onnx, results, a, bs, [3, 6, 6]);
    const [ea] = await ortSingles(onnx, [a[1]], [3, 6, 6]);
    results[1].embeddings[0].forEach((v, i) => assert.ok(Math.abs(v - ea[i]) <= 1e-6 * Math.max(...ea.map(Math.abs)), `embedding [${i}]: ${v} vs ${ea[i]}`));
    // The maps are the fused graph's own formula on each face: the same with the pair alone.
    const [alone] = await explain(model, [a[1]], [bs[1]]);
    assertMapsClose(results[1], alone, 'the second pair');
    const explainer = await Explainer.create(model);
    const embedded = await explainer.embed(Float32Array.from([...a[0], ...a[1]]));
    await explainer.release();
    assert.strictEqual(embedded.length, 16);
    assert.deepStrictEqual(embedded.subarray(8), results[1].embeddings[0]);
  });

  it('gives each face of a dynamic int8 model its own result: the batch would share one quantization range', async () => {
    const { file: onnx, model } = await load(twinModel('dynamic'), 'dynamic');
    assert.strictEqual(model.batch.kind, 'one face per run');
    assert.match(notices(model)[0] ?? '', /a batch of 2 gives other embeddings than each face alone/);
    // Faces in ±0.3 and ±3: in one batch the first is quantized on the second's ten times coarser grid.
    const a = [randomValues(48, 3, 0.3)];
    const b = [randomValues(48, 4, 3)];
    const [result] = await explain(model, a, b);
    await assertScoresAreOnnxruntimes(onnx, [result], a, b, [3, 4, 4]);
    const [batchA, batchB] = await ortEmbeddings(onnx, [a[0], b[0]], [3, 4, 4]);
    const batched = cosine(batchA, batchB);
    assert.ok(Math.abs(result.score - batched) > 1e-3, `the score ${result.score} would be the batch's ${batched}`);
  });

  it('keeps a dynamic float model batched and caches the verdict by model content', async () => {
    const net = new Net([1, 3, 6, 6]);
    const e = net.b.op('Gemm', [net.b.op('Flatten', [net.b.op('Relu', ['x'])], { axis: 1 }), net.weight([8, 108], 0.2)], { transB: 1 });
    const { model } = await load(net.model(e), 'open');
    assert.deepStrictEqual(model.batch, { kind: 'dynamic', reason: 'the file leaves the batch open' });
    const dir = path.join(process.env.XSSAB_CACHE_DIR!, 'batch');
    const entry = fs.readdirSync(dir).map((f) => path.join(dir, f)).find((f) => JSON.parse(fs.readFileSync(f, 'utf8')).reason === 'the file leaves the batch open')!;
    // A stored verdict is what the next load uses: no measurement runs (it would find "dynamic").
    fs.writeFileSync(entry, JSON.stringify({ kind: 'one face per run', reason: 'stored', carriers: [] }));
    fs.writeFileSync(path.join(tmp, 'open.card.json'), JSON.stringify({ name: 'open again', channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
    assert.deepStrictEqual((await loadFrModel(path.join(tmp, 'open.onnx'))).batch, { kind: 'one face per run', reason: 'stored' });
    // An entry that does not fit is measured again.
    fs.writeFileSync(entry, JSON.stringify({ kind: 'relaxed', reason: 'stored', carriers: [{ node: 99 }] }));
    fs.writeFileSync(path.join(tmp, 'open.card.json'), JSON.stringify({ name: 'open once more', channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
    assert.strictEqual((await loadFrModel(path.join(tmp, 'open.onnx'))).batch.kind, 'dynamic');
  });
});
