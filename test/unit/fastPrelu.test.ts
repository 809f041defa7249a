// The PRelu rewrite of the graphs the engine runs: the same values bit for bit, and PRelu gone.
import * as assert from 'assert';
import * as fs from 'fs';
import { defaultModelPath, loadFrModel } from '../../src/engine/model';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { rewritePRelu, rewritePReluForward } from '../../src/engine/onnx/fastPrelu';
import { decodeModel, encodeModel } from '../../src/engine/onnx/proto';
import { collectConstants, measureShapes } from '../../src/engine/autodiff/graphInfo';
import { createSession, ort } from '../../src/engine/runtime';
import { Explainer, buildEmbedGraph, explainGraphFor } from '../../src/engine/xssab';
import { Net } from './gradcheck';

/** x [N,4,3,3] → PRelu with slopes −2, 0, 0.25, 3 per channel → Conv → PRelu with a slope computed at run time. */
function preluNet() {
  const net = new Net([1, 4, 3, 3]);
  const slope = net.b.initializer('slope', [4, 1, 1], [-2, 0, 0.25, 3]);
  const y = net.b.op('PRelu', ['x', slope]);
  const conv = net.b.op('Conv', [y, net.weight([2, 4, 1, 1])]);
  const computedSlope = net.b.op('Mul', [net.b.initializer('half', [2, 1, 1], [0.5, 1.5]), net.b.scalar(2)]);
  return { net, output: net.b.op('PRelu', [conv, computedSlope]) };
}

async function run(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const { session } = await createSession(model, 'cpu');
  try {
    const result = await session.run({ x: new ort.Tensor('float32', x, [1, 4, 3, 3]) });
    return result[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

describe('PRelu rewrite', () => {
  it('computes what PRelu computes, bit for bit, also at 0, −0, NaN and ±∞', async () => {
    const { net, output } = preluNet();
    const model = net.model(output);
    const graph = model.graph!;
    const b = new GraphBuilder(graph, net.opset);
    const rewritten = decodeModel(encodeModel(model));
    rewritten.graph!.node = rewritePRelu(b, graph.node!, collectConstants(graph));
    rewritten.graph!.initializer = graph.initializer;
    const ops = rewritten.graph!.node!.map((n) => n.opType);
    assert.strictEqual(ops.filter((op) => op === 'PRelu').length, 1, 'the PRelu with a slope computed at run time stays');
    assert.deepStrictEqual(ops.slice(0, 3), ['Greater', 'Where', 'Mul']);
    const special = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 3.5, -3.5];
    const x = Float32Array.from({ length: 36 }, (_, i) => (i < special.length ? special[i] : Math.sin(i * 7.1) * 4));
    assert.deepStrictEqual(bits(await run(encodeModel(rewritten), x)), bits(await run(encodeModel(model), x)));
  });

  it('computes PRelu of per-channel slopes with convolutions in the embedding graph: the same values, ±∞ and NaN included', async () => {
    // The PRelu's own output: a convolution after it would mix the special values away.
    const net = new Net([1, 4, 3, 3]);
    const model = net.model(net.b.op('PRelu', ['x', net.b.initializer('slope', [4, 1, 1], [-2, 0, 0.25, 3])]));
    const graph = model.graph!;
    const shapes = await measureShapes(model, 'x');
    const rewritten = decodeModel(encodeModel(model));
    rewritten.graph!.node = rewritePReluForward(new GraphBuilder(graph, net.opset), graph.node!, collectConstants(graph), shapes);
    rewritten.graph!.initializer = graph.initializer;
    const ops = rewritten.graph!.node!.map((n) => n.opType);
    assert.deepStrictEqual(ops, ['Relu', 'Conv', 'Relu', 'Conv', 'Add'], 'two depthwise convolutions');
    const special = [0, -0, NaN, Infinity, -Infinity, 1e-30, -1e-30, 3.5, -3.5, 3e38, -3e38];
    const x = Float32Array.from({ length: 36 }, (_, i) => (i < special.length ? special[i] : i < 2 * special.length ? special[i - special.length] * 0.5 : Math.sin(i * 7.1) * 4));
    const [got, want] = [await run(encodeModel(rewritten), x), await run(encodeModel(model), x)];
    // Equal as numbers (a zero's sign may differ), NaN where PRelu gives NaN.
    want.forEach((v, i) => assert.ok(v === got[i] || (Number.isNaN(v) && Number.isNaN(got[i])), `element ${i} (x = ${x[i]}): ${got[i]} instead of ${v}`));
  });

  it('leaves graphs before opset 9 (no Where) as they are', () => {
    const net = new Net([1, 4, 3, 3], 8);
    const slope = net.b.initializer('slope', [4, 1, 1], [0.1, 0.2, 0.3, 0.4]);
    net.b.op('PRelu', ['x', slope]);
    assert.deepStrictEqual(rewritePRelu(net.b, net.graph.node!, collectConstants(net.graph)), net.graph.node);
  });

  it('runs the default model without PRelu, with the embeddings of the model as it is', async () => {
    const model = await loadFrModel(defaultModelPath());
    const original = new Uint8Array(fs.readFileSync(defaultModelPath()));
    assert.ok(decodeModel(original).graph!.node!.some((n) => n.opType === 'PRelu'));
    for (const [which, graph] of [['embedding', buildEmbedGraph(model)], ['fused', explainGraphFor(model).bytes]] as const) {
      assert.ok(!decodeModel(graph).graph!.node!.some((n) => n.opType === 'PRelu'), `no PRelu left in the ${which} graph`);
    }
    const face = Float32Array.from({ length: 2 * 3 * 112 * 112 }, (_, i) => Math.sin(i * 0.37) * Math.cos(i * 0.011));
    const { session } = await createSession(original, 'cpu');
    const expected = (await session.run({ input: new ort.Tensor('float32', face, [2, 3, 112, 112]) })).embedding.data as Float32Array;
    await session.release();
    const explainer = await Explainer.create(model, 'cpu', undefined, 'embed');
    assert.deepStrictEqual(bits(await explainer.embed(face)), bits(expected));
    const [pair] = await explainer.explainBatch(face.subarray(0, 3 * 112 * 112), face.subarray(3 * 112 * 112), 0.5);
    // The fused graph keeps each convolution's output for the backward pass, so onnxruntime fuses
    // fewer nodes there: the same values up to rounding.
    const scale = Math.max(...expected.map(Math.abs));
    [...pair.embeddings[0], ...pair.embeddings[1]].forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-5 * scale, `dim ${i}: ${v} vs ${expected[i]}`));
    await explainer.release();
  });
});

