// Test helpers for quantized models: values on a quantization grid, and quantization parameters
// as initializers, for graphs built with the engine's own builder.
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { DataType, type Graph, type Model, float as fl, floatValueInfo, makeModel } from '../../src/engine/onnx/proto';
import { Random } from '../../src/engine/random';

/** Values k·step with integer k uniform in [−steps, steps]: exactly on a quantization grid of `step`. */
export function gridValues(count: number, seed: number, step: number, steps: number): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: count }, () => step * (Math.floor(r.next() * (2 * steps + 1)) - steps));
}

/** A scale and a zero point of one quantization (per tensor, or per axis with arrays). */
export interface QuantParams {
  scale: string;
  zeroPoint: string;
}

/** uint8 (zero point 128 by default) or int8 quantization parameters as initializers. */
export function quantParams(b: GraphBuilder, scale: number | number[], zeroPoint: number | number[] = 128, type: number = DataType.UINT8): QuantParams {
  const list = (v: number | number[]) => (Array.isArray(v) ? v : [v]);
  const dims = (v: number | number[]) => (Array.isArray(v) ? [v.length] : []);
  return {
    scale: b.initializer('scale', dims(scale), list(scale)),
    zeroPoint: b.initializer('zero_point', dims(zeroPoint), list(zeroPoint), type),
  };
}

/** com.microsoft ops carry their domain on the node. */
export function microsoft(b: GraphBuilder, opType: string, inputs: string[], attrs: Parameters<GraphBuilder['op']>[2] = {}): string {
  const y = b.op(opType, inputs, attrs);
  b.nodes.at(-1)!.domain = 'com.microsoft';
  return y;
}

export const MICROSOFT_OPSET = { domain: 'com.microsoft', version: 1 };

// ------------------------------------------------------------ a tiny quantizer for one small net

/**
 * The float net of test 7c, face [N, 3, 4, 4] → embedding [N, 8]: Conv 3→4 (3×3, stride 2, pads 1),
 * PRelu, BatchNormalization, Flatten, Gemm. Every weight sits on a power-of-two grid and every
 * activation scale divides the values it quantizes, so on inputs on the input grid (1/16) whose
 * values stay in range, each quantized version computes exactly the float net.
 * Conv channels 2 and 3 are constant (zero kernels): after BatchNormalization they are −1 and
 * 127/128, which fixes the range DynamicQuantizeLinear finds before the Gemm; the Gemm ignores them.
 * Input channel 2 has zero taps at pixels (0, 0) and (3, 3), where a face may hold the input
 * range's ends (−8 and 127/16) for the first DynamicQuantizeLinear without changing anything.
 */
export const TWIN = (() => {
  const conv = Array.from(gridValues(4 * 27, 41, 1, 1)); // kernel/4, entries −1, 0, 1
  for (let m = 0; m < 4; m++) {
    for (let k = 0; k < 27; k++) if (m >= 2) conv[m * 27 + k] = 0;
    conv[m * 27 + 2 * 9 + 4] = 0; // channel 2, tap (1, 1): pixel (0, 0) from output (0, 0)
    conv[m * 27 + 2 * 9 + 8] = 0; // channel 2, tap (2, 2): pixel (3, 3) from output (1, 1)
  }
  const gemm = Array.from(gridValues(8 * 16, 43, 1, 1)); // weight/4, [8, 16]; features 8… are channels 2, 3
  for (let r = 0; r < 8; r++) for (let c = 8; c < 16; c++) gemm[r * 16 + c] = 0;
  return {
    inputStep: 1 / 16,
    conv: { weightSteps: conv, weightScale: 1 / 4, biasSteps: [3, -2, 0, 0], biasScale: 1 / 64, outScale: 1 / 64 },
    slope: [0.5, -0.5, 0.5, 0.5],
    preluScale: 1 / 128,
    // γ = 1/2 and σ² + ε = 1/4 exactly: the normalisation multiplies by 1 and shifts by a multiple of 1/128.
    bn: { scale: [0.5, 0.5, 0.5, 0.5], mean: [2 / 128, -3 / 128, 0, 0], variance: 0.25 - 2 ** -10, epsilon: 2 ** -10, bias: [-1 / 128, 4 / 128, -1, 127 / 128], outScale: 1 / 128 },
    gemm: { weightSteps: gemm, weightScale: 1 / 4, biasSteps: [5, -7, 0, 12, -3, 1, 9, -11], biasScale: 1 / 512, outScale: 1 / 512 },
  };
})();

export type TwinKind = 'float' | 'QDQ' | 'QOperator' | 'dynamic';

/** The float net of TWIN, or its QDQ, QOperator or dynamic int8 version (as onnxruntime's quantizer lays them out). */
export function twinModel(kind: TwinKind): Model {
  const graph: Graph = { name: `twin_${kind}`, node: [], initializer: [], input: [floatValueInfo('x', ['N', 3, 4, 4])], output: [] };
  const b = new GraphBuilder(graph, 13, 'twin');
  const t = TWIN;
  const scaled = (steps: number[], scale: number) => steps.map((v) => v * scale);
  const float = (dims: number[], values: number[]) => b.initializer('f', dims, values);
  const ints = (dims: number[], values: number[], type: number) => b.initializer('q', dims, values, type);
  const convAttrs = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
  const slope = float([4, 1, 1], t.slope);
  const bn = (x: string) =>
    b.op('BatchNormalization', [x, float([4], t.bn.scale), float([4], t.bn.bias), float([4], t.bn.mean), float([4], Array(4).fill(t.bn.variance))], { epsilon: fl(t.bn.epsilon) });
  const q = (scale: number) => quantParams(b, scale);
  const Q = (x: string, p: QuantParams) => b.op('QuantizeLinear', [x, p.scale, p.zeroPoint]);
  const DQ = (x: string, p: QuantParams) => b.op('DequantizeLinear', [x, p.scale, p.zeroPoint]);
  const qdq = (x: string, scale: number) => {
    const p = q(scale);
    return DQ(Q(x, p), p);
  };
  const convW = ints([4, 3, 3, 3], t.conv.weightSteps, DataType.INT8);
  const gemmW = ints([8, 16], t.gemm.weightSteps, DataType.INT8);
  const convB = ints([4], t.conv.biasSteps, DataType.INT32);
  const gemmB = ints([8], t.gemm.biasSteps, DataType.INT32);
  const wScale = (s: number) => b.scalar(s);
  let y: string;
  if (kind === 'float') {
    const c = b.op('Conv', ['x', float([4, 3, 3, 3], scaled(t.conv.weightSteps, t.conv.weightScale)), float([4], scaled(t.conv.biasSteps, t.conv.biasScale))], convAttrs);
    const h = b.op('Flatten', [bn(b.op('PRelu', [c, slope]))], { axis: 1 });
    y = b.op('Gemm', [h, float([8, 16], scaled(t.gemm.weightSteps, t.gemm.weightScale)), float([8], scaled(t.gemm.biasSteps, t.gemm.biasScale))], { transB: 1 });
  } else if (kind === 'QDQ') {
    const dequantW = (w: string, s: number) => b.op('DequantizeLinear', [w, wScale(s)]);
    const c = b.op('Conv', [qdq('x', t.inputStep), dequantW(convW, t.conv.weightScale), dequantW(convB, t.conv.biasScale)], convAttrs);
    const p = qdq(b.op('PRelu', [qdq(c, t.conv.outScale), slope]), t.preluScale);
    const h = b.op('Flatten', [qdq(bn(p), t.bn.outScale)], { axis: 1 });
    y = qdq(b.op('Gemm', [h, dequantW(gemmW, t.gemm.weightScale), dequantW(gemmB, t.gemm.biasScale)], { transB: 1 }), t.gemm.outScale);
  } else if (kind === 'QOperator') {
    const [xp, cp, pp, np, mp] = [q(t.inputStep), q(t.conv.outScale), q(t.preluScale), q(t.bn.outScale), q(t.gemm.outScale)];
    const zero = ints([], [0], DataType.INT8);
    const c = b.op('QLinearConv', [Q('x', xp), xp.scale, xp.zeroPoint, convW, wScale(t.conv.weightScale), zero, cp.scale, cp.zeroPoint, convB], convAttrs);
    const p = Q(b.op('PRelu', [DQ(c, cp), slope]), pp);
    const h = b.op('Flatten', [Q(bn(DQ(p, pp)), np)], { axis: 1 });
    const transposed = ints([16, 8], Array.from({ length: 128 }, (_, k) => t.gemm.weightSteps[(k % 8) * 16 + Math.floor(k / 8)]), DataType.INT8);
    const mm = b.op('QLinearMatMul', [h, np.scale, np.zeroPoint, transposed, wScale(t.gemm.weightScale), zero, mp.scale, mp.zeroPoint]);
    const bias = ints([8], t.gemm.biasSteps.map((v) => v + 128), DataType.UINT8);
    y = DQ(microsoft(b, 'QLinearAdd', [mm, mp.scale, mp.zeroPoint, bias, mp.scale, mp.zeroPoint, mp.scale, mp.zeroPoint]), mp);
  } else {
    // Activations quantized at run time; int32 products cast to float and scaled, then the float bias.
    const [xq, xs, xzp] = b.node('DynamicQuantizeLinear', ['x'], {}, 3);
    const acc = b.op('ConvInteger', [xq, ints([4, 3, 3, 3], t.conv.weightSteps, DataType.INT8), xzp, ints([], [0], DataType.INT8)], convAttrs);
    const convBias = b.op('Reshape', [float([4], scaled(t.conv.biasSteps, t.conv.biasScale)), b.ints([1, -1, 1, 1])]);
    const c = b.op('Add', [b.op('Mul', [b.op('Cast', [acc], { to: DataType.FLOAT }), b.op('Mul', [xs, wScale(t.conv.weightScale)])]), convBias]);
    const h = b.op('Flatten', [bn(b.op('PRelu', [c, slope]))], { axis: 1 });
    const [hq, hs, hzp] = b.node('DynamicQuantizeLinear', [h], {}, 3);
    const transposed = ints([16, 8], Array.from({ length: 128 }, (_, k) => t.gemm.weightSteps[(k % 8) * 16 + Math.floor(k / 8)]), DataType.INT8);
    const mm = b.op('MatMulInteger', [hq, transposed, hzp, ints([], [0], DataType.INT8)]);
    y = b.op('Add', [b.op('Mul', [b.op('Cast', [mm], { to: DataType.FLOAT }), b.op('Mul', [hs, wScale(t.gemm.weightScale)])]), float([8], scaled(t.gemm.biasSteps, t.gemm.biasScale))]);
  }
  const out = b.op('Identity', [y]);
  graph.output = [floatValueInfo(out, ['N', 8])];
  return makeModel(graph, 13, kind === 'QOperator' ? [MICROSOFT_OPSET] : []);
}
