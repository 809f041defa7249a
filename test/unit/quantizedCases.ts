// Finite-difference cases of the quantized rules. Rounding is a staircase, so the checks use inputs
// on the quantization grid, steps that are whole multiples of it, and scales for which every
// quantization inside the op is exact: there the integer graph equals its float twin, and central
// differences measure the straight-through gradient exactly (0 where a value clips).
import { DataType, float } from '../../src/engine/onnx/proto';
import type { Net, RuleCase } from './gradcheck';
import { type QuantParams, gridValues, microsoft, quantParams } from './quantize';

const img = [2, 3, 6, 6];
const vec = [2, 6];
const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
/** Inputs k/16, |k| ≤ steps, checked with a step of `eps` (a whole number of grid steps). */
const onGrid = (shape: number[], steps = 8, eps = 1 / 16, step = 1 / 16) => ({ x: gridValues(count(shape), 5, step, steps), eps });

const quantize = (n: Net, x: string, p: QuantParams, axis?: number) => n.b.op('QuantizeLinear', [x, p.scale, p.zeroPoint], { axis });
const dequantize = (n: Net, q: string, p: QuantParams, axis?: number) => n.b.op('DequantizeLinear', [q, p.scale, p.zeroPoint], { axis });
const sixteenth = (n: Net) => quantParams(n.b, 1 / 16);
const int8 = (n: Net, dims: number[], values: number[]) => n.b.initializer('q', dims, values, DataType.INT8);
/** int8 values in [−2, 2], fixed per position. */
const smallInts = (size: number, seed: number) => Array.from(gridValues(size, seed, 1, 2));

/** x padded along axis 1 with a column of `low` in front and `high` behind: DynamicQuantizeLinear's range is then fixed. */
function withRange(n: Net, x: string, rank: number, low: number, high: number): string {
  const pads = (front: number, back: number) => n.b.ints(Array.from({ length: 2 * rank }, (_, k) => (k === 1 ? front : k === rank + 1 ? back : 0)));
  return n.b.op('Pad', [n.b.op('Pad', [x, pads(1, 0), n.b.scalar(low)]), pads(0, 1), n.b.scalar(high)]);
}

/** Range [−2, 127/64] with grid 1/64: DynamicQuantizeLinear's scale is exactly 1/64, its zero point 128. */
const dynamicGrid = (shape: number[]) => ({ x: gridValues(count(shape), 7, 1 / 64, 100), eps: 2 / 64 });

/** An op the quantizer leaves on the 8-bit tensor (QOperator format), between quantization and dequantization. */
const on8Bits = (op: string, build: (n: Net, q: string) => string): RuleCase => [
  `${op} (on uint8, as a QOperator model has it)`,
  img,
  (n) => dequantize(n, build(n, quantize(n, 'x', sixteenth(n))), sixteenth(n)),
  undefined,
  onGrid(img),
];

export const quantizedCases: RuleCase[] = [
  on8Bits('MaxPool', (n, q) => n.b.op('MaxPool', [q], { kernel_shape: [2, 2], strides: [2, 2] })),
  on8Bits('Transpose', (n, q) => n.b.op('Transpose', [q], { perm: [0, 2, 3, 1] })),
  on8Bits('Reshape', (n, q) => n.b.op('Reshape', [q, n.b.ints([0, -1])])),
  on8Bits('Pad', (n, q) => n.b.op('Pad', [q, n.b.ints([0, 0, 1, 1, 0, 0, 1, 1]), n.b.initializer('zero_point', [], [128], DataType.UINT8)])),
  on8Bits('Split', (n, q) => n.b.node('Split', [q, n.b.ints([1, 2])], { axis: 1 }, 2)[1]),
  on8Bits('Gather', (n, q) => n.b.op('Gather', [q, n.b.initializer('indices', [2], [2, 0], DataType.INT64)], { axis: 1 })),
  ['QuantizeLinear', img, (n) => dequantize(n, quantize(n, 'x', sixteenth(n)), sixteenth(n)), undefined, onGrid(img)],
  [
    // Per channel, int8, other scales on the way back: y = x·s_out/s_in per channel, 0 where channel 2 clips (|x| > 4).
    'QuantizeLinear (per channel, int8, clipping)',
    img,
    (n) => {
      const q = quantize(n, 'x', quantParams(n.b, [1 / 8, 1 / 16, 1 / 32], [0, -10, 5], DataType.INT8), 1);
      return dequantize(n, q, quantParams(n.b, [1 / 4, 1 / 16, 1 / 8], [0, -10, 5], DataType.INT8), 1);
    },
    undefined,
    onGrid(img, 48, 1 / 8, 1 / 8),
  ],
  ['DequantizeLinear', img, (n) => dequantize(n, quantize(n, 'x', sixteenth(n)), quantParams(n.b, 1 / 8)), undefined, onGrid(img)],
  [
    'QLinearConv',
    img,
    (n) => {
      const w = int8(n, [4, 3, 3, 3], smallInts(108, 1));
      const bias = n.b.initializer('bias', [4], [5, -3, 0, 17], DataType.INT32);
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 64)];
      const q = n.b.op('QLinearConv', [quantize(n, 'x', x), x.scale, x.zeroPoint, w, n.b.scalar(1 / 4), int8(n, [], [0]), y.scale, y.zeroPoint, bias], { pads: [1, 1, 1, 1] });
      return dequantize(n, q, y);
    },
    undefined,
    onGrid(img),
  ],
  [
    'QLinearConv (per-channel kernel scales and zero points, grouped, strided)',
    img,
    (n) => {
      const w = int8(n, [3, 1, 3, 3], smallInts(27, 2));
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 128)];
      const wScale = n.b.initializer('w_scale', [3], [1 / 4, 1 / 8, 1 / 4]);
      const q = n.b.op('QLinearConv', [quantize(n, 'x', x), x.scale, x.zeroPoint, w, wScale, int8(n, [3], [1, 0, -1]), y.scale, y.zeroPoint], { group: 3, strides: [2, 2], pads: [0, 0, 1, 1] });
      return dequantize(n, q, y);
    },
    undefined,
    onGrid(img),
  ],
  [
    'QLinearMatMul',
    vec,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 128)];
      const b = int8(n, [6, 4], smallInts(24, 3));
      const q = n.b.op('QLinearMatMul', [quantize(n, 'x', x), x.scale, x.zeroPoint, b, n.b.initializer('b_scale', [4], [1 / 4, 1 / 8, 1 / 4, 1 / 8]), int8(n, [4], [0, 0, 0, 0]), y.scale, y.zeroPoint]);
      return dequantize(n, q, y);
    },
    undefined,
    onGrid(vec),
  ],
  [
    // Both operands from x (x and 2x): the gradient is 3.
    'QLinearAdd',
    img,
    (n) => {
      const [a, b] = [sixteenth(n), quantParams(n.b, 1 / 8)];
      const qb = quantize(n, n.b.op('Mul', ['x', n.b.scalar(2)]), b);
      return dequantize(n, microsoft(n.b, 'QLinearAdd', [quantize(n, 'x', a), a.scale, a.zeroPoint, qb, b.scale, b.zeroPoint, a.scale, a.zeroPoint]), a);
    },
    undefined,
    onGrid(img),
  ],
  [
    'QLinearAdd (constant operand broadcast over the batch and space)',
    img,
    (n) => {
      const [a, b] = [sixteenth(n), quantParams(n.b, 1 / 4)];
      const constant = n.b.initializer('b', [3, 1, 1], [120, 128, 140], DataType.UINT8);
      return dequantize(n, microsoft(n.b, 'QLinearAdd', [constant, b.scale, b.zeroPoint, quantize(n, 'x', a), a.scale, a.zeroPoint, a.scale, a.zeroPoint]), a);
    },
    undefined,
    onGrid(img),
  ],
  [
    // x·x: both operands on the path; x² ∈ [0, 1/4] on the grid 1/256.
    'QLinearMul',
    img,
    (n) => {
      const [a, c] = [sixteenth(n), quantParams(n.b, 1 / 256, 0)];
      const q = quantize(n, 'x', a);
      return dequantize(n, microsoft(n.b, 'QLinearMul', [q, a.scale, a.zeroPoint, q, a.scale, a.zeroPoint, c.scale, c.zeroPoint]), c);
    },
    undefined,
    onGrid(img),
  ],
  [
    'QLinearGlobalAveragePool',
    [2, 3, 4, 4],
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 256)];
      return dequantize(n, microsoft(n.b, 'QLinearGlobalAveragePool', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint]), y);
    },
    undefined,
    onGrid([2, 3, 4, 4]),
  ],
  [
    'QLinearGlobalAveragePool (channels last)',
    [2, 4, 4, 3],
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 256)];
      return dequantize(n, microsoft(n.b, 'QLinearGlobalAveragePool', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint], { channels_last: 1 }), y);
    },
    undefined,
    onGrid([2, 4, 4, 3]),
  ],
  [
    // Per-column kernel scales along transB's axis 0, the int32 bias at a_scale·b_scale: exact on the 1/128 output grid.
    'QGemm',
    vec,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 128)];
      const b = int8(n, [4, 6], smallInts(24, 6));
      const bScale = n.b.initializer('b_scale', [4], [1 / 4, 1 / 8, 1 / 4, 1 / 8]);
      const bias = n.b.initializer('bias', [4], [3, -5, 0, 9], DataType.INT32);
      const q = microsoft(n.b, 'QGemm', [quantize(n, 'x', x), x.scale, x.zeroPoint, b, bScale, int8(n, [4], [0, 0, 0, 0]), bias, y.scale, y.zeroPoint], { transB: 1 });
      return dequantize(n, q, y);
    },
    undefined,
    onGrid(vec),
  ],
  [
    // No output quantization: the float result of α·A·B, α = 2, B [6, 4] quantized per column (axis 1) with zero points.
    'QGemm (float output, alpha, no bias)',
    vec,
    (n) => {
      const x = sixteenth(n);
      const b = int8(n, [6, 4], smallInts(24, 7));
      const bScale = n.b.initializer('b_scale', [4], [1 / 8, 1 / 4, 1 / 8, 1 / 4]);
      return microsoft(n.b, 'QGemm', [quantize(n, 'x', x), x.scale, x.zeroPoint, b, bScale, int8(n, [4], [1, 0, -1, 2])], { alpha: float(2) });
    },
    undefined,
    onGrid(vec),
  ],
  [
    // Output range [−1/8, 1/8): outputs beyond it clip, and no gradient flows through them.
    'QGemm (output clipping)',
    vec,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 1024)];
      const b = int8(n, [4, 6], smallInts(24, 8));
      const q = microsoft(n.b, 'QGemm', [quantize(n, 'x', x), x.scale, x.zeroPoint, b, n.b.scalar(1 / 8), int8(n, [], [0]), '', y.scale, y.zeroPoint], { transB: 1 });
      return dequantize(n, q, y);
    },
    undefined,
    onGrid(vec),
  ],
  [
    // Windows of 4 values k/16: averages on the 1/64 grid.
    'QLinearAveragePool',
    img,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 64)];
      return dequantize(n, microsoft(n.b, 'QLinearAveragePool', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint], { kernel_shape: [2, 2], strides: [2, 2] }), y);
    },
    undefined,
    onGrid(img),
  ],
  [
    // Height and width pooled differently; padded windows hold 2 or 4 values (padding not counted): still on the 1/64 grid.
    'QLinearAveragePool (channels last, padded)',
    [2, 6, 4, 3],
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 64)];
      const attrs = { kernel_shape: [2, 2], strides: [2, 1], pads: [1, 0, 1, 0], channels_last: 1 };
      return dequantize(n, microsoft(n.b, 'QLinearAveragePool', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint], attrs), y);
    },
    undefined,
    onGrid([2, 6, 4, 3]),
  ],
  [
    // Not exact: the output rounds to 1/256 (as the quantizer sets it), so a step of 1/4 bounds the difference's error.
    'QLinearSoftmax',
    vec,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 256, 0)];
      return dequantize(n, microsoft(n.b, 'QLinearSoftmax', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint], { opset: 13 }), y);
    },
    undefined,
    { ...onGrid(vec, 32, 1 / 4), atol: 1e-2 },
  ],
  [
    // An opset-11 softmax in an opset-18 model: every axis from 1 on is normalized, as one.
    'QLinearSoftmax (opset 11: the axes from 1 on)',
    [2, 3, 2, 2],
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 256, 0)];
      return dequantize(n, microsoft(n.b, 'QLinearSoftmax', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint], { opset: 11, axis: 1 }), y);
    },
    undefined,
    { ...onGrid([2, 3, 2, 2], 32, 1 / 2), atol: 2e-2 },
  ],
  [
    'QLinearConcat',
    img,
    (n) => {
      const [a, b] = [sixteenth(n), quantParams(n.b, 1 / 8)];
      const qb = quantize(n, n.b.op('Mul', ['x', n.b.scalar(-2)]), b);
      return dequantize(n, microsoft(n.b, 'QLinearConcat', [a.scale, a.zeroPoint, quantize(n, 'x', a), a.scale, a.zeroPoint, qb, b.scale, b.zeroPoint], { axis: 1 }), a);
    },
    undefined,
    onGrid(img),
  ],
  [
    // Not exact: the output rounds to 1/256, so a step of 1/4 bounds the difference's error by 1/128.
    'QLinearSigmoid',
    img,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 256, 0)];
      return dequantize(n, microsoft(n.b, 'QLinearSigmoid', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint]), y);
    },
    undefined,
    { ...onGrid(img, 32, 1 / 4), atol: 1e-2 },
  ],
  [
    'QLinearLeakyRelu',
    img,
    (n) => {
      const [x, y] = [sixteenth(n), quantParams(n.b, 1 / 64)];
      return dequantize(n, microsoft(n.b, 'QLinearLeakyRelu', [quantize(n, 'x', x), x.scale, x.zeroPoint, y.scale, y.zeroPoint], { alpha: float(0.25) }), y);
    },
    undefined,
    onGrid(img),
  ],
  [
    'DynamicQuantizeLinear',
    vec,
    (n) => {
      const [q, scale, zeroPoint] = n.b.node('DynamicQuantizeLinear', [withRange(n, 'x', 2, -2, 127 / 64)], {}, 3);
      return n.b.op('DequantizeLinear', [q, scale, zeroPoint]);
    },
    undefined,
    dynamicGrid(vec),
  ],
  [
    // y = Σ (x − x_zp)(w − w_zp) · x_scale · w_scale, w_scale = 1/4 (onnxruntime takes one kernel zero point only).
    'ConvInteger',
    img,
    (n) => {
      const [q, scale, zeroPoint] = n.b.node('DynamicQuantizeLinear', [withRange(n, 'x', 4, -2, 127 / 64)], {}, 3);
      const w = int8(n, [4, 5, 3, 3], smallInts(180, 4));
      const acc = n.b.op('ConvInteger', [q, w, zeroPoint, int8(n, [], [1])], { pads: [1, 1, 1, 1] });
      return n.b.op('Mul', [n.b.op('Cast', [acc], { to: DataType.FLOAT }), n.b.op('Mul', [scale, n.b.scalar(1 / 4)])]);
    },
    undefined,
    dynamicGrid(img),
  ],
  [
    'MatMulInteger',
    vec,
    (n) => {
      const [q, scale, zeroPoint] = n.b.node('DynamicQuantizeLinear', [withRange(n, 'x', 2, -2, 127 / 64)], {}, 3);
      const acc = n.b.op('MatMulInteger', [q, int8(n, [8, 4], smallInts(32, 5)), zeroPoint, int8(n, [4], [0, 2, -1, 1])]);
      return n.b.op('Mul', [n.b.op('Cast', [acc], { to: DataType.FLOAT }), n.b.op('Mul', [scale, n.b.initializer('w_scale', [4], [1 / 4, 1 / 8, 1 / 4, 1 / 2])])]);
    },
    undefined,
    dynamicGrid(vec),
  ],
  ['Cast', vec, (n) => n.b.op('Cast', [n.b.op('Tanh', ['x'])], { to: DataType.FLOAT })],
];
