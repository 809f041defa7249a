// xSSAB on a linear embedder, where the maps are known in closed form, and on composite networks.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultModelPath, loadFrModel } from '../../src/engine/model';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { Attributes, DataType, decodeModel, encodeModel, floatValueInfo, makeTensor } from '../../src/engine/onnx/proto';
import { Explainer, buildExplainGraph, explainGraphFor } from '../../src/engine/xssab';
import { Net, randomValues, vitEncoder } from './gradcheck';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-test-'));

/** Writes a model and a card with the given threshold, and loads it as the engine does. */
async function load(net: Net, output: string, name: string) {
  const file = path.join(tmp, `${name}.onnx`);
  fs.writeFileSync(file, encodeModel(net.model(output)));
  fs.writeFileSync(path.join(tmp, `${name}.card.json`), JSON.stringify({ name, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
  return loadFrModel(file);
}

describe('xSSAB', () => {
  it('matches the closed form on a linear embedder e = W·x', async () => {
    const [c, h, w, d] = [3, 4, 4, 8];
    const net = new Net([1, c, h, w]);
    const weights = randomValues(d * c * h * w, 11);
    const wName = net.b.initializer('W', [d, c * h * w], weights);
    const e = net.b.op('Gemm', [net.b.op('Flatten', ['x'], { axis: 1 }), wName], { transB: 1 });
    const model = await load(net, e, 'linear');
    const explainer = await Explainer.create(model);
    const a = randomValues(c * h * w, 21);
    const b = randomValues(c * h * w, 22);
    const threshold = 0.2;
    const [result] = await explainer.explainBatch(a, b, threshold);

    // Reference in float64: e = W x, ê = e/‖e‖, a_n = ê_A,n ê_B,n, G = Wᵀ (w − (ê·w) ê) / ‖e‖.
    const embed = (x: Float32Array) => Array.from({ length: d }, (_, r) => x.reduce((s, v, k) => s + weights[r * c * h * w + k] * v, 0));
    const [eA, eB] = [embed(a), embed(b)];
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const [uA, uB] = [eA.map((v) => v / norm(eA)), eB.map((v) => v / norm(eB))];
    const args = uA.map((v, n) => v * uB[n]);
    const score = args.reduce((s, v) => s + v, 0);
    const support = args.map((v) => v >= threshold / d);
    const map = (e0: number[], u: number[], partner: number[], keep: (n: number) => boolean) => {
      const wv = partner.map((p, n) => (keep(n) ? p : 0));
      const dot = u.reduce((s, x, n) => s + x * wv[n], 0);
      const ct = wv.map((x, n) => (x - dot * u[n]) / norm(e0));
      const g = Array.from({ length: c * h * w }, (_, k) => ct.reduce((s, v, r) => s + v * weights[r * c * h * w + k], 0));
      return Array.from({ length: h * w }, (_, p) => (Math.abs(g[p]) + Math.abs(g[h * w + p]) + Math.abs(g[2 * h * w + p])) / 3);
    };
    const expected = {
      aSim: map(eA, uA, uB, (n) => support[n]),
      aDis: map(eA, uA, uB, (n) => !support[n]),
      bSim: map(eB, uB, uA, (n) => support[n]),
      bDis: map(eB, uB, uA, (n) => !support[n]),
    };
    const close = (actual: Float32Array, ref: number[], what: string) => {
      const scale = Math.max(...ref.map(Math.abs));
      ref.forEach((r, i) => assert.ok(Math.abs(actual[i] - r) <= 1e-5 * scale + 1e-7, `${what}[${i}]: ${actual[i]} vs ${r}`));
    };
    assert.ok(Math.abs(result.score - score) < 1e-6);
    close(result.arguments, args, 'arguments');
    close(result.maps[0].similarity, expected.aSim, 'A similarity');
    close(result.maps[0].dissimilarity, expected.aDis, 'A dissimilarity');
    close(result.maps[1].similarity, expected.bSim, 'B similarity');
    close(result.maps[1].dissimilarity, expected.bDis, 'B dissimilarity');
    close(result.maps[0].combined, expected.aSim.map((v, i) => v - expected.aDis[i]), 'A combined');
    close(result.saliency[0], map(eA, uA, uB, () => true), 'A saliency');
    // The split: counts add up to d, the supporting and opposing sums to the score.
    const supportingSum = args.reduce((s, v, n) => s + (support[n] ? v : 0), 0);
    assert.strictEqual(result.split.supporting.count, support.filter((s) => s).length);
    assert.strictEqual(result.split.supporting.count + result.split.opposing.count, d);
    assert.ok(Math.abs(result.split.supporting.sum - supportingSum) < 1e-6);
    assert.ok(Math.abs(result.split.opposing.sum - (score - supportingSum)) < 1e-6);
    assert.strictEqual(result.split.beta, threshold / d);
    assert.ok(support.some((s) => s) && support.some((s) => !s), 'the example must have both supporting and opposing dimensions');
    await explainer.release();
  });

  it('explains a batch of pairs exactly as it explains each pair alone', async () => {
    const net = new Net([1, 3, 8, 8]);
    const conv = net.b.op('PRelu', [net.b.op('Conv', ['x', net.weight([4, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }), net.weight([4, 1, 1])]);
    const e = net.b.op('Gemm', [net.b.op('Flatten', [conv], { axis: 1 }), net.weight([16, 64])], { transB: 1 });
    const explainer = await Explainer.create(await load(net, e, 'small'));
    const size = 3 * 8 * 8;
    const a = randomValues(3 * size, 5);
    const b = randomValues(3 * size, 6);
    const batch = await explainer.explainBatch(a, b, 0.1);
    for (let i = 0; i < 3; i++) {
      const [single] = await explainer.explainBatch(a.slice(i * size, (i + 1) * size), b.slice(i * size, (i + 1) * size), 0.1);
      assert.ok(Math.abs(single.score - batch[i].score) < 1e-6);
      single.maps[1].combined.forEach((v, k) => assert.ok(Math.abs(v - batch[i].maps[1].combined[k]) < 1e-6));
    }
    const sum = batch[0].split.supporting.sum + batch[0].split.opposing.sum;
    assert.ok(Math.abs(sum - batch[0].score) < 1e-5);
    await explainer.release();
  });

  it('explains a batch of pairs with a ViT-style model exported at batch 1 exactly as each pair alone', async () => {
    const net = new Net([1, 3, 4, 4], 17);
    const file = path.join(tmp, 'vit.onnx');
    fs.writeFileSync(file, encodeModel(net.model(vitEncoder(net, 1))));
    fs.writeFileSync(path.join(tmp, 'vit.card.json'), JSON.stringify({ name: 'vit', channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1, inputSize: 4 }));
    const model = await loadFrModel(file);
    // The input's batch is open, but its patch Reshape pins it to 1: measured and opened, not run face by face.
    assert.deepStrictEqual(model.batch, { kind: 'relaxed', reason: 'the file leaves the batch open but pins it in shape targets; the engine opens it (1 shape target measured to carry the batch rewritten)' });
    const explainer = await Explainer.create(model);
    const size = 3 * 4 * 4;
    const [a, b] = [randomValues(3 * size, 5), randomValues(3 * size, 6)];
    const batch = await explainer.explainBatch(a, b, 0.1);
    for (let i = 0; i < 3; i++) {
      const [single] = await explainer.explainBatch(a.slice(i * size, (i + 1) * size), b.slice(i * size, (i + 1) * size), 0.1);
      assert.ok(Math.abs(single.score - batch[i].score) < 1e-5);
      for (const side of [0, 1]) single.maps[side].combined.forEach((v, k) => assert.ok(Math.abs(v - batch[i].maps[side].combined[k]) < 1e-5));
    }
    await explainer.release();
  });

  it('explains batches with a model whose batch is fixed at 1 (input [1,…], Reshapes to [1, …] from initializers and Constant nodes)', async () => {
    const net = new Net([1, 3, 6, 6]);
    net.graph.input![0] = floatValueInfo('x', [1, 3, 6, 6]);
    const conv = net.b.op('Relu', [net.b.op('Conv', ['x', net.weight([2, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
    const target = net.b.op('Constant', [], { value: makeTensor('target', [3], [1, 2, 36], DataType.INT64) });
    const flat = net.b.op('Reshape', [net.b.op('Reshape', [conv, target]), net.b.ints([1, -1])]);
    const e = net.b.op('MatMul', [flat, net.weight([72, 8])]);
    const model = await load(net, e, 'fixed-batch');
    assert.deepStrictEqual(model.batch, { kind: 'relaxed', reason: 'the file fixes batch 1; the engine opens it (2 shape targets measured to carry the batch rewritten)' });
    const explainer = await Explainer.create(model);
    const size = 3 * 6 * 6;
    const a = randomValues(2 * size, 8);
    const b = randomValues(2 * size, 9);
    const batch = await explainer.explainBatch(a, b, 0.1);
    const [second] = await explainer.explainBatch(a.slice(size), b.slice(size), 0.1);
    assert.strictEqual(batch.length, 2);
    assert.ok(Math.abs(batch[1].score - second.score) < 1e-6);
    second.maps[0].similarity.forEach((v, k) => assert.ok(Math.abs(v - batch[1].maps[0].similarity[k]) < 1e-6));
    await explainer.release();
  });

  it('opens the other graph on first use: an explainer opened for embeddings explains as one opened for explaining', async () => {
    const net = new Net([1, 3, 6, 6]);
    const e = net.b.op('Flatten', [net.b.op('Relu', [net.b.op('Conv', ['x', net.weight([4, 3, 3, 3])], { pads: [1, 1, 1, 1] })])], { axis: 1 });
    const model = await load(net, e, 'lazy');
    const [a, b] = [randomValues(108, 31), randomValues(108, 32)];
    const eager = await Explainer.create(model);
    const lazy = await Explainer.create(model, 'cpu', undefined, 'embed');
    assert.deepStrictEqual(await lazy.embed(a), await eager.embed(a));
    assert.deepStrictEqual(await lazy.explainBatch(a, b, 0.1), await eager.explainBatch(a, b, 0.1));
    await lazy.release();
    assert.deepStrictEqual(await lazy.explainBatch(a, b, 0.1), await eager.explainBatch(a, b, 0.1), 'a released explainer opens its sessions again');
    await Promise.all([eager.release(), lazy.release()]);
  });

  it('prepares a model and builds its graph once per content', async () => {
    const net = new Net([1, 3, 4, 4]);
    const e = net.b.op('Flatten', [net.b.op('Conv', ['x', net.weight([2, 3, 3, 3])])], { axis: 1 });
    const first = await load(net, e, 'cached');
    const second = await loadFrModel(path.join(tmp, 'cached.onnx'));
    assert.strictEqual(second, first);
    assert.strictEqual(explainGraphFor(second), explainGraphFor(first));
  });

  it('builds its graph without changing the model it shares weights with', async () => {
    const net = new Net([1, 3, 6, 6]);
    const e = net.b.op('Flatten', [net.b.op('Conv', ['x', net.weight([2, 3, 3, 3])], { pads: [1, 1, 1, 1] })], { axis: 1 });
    const model = await load(net, e, 'untouched');
    const before = encodeModel(model.proto);
    const graph = buildExplainGraph(model);
    assert.ok(graph.bytes.length > before.length);
    assert.deepStrictEqual(encodeModel(model.proto), before);
    assert.deepStrictEqual(buildExplainGraph(model), graph, 'a second build is the same');
  });

  it('flips each stride-1 convolution\'s kernel once, in-graph, and stores no copy of the weights', async () => {
    const net = new Net([1, 3, 6, 6]);
    let y = net.b.op('Conv', ['x', net.weight([4, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    y = net.b.op('Conv', [y, net.weight([4, 4, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] });
    y = net.b.op('Conv', [y, net.weight([2, 4, 1, 1])]);
    const model = await load(net, net.b.op('Flatten', [y], { axis: 1 }), 'flipped');
    const graph = decodeModel(buildExplainGraph(model).bytes).graph!;
    const floats = (g: typeof graph) =>
      (g.initializer ?? []).filter((t) => t.dataType === DataType.FLOAT).reduce((n, t) => n + (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1), 0);
    assert.ok(floats(graph) - floats(model.proto.graph!) < 64, `${floats(graph)} floats in the fused graph, ${floats(model.proto.graph!)} in the model`);
    const flips = (graph.node ?? []).filter((n) => n.opType === 'Transpose' && new Attributes(n).ints('perm', []).join() === '0,2,1,3,4');
    assert.strictEqual(flips.length, 2, 'two stride-1 convolutions (the strided one uses ConvTranspose), one flip each for both passes');
  });

  it('writes each small constant (axes, shapes, scalars) of the fused graph once (default model)', async () => {
    const model = await loadFrModel(defaultModelPath());
    const graph = decodeModel(buildExplainGraph(model).bytes).graph!;
    const added = (graph.initializer ?? []).filter((t) => t.name?.startsWith('xssab/'));
    const values = added.map((t) => JSON.stringify([t.dataType, (t.dims ?? []).map(Number), Buffer.from(t.rawData ?? []).toString('hex')]));
    assert.ok(added.length > 10, `${added.length} constants`);
    assert.strictEqual(new Set(values).size, values.length, 'no two constants hold the same value');
    // −0 and 0 are different scalars.
    const b = new GraphBuilder({ name: 'g' }, 18);
    assert.notStrictEqual(b.scalar(-0), b.scalar(0));
    assert.strictEqual(b.scalar(0.1), b.scalar(0.1));
    assert.strictEqual(b.ints([1, 2]), b.ints([1, 2]));
    assert.notStrictEqual(b.ints([1, 2]), b.ints([12]));
  });

  it('takes 112×112 (or the card\'s inputSize) for a model whose input leaves height and width open', async () => {
    const build = () => {
      const net = new Net([1, 3, 8, 8]);
      net.graph.input![0] = floatValueInfo('x', ['N', 3, 'H', 'W']);
      return { net, e: net.b.op('Flatten', [net.b.op('GlobalAveragePool', [net.b.op('Conv', ['x', net.weight([4, 3, 3, 3])])])], { axis: 1 }) };
    };
    const open = build();
    const model = await load(open.net, open.e, 'open-size');
    assert.deepStrictEqual(model.inputShape, [3, 112, 112]);
    assert.ok(model.warnings.some((w) => /leaves height and width open: using 112×112/.test(w)), model.warnings.join('; '));
    const sized = build();
    const file = path.join(tmp, 'open-size-64.onnx');
    fs.writeFileSync(file, encodeModel(sized.net.model(sized.e)));
    fs.writeFileSync(path.join(tmp, 'open-size-64.card.json'), JSON.stringify({ name: 'x', channelOrder: 'RGB', mean: 0, std: 1, inputSize: 64 }));
    assert.deepStrictEqual((await loadFrModel(file)).inputShape, [3, 64, 64]);
  });
});
