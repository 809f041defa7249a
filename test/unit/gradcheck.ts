// Checks the engine's vector–Jacobian products against finite differences of the forward graph.
import * as assert from 'assert';
import { collectConstants, measureShapes } from '../../src/engine/autodiff/graphInfo';
import { appendVjp } from '../../src/engine/autodiff/vjp';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { DataType, type Graph, type Model, decodeModel, encodeModel, float, floatValueInfo, makeModel } from '../../src/engine/onnx/proto';
import { Random } from '../../src/engine/random';
import { createSession, ort } from '../../src/engine/runtime';

/** Values in [−scale, scale) with every fifth one exactly 0, so kinks at 0 are exercised. */
export function randomValues(count: number, seed: number, scale = 1): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: count }, (_, i) => (i % 5 === 3 ? 0 : (2 * r.next() - 1) * scale));
}

export class Net {
  readonly graph: Graph = { name: 'test', node: [], initializer: [], input: [], output: [] };
  readonly b: GraphBuilder;
  private seed = 100;
  constructor(readonly xShape: number[], readonly opset = 18) {
    this.graph.input!.push(floatValueInfo('x', ['N', ...xShape.slice(1)]));
    this.b = new GraphBuilder(this.graph, opset, 'net');
  }
  /** A random weight initializer. */
  weight(dims: number[], scale = 0.5): string {
    return this.b.initializer('w', dims, randomValues(dims.reduce((a, c) => a * c, 1), this.seed++, scale));
  }
  positive(dims: number[]): string {
    const v = randomValues(dims.reduce((a, c) => a * c, 1), this.seed++, 0.5).map((x) => Math.abs(x) + 0.5);
    return this.b.initializer('pos', dims, v);
  }
  model(output: string): Model {
    this.graph.output = [{ name: output }];
    return modelOf(this.graph, this.opset);
  }
}

/** A model of the graph importing, besides ai.onnx, every other domain its nodes use (com.microsoft: version 1). */
function modelOf(graph: Graph, opset: number): Model {
  const domains = new Set((graph.node ?? []).map((n) => n.domain ?? '').filter((d) => d && d !== 'ai.onnx'));
  return makeModel(graph, opset, [...domains].map((domain) => ({ domain, version: 1 })));
}

export interface GradCheckOptions {
  /** Finite-difference step. */
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
  /** Scale of the random input. */
  scale?: number;
  /** Input values; random with zeros by default. */
  x?: Float32Array;
}

/** A rule's check: its name (the op, or "Op (what differs)"), input shape, net, opset and check options. */
export type RuleCase = [name: string, xShape: number[], build: (net: Net) => string, opset?: number, options?: GradCheckOptions];

export interface GradCheckReport {
  checked: number;
  /** Elements at a kink, where the rule's value lay between the one-sided differences. */
  atKinks: number;
  maxError: number;
}

/**
 * Compares the VJP of output `y` w.r.t. `x` (batch of 2) with central differences of ⟨y(x), c⟩
 * for every input element. At kinks (one-sided differences disagree) the rule's value must lie
 * between them; such elements must stay rare, or the check fails.
 */
export async function gradCheck(net: Net, output: string, options: GradCheckOptions = {}): Promise<GradCheckReport> {
  const { eps = 1e-2, atol = 2e-3, rtol = 2e-2, seed = 1, scale = 1 } = options;
  // Through the protobuf encoding, so rules read attributes as decoded from a file (int64 as Long).
  const forward = decodeModel(encodeModel(net.model(output)));
  const shapes = await measureShapes(forward, 'x');
  const outShape = [2, ...shapes.get(output)!.slice(1)];
  const xShape = [2, ...net.xShape.slice(1)];

  const vjpGraph: Graph = structuredClone(forward.graph!);
  vjpGraph.input!.push(floatValueInfo('ct', ['N', ...outShape.slice(1)]));
  const b = new GraphBuilder(vjpGraph, net.opset);
  const [gx] = appendVjp(b, { shapes, constants: collectConstants(vjpGraph) }, { input: 'x', output, cotangents: ['ct'] });
  vjpGraph.output = [{ name: gx }];
  const vjp = await createSession(encodeModel(modelOf(vjpGraph, net.opset)), 'cpu');
  const fwd = await createSession(encodeModel(forward), 'cpu');

  const n = xShape.reduce((a, c) => a * c, 1);
  const x = options.x ?? randomValues(n, seed, scale);
  const ct = randomValues(outShape.reduce((a, c) => a * c, 1), seed + 7);
  const analytic = (await vjp.session.run({
    x: new ort.Tensor('float32', x, xShape),
    ct: new ort.Tensor('float32', ct, outShape),
  }))[gx].data as Float32Array;

  const objective = async (input: Float32Array) => {
    const y = (await fwd.session.run({ x: new ort.Tensor('float32', input, xShape) }))[output].data as Float32Array;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * ct[i];
    return s;
  };
  const f0 = await objective(x);
  const report: GradCheckReport = { checked: n, atKinks: 0, maxError: 0 };
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const plus = Float32Array.from(x);
    const minus = Float32Array.from(x);
    plus[i] += eps;
    minus[i] -= eps;
    const [fp, fm] = [await objective(plus), await objective(minus)];
    const central = (fp - fm) / (2 * eps);
    const [left, right] = [(f0 - fm) / eps, (fp - f0) / eps];
    const tolerance = atol + rtol * Math.abs(central);
    const error = Math.abs(analytic[i] - central);
    if (error <= tolerance) {
      report.maxError = Math.max(report.maxError, error);
    } else if (analytic[i] >= Math.min(left, right) - tolerance && analytic[i] <= Math.max(left, right) + tolerance) {
      report.atKinks++;
    } else {
      failures.push(`x[${i}]=${x[i].toFixed(4)}: rule ${analytic[i].toFixed(5)}, central ${central.toFixed(5)} (left ${left.toFixed(5)}, right ${right.toFixed(5)})`);
    }
  }
  await Promise.all([vjp.session.release(), fwd.session.release()]);
  assert.deepStrictEqual(failures.slice(0, 5), [], `${failures.length} of ${n} elements disagree with finite differences`);
  assert.ok(report.atKinks <= n * 0.25, `${report.atKinks} of ${n} elements were only explained as kinks`);
  return report;
}

/**
 * A tiny ViT-style face embedder on [N, 3, 4, 4] inputs (opset 17): 2×2 patch embedding, a class
 * token expanded to the batch as exporters do (its shape read from the input), positional
 * embedding, LayerNorm, single-head self-attention and an MLP with GELU written with Erf (both
 * residual), then the class token's embedding. `tokensBatch` is the batch the token Reshape names:
 * 0 (copy it) or 1 (fixed, as a batch-1 export writes it). Returns the embedding [N, 6].
 */
export function vitEncoder(net: Net, tokensBatch: 0 | 1): string {
  const width = 8;
  const { b } = net;
  const dense = (x: string, from: number, to: number, scale = 0.4) => b.op('Add', [b.op('MatMul', [x, net.weight([from, to], scale)]), net.weight([to], 0.1)]);
  const layerNorm = (x: string) => b.op('LayerNormalization', [x, net.positive([width]), net.weight([width], 0.1)], { axis: -1, epsilon: float(1e-6) });
  const patches = b.op('Conv', ['x', net.weight([width, 3, 2, 2]), net.weight([width], 0.1)], { strides: [2, 2] });
  const embedded = b.op('Transpose', [b.op('Reshape', [patches, b.ints([tokensBatch, width, 4])])], { perm: [0, 2, 1] });
  const batch = b.op('Slice', [b.op('Shape', ['x']), b.ints([0]), b.ints([1])]);
  const classToken = b.op('Expand', [net.weight([1, 1, width]), b.op('Concat', [batch, b.ints([1, width])], { axis: 0 })]);
  const tokens = b.op('Add', [b.op('Concat', [classToken, embedded], { axis: 1 }), net.weight([5, width], 0.2)]);
  const h = layerNorm(tokens);
  const [q, k, v] = [0, 1, 2].map(() => b.op('MatMul', [h, net.weight([width, width], 0.4)]));
  const scores = b.op('Mul', [b.op('MatMul', [q, b.op('Transpose', [k], { perm: [0, 2, 1] })]), b.scalar(1 / Math.sqrt(width))]);
  const attended = b.op('MatMul', [b.op('Softmax', [scores], { axis: -1 }), v]);
  const mixed = b.op('Add', [tokens, dense(attended, width, width)]);
  const hidden = dense(layerNorm(mixed), width, 16, 1);
  const gelu = b.op('Mul', [b.op('Mul', [hidden, b.scalar(0.5)]), b.op('Add', [b.op('Erf', [b.op('Div', [hidden, b.scalar(Math.SQRT2)])]), b.scalar(1)])]);
  const out = b.op('Add', [mixed, dense(gelu, 16, width)]);
  const cls = b.op('Gather', [out, b.initializer('class_index', [], [0], DataType.INT64)], { axis: 1 });
  return b.op('Gemm', [cls, net.weight([6, width], 0.4)], { transB: 1 });
}
