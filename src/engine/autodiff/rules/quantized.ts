// Quantized operators, as onnxruntime's quantizer writes them: QDQ (QuantizeLinear/DequantizeLinear
// around float ops), QOperator (QLinear* ops, most in the com.microsoft domain) and dynamic
// (DynamicQuantizeLinear, ConvInteger, MatMulInteger). The forward pass stays as the model has it;
// the gradients are straight-through, the estimator of quantization-aware training: rounding is
// taken as the identity inside the representable range and as zero where the value clips, and an
// integer op is differentiated as its dequantized float equivalent. Integer tensors get float32
// gradients. Scales and zero points are treated as constants (also DynamicQuantizeLinear's).
import { DataType, float } from '../../onnx/proto';
import { gemmBack, swapLast } from './arithmetic';
import { softmaxBack } from './normalization';
import { averagePoolBack, convBack, geometryDefaults } from './spatial';
import { type GradRule, type Gradient, type OpType, type RuleContext, axesFrom, grad, input, output, unsupported, where } from './types';

/** Integer range of each quantized element type (the zero point's type). */
const RANGES: Readonly<Record<number, readonly [number, number]>> = {
  [DataType.UINT8]: [0, 255],
  [DataType.INT8]: [-128, 127],
  [DataType.UINT16]: [0, 65535],
  [DataType.INT16]: [-32768, 32767],
};

/** One quantized operand: its integer tensor, scale (absent: 1) and zero point (absent: 0). */
interface Quantized {
  value: string;
  scale?: string;
  zeroPoint?: string;
}

const operand = (ctx: RuleContext, value: number, scale: number, zeroPoint: number): Quantized => ({
  value: input(ctx, value),
  scale: input(ctx, scale),
  zeroPoint: ctx.node.input?.[zeroPoint] || undefined,
});

/** No gradient for inputs `from` … the last (scales, zero points, int32 biases). */
const none = (ctx: RuleContext, from: number): null[] => (ctx.node.input ?? []).slice(from).map(() => null);

/** A value built on first use only: one per backward pass when several inputs share it. */
function once(build: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= build());
}

/**
 * A quantization parameter as float32: per tensor as it is, per axis (1-D, several values)
 * reshaped to broadcast along `axis` of a tensor of rank `rank`.
 */
function parameter(ctx: RuleContext, param: string, axis: number, rank: number): string {
  const dims = ctx.shape(param);
  const count = dims.reduce((n, d) => n * d, 1);
  const value = ctx.constantType(param) === DataType.FLOAT ? param : ctx.b.op('Cast', [param], { to: DataType.FLOAT });
  if (count === 1) return value;
  if (dims.length !== 1) unsupported(ctx, 'blocked quantization (scales of rank > 1) is not supported');
  const a = (axis + rank) % rank;
  return ctx.b.op('Reshape', [value, ctx.b.ints(Array.from({ length: rank }, (_, k) => (k === a ? count : 1)))]);
}

/** (q − zero point)·scale as float32, per tensor or along `axis`: the float twin of a quantized tensor. */
function dequantized(ctx: RuleContext, q: Quantized, axis: number, rank: number): string {
  const { b } = ctx;
  let value = b.op('Cast', [q.value], { to: DataType.FLOAT });
  if (q.zeroPoint) value = b.op('Sub', [value, parameter(ctx, q.zeroPoint, axis, rank)]);
  return q.scale ? b.op('Mul', [value, parameter(ctx, q.scale, axis, rank)]) : value;
}

/** The integer range a zero point's type gives, uint8 where the node gives none (the ONNX default). */
function integerRange(ctx: RuleContext, zeroPoint: string | undefined, fallback: number = DataType.UINT8): readonly [number, number] {
  const type = zeroPoint ? ctx.constantType(zeroPoint) : fallback;
  if (type === undefined) unsupported(ctx, 'zero points computed at run time are not supported');
  return RANGES[type] ?? unsupported(ctx, `quantization to data type ${type} is not supported (only 8- and 16-bit integers)`);
}

/**
 * The straight-through derivative of quantizing the float `value` with `scale` and `zeroPoint`:
 * 1/scale where value/scale + zero point rounds into the integer range, 0 where it clips.
 */
function passThrough(ctx: RuleContext, value: string, scale: string, zeroPoint: string | undefined, axis: number, range: readonly [number, number]): string {
  const { b } = ctx;
  const rank = ctx.shape(output(ctx)).length;
  const s = parameter(ctx, scale, axis, rank);
  let v = b.op('Div', [value, s]);
  if (zeroPoint) v = b.op('Add', [v, parameter(ctx, zeroPoint, axis, rank)]);
  // Rounding stays in range up to half a step beyond either end.
  const inside = b.op('And', [b.op('Not', [b.op('Less', [v, b.scalar(range[0] - 0.5)])]), b.op('Not', [b.op('Greater', [v, b.scalar(range[1] + 0.5)])])]);
  return where(ctx, inside, b.op('Reciprocal', [s]), b.scalar(0));
}

/**
 * A float op on the dequantized operands, with the quantized node's attributes (but those in
 * `omit`, which only the quantized op has): the value its output quantization rounds (and
 * clips), which the mask of the gradient is read from.
 */
function floatTwin(ctx: RuleContext, opType: string, inputs: readonly string[], omit: readonly string[] = []): string {
  const y = ctx.b.op(opType, inputs);
  ctx.b.nodes.at(-1)!.attribute = (ctx.node.attribute ?? []).filter((a) => !omit.includes(a.name ?? ''));
  return y;
}

/**
 * The gradient of a QLinear op's float output: the incoming gradient through its output
 * quantization (inputs `scale`, `zeroPoint`), given the float value it quantized.
 */
function throughOutput(ctx: RuleContext, scale: number, zeroPoint: number, floatValue: () => string): string {
  const zp = ctx.node.input?.[zeroPoint] || undefined;
  const local = ctx.memo('output_quantization', () => passThrough(ctx, floatValue(), input(ctx, scale), zp, 1, integerRange(ctx, zp)));
  return ctx.b.op('Mul', [grad(ctx), local]);
}

/** A QLinear op's operand gradient: from its float twin's gradient back to the integer operand. */
const toInteger = (ctx: RuleContext, g: string, q: Quantized, axis = 1): string =>
  q.scale ? ctx.b.op('Mul', [g, parameter(ctx, q.scale, axis, ctx.shape(q.value).length)]) : g;

/** Elementwise QLinear ops of com.microsoft: (X, X_scale, X_zero_point, Y_scale, Y_zero_point). */
function qlinearUnary(floatOp: string, localDerivative: (ctx: RuleContext, x: string, y: string) => string, defaults?: GradRule['defaults']): GradRule {
  return {
    defaults,
    backward: (ctx) => {
      const x = operand(ctx, 0, 1, 2);
      const rank = ctx.shape(x.value).length;
      const xf = () => ctx.memo('x', () => dequantized(ctx, x, 1, rank));
      const yf = () => ctx.memo('y', () => floatTwin(ctx, floatOp, [xf()]));
      return [
        () => {
          const g = throughOutput(ctx, 3, 4, yf);
          return toInteger(ctx, ctx.b.op('Mul', [g, ctx.memo('local', () => localDerivative(ctx, xf(), yf()))]), x);
        },
        ...none(ctx, 1),
      ];
    },
  };
}

/** QLinearAdd and QLinearMul of com.microsoft: (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp). */
function qlinearBinary(floatOp: 'Add' | 'Mul'): GradRule {
  return {
    broadcast: [0, 3],
    backward: (ctx) => {
      const [a, b] = [operand(ctx, 0, 1, 2), operand(ctx, 3, 4, 5)];
      const rank = ctx.shape(output(ctx)).length;
      const af = () => ctx.memo('a', () => dequantized(ctx, a, 1, rank));
      const bf = () => ctx.memo('b', () => dequantized(ctx, b, 1, rank));
      const g = once(() => throughOutput(ctx, 6, 7, () => ctx.b.op(floatOp, [af(), bf()])));
      // d(a + b) = 1, d(a·b)/da = b: the partner's float value.
      const times = (partner: () => string) => (floatOp === 'Add' ? g() : ctx.b.op('Mul', [g(), partner()]));
      return [() => toInteger(ctx, times(bf), a), null, null, () => toInteger(ctx, times(af), b), ...none(ctx, 4)];
    },
  };
}

export const quantizedRules = {
  QuantizeLinear: {
    defaults: { axis: 1, block_size: 0, output_dtype: 0 },
    backward: (ctx) => {
      if (ctx.int('block_size')) unsupported(ctx, 'blocked quantization is not supported');
      const zp = ctx.node.input?.[2] || undefined;
      const range = integerRange(ctx, zp, ctx.int('output_dtype') || DataType.UINT8);
      const local = () => ctx.memo('local', () => passThrough(ctx, input(ctx, 0), input(ctx, 1), zp, ctx.int('axis'), range));
      return [() => ctx.b.op('Mul', [grad(ctx), local()]), ...none(ctx, 1)];
    },
  },
  DequantizeLinear: {
    defaults: { axis: 1, block_size: 0 },
    backward: (ctx) => {
      if (ctx.int('block_size')) unsupported(ctx, 'blocked quantization is not supported');
      return [() => toInteger(ctx, grad(ctx), operand(ctx, 0, 1, 2), ctx.int('axis')), ...none(ctx, 1)];
    },
  },

  QLinearConv: {
    // (x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B): the kernel is input 3, per output channel.
    defaults: { ...geometryDefaults, group: 1, kernel_shape: (ctx) => ctx.shape(input(ctx, 3)).slice(2) },
    backward: (ctx) => {
      const [x, w] = [operand(ctx, 0, 1, 2), operand(ctx, 3, 4, 5)];
      const wShape = ctx.shape(w.value);
      const wf = () => ctx.memo('w', () => dequantized(ctx, w, 0, wShape.length));
      const yf = () => {
        const inputs = [dequantized(ctx, x, 1, wShape.length), wf()];
        // The int32 bias has scale x_scale·w_scale and zero point 0.
        const bias = ctx.node.input?.[8];
        if (bias) inputs.push(ctx.b.op('Mul', [ctx.b.op('Cast', [bias], { to: DataType.FLOAT }), ctx.b.op('Mul', [input(ctx, 1), input(ctx, 4)])]));
        return floatTwin(ctx, 'Conv', inputs);
      };
      return [() => toInteger(ctx, convBack(ctx, throughOutput(ctx, 6, 7, yf), wf(), wShape), x), ...none(ctx, 1)];
    },
  },
  QLinearMatMul: {
    // (a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp); a may be quantized per row, b per column.
    broadcast: [0, 3],
    backward: (ctx) => {
      const [a, b] = [operand(ctx, 0, 1, 2), operand(ctx, 3, 4, 5)];
      const af = () => ctx.memo('a', () => dequantized(ctx, a, -2, ctx.shape(a.value).length));
      const bf = () => ctx.memo('b', () => dequantized(ctx, b, -1, ctx.shape(b.value).length));
      const g = once(() => throughOutput(ctx, 6, 7, () => ctx.b.op('MatMul', [af(), bf()])));
      return [
        () => toInteger(ctx, ctx.b.op('MatMul', [g(), swapLast(ctx, bf(), ctx.shape(b.value).length)]), a, -2),
        null,
        null,
        () => toInteger(ctx, ctx.b.op('MatMul', [swapLast(ctx, af(), ctx.shape(a.value).length), g()]), b, -1),
        ...none(ctx, 4),
      ];
    },
  },
  QLinearAdd: qlinearBinary('Add'),
  QLinearMul: qlinearBinary('Mul'),
  QLinearGlobalAveragePool: {
    // (X, x_scale, x_zp, y_scale, y_zp); channels_last puts the channels after the spatial axes.
    defaults: { channels_last: 0 },
    backward: (ctx) => {
      const x = operand(ctx, 0, 1, 2);
      const shape = ctx.shape(x.value);
      const channelsLast = ctx.int('channels_last') === 1;
      const spatial = channelsLast ? shape.slice(1, -1) : shape.slice(2);
      const axes = spatial.map((_, k) => (channelsLast ? 1 : 2) + k);
      const count = spatial.reduce((n, d) => n * d, 1);
      const yf = () => ctx.b.op('Mul', [ctx.b.reduceSum(dequantized(ctx, x, channelsLast ? -1 : 1, shape.length), axes, true), ctx.b.scalar(1 / count)]);
      return [
        () => {
          const g = ctx.b.op('Mul', [throughOutput(ctx, 3, 4, yf), ctx.b.scalar(1 / count)]);
          return toInteger(ctx, ctx.b.op('Expand', [g, ctx.runtimeShape(x.value)]), x);
        },
        ...none(ctx, 1),
      ];
    },
  },
  QGemm: {
    // (A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp) of com.microsoft: α·op(A)·op(B) of the
    // dequantized operands plus the int32 bias C at scale a_scale·b_scale (also times α), quantized
    // with y_scale and y_zp, or float where they are absent. B may be quantized per column (of op(B)).
    defaults: { alpha: 1, transA: 0, transB: 0 },
    backward: (ctx) => {
      const [qa, qb] = [operand(ctx, 0, 1, 2), operand(ctx, 3, 4, 5)];
      const [bias, yScale, yZeroPoint] = [6, 7, 8].map((k) => ctx.node.input?.[k] || undefined);
      if (Boolean(yScale) !== Boolean(yZeroPoint)) unsupported(ctx, 'an output scale without a zero point (or the reverse) is not supported');
      const bAxis = ctx.int('transB') ? 0 : 1;
      const af = () => ctx.memo('a', () => dequantized(ctx, qa, 1, 2));
      const bf = () => ctx.memo('b', () => dequantized(ctx, qb, bAxis, 2));
      const yf = () => {
        const inputs = [af(), bf()];
        const biasScale = () => ctx.b.op('Mul', [parameter(ctx, input(ctx, 1), 0, 1), parameter(ctx, input(ctx, 4), 0, 1)]);
        if (bias) inputs.push(ctx.b.op('Mul', [ctx.b.op('Cast', [bias], { to: DataType.FLOAT }), biasScale()]));
        const alpha = float(ctx.float('alpha'));
        return ctx.b.op('Gemm', inputs, { alpha, beta: alpha, transA: ctx.int('transA'), transB: ctx.int('transB') });
      };
      const g = once(() => (yScale ? throughOutput(ctx, 7, 8, yf) : grad(ctx)));
      const [da, db] = gemmBack(ctx, g, af, bf);
      return [() => toInteger(ctx, da(), qa), null, null, () => toInteger(ctx, db(), qb, bAxis), ...none(ctx, 4)];
    },
  },
  QLinearAveragePool: {
    // (X, x_scale, x_zp, y_scale, y_zp) of com.microsoft: AveragePool of the dequantized input;
    // channels_last puts the channels after the spatial axes.
    defaults: { ...geometryDefaults, ceil_mode: 0, count_include_pad: 0, channels_last: 0 },
    backward: (ctx) => {
      if (ctx.ints('kernel_shape').length !== 2) unsupported(ctx, 'only 2-D pooling is supported');
      const x = operand(ctx, 0, 1, 2);
      const channelsLast = ctx.int('channels_last') === 1;
      const [toFirst, toLast] = [[0, 3, 1, 2], [0, 2, 3, 1]];
      const layout = (perm: number[]) => (t: string) => (channelsLast ? ctx.b.op('Transpose', [t], { perm }) : t);
      const [first, last] = [layout(toFirst), layout(toLast)];
      const channelsFirst = (shape: readonly number[]) => (channelsLast ? toFirst.map((a) => shape[a]) : shape);
      const shapes = { input: channelsFirst(ctx.shape(x.value)), output: channelsFirst(ctx.shape(output(ctx))) };
      const yf = () => last(floatTwin(ctx, 'AveragePool', [first(dequantized(ctx, x, 1, 4))], ['channels_last']));
      return [() => toInteger(ctx, last(averagePoolBack(ctx, first(throughOutput(ctx, 3, 4, yf)), shapes)), x), ...none(ctx, 1)];
    },
  },
  QLinearSoftmax: {
    // (X, X_scale, x_zp, y_scale, y_zp) of com.microsoft. Its `opset` says which Softmax it is:
    // before 13 every axis from `axis` (default 1) on is normalized, from 13 the one axis (default −1).
    defaults: { axis: (ctx) => (ctx.int('opset') >= 13 ? -1 : 1) },
    backward: (ctx) => {
      if (!ctx.has('opset')) unsupported(ctx, 'the node has no opset attribute');
      const x = operand(ctx, 0, 1, 2);
      const shape = ctx.shape(x.value);
      const axis = (ctx.int('axis') + shape.length) % shape.length;
      const axes = ctx.int('opset') >= 13 ? [axis] : axesFrom(axis, shape.length);
      const yf = () => ctx.memo('y', () => softmaxOver(ctx, dequantized(ctx, x, 1, shape.length), shape, axes));
      return [() => toInteger(ctx, softmaxBack(ctx, throughOutput(ctx, 3, 4, yf), yf(), axes), x), ...none(ctx, 1)];
    },
  },
  QLinearConcat: {
    // (Y_scale, Y_zp, then X, X_scale, X_zp for each input).
    backward: (ctx) => {
      const inputs = ctx.node.input ?? [];
      const rank = ctx.shape(output(ctx)).length;
      const axis = (ctx.int('axis') + rank) % rank;
      if (axis === 0) unsupported(ctx, 'concatenation along the batch axis is not supported');
      const parts = Array.from({ length: (inputs.length - 2) / 3 }, (_, k) => operand(ctx, 2 + 3 * k, 3 + 3 * k, 4 + 3 * k));
      const yf = () => ctx.b.op('Concat', parts.map((p, k) => ctx.memo(`x${k}`, () => dequantized(ctx, p, 1, rank))), { axis });
      const g = once(() => throughOutput(ctx, 0, 1, yf));
      let offset = 0;
      const gradients: Gradient[] = [null, null];
      for (const p of parts) {
        const [start, size] = [offset, ctx.shape(p.value)[axis]];
        offset += size;
        gradients.push(() => toInteger(ctx, ctx.b.slice(g(), [start], [start + size], [axis]), p), null, null);
      }
      return gradients;
    },
  },
  QLinearSigmoid: qlinearUnary('Sigmoid', (ctx, _x, y) => ctx.b.op('Mul', [y, ctx.b.op('Sub', [ctx.b.scalar(1), y])])),
  QLinearLeakyRelu: qlinearUnary(
    'LeakyRelu',
    (ctx, x) => where(ctx, ctx.b.op('Greater', [x, ctx.b.scalar(0)]), ctx.b.scalar(1), ctx.b.scalar(ctx.float('alpha'))),
    { alpha: 0.01 },
  ),

  DynamicQuantizeLinear: {
    // y = round(x/scale) + zp with scale and zp from x's own range, so nothing clips: dy/dx = 1/scale.
    // The scale's dependence on x (through its min and max) is not differentiated.
    backward: (ctx) => [ctx.grads[0] ? () => ctx.b.op('Div', [grad(ctx), output(ctx, 1)]) : null],
  },
  ConvInteger: {
    // (x, w, x_zp, w_zp) → int32 Σ (x − x_zp)(w − w_zp): the float convolution with kernel w − w_zp.
    defaults: { ...geometryDefaults, group: 1, kernel_shape: (ctx) => ctx.shape(input(ctx, 1)).slice(2) },
    backward: (ctx) => {
      const wShape = ctx.shape(input(ctx, 1));
      const w = { value: input(ctx, 1), zeroPoint: ctx.node.input?.[3] || undefined };
      return [() => convBack(ctx, grad(ctx), ctx.memo('w', () => centred(ctx, w.value, w.zeroPoint, 0, wShape.length)), wShape), ...none(ctx, 1)];
    },
  },
  MatMulInteger: {
    // (A, B, a_zp, b_zp) → int32 (A − a_zp)(B − b_zp); a_zp may be per row, b_zp per column.
    broadcast: [0, 1],
    backward: (ctx) => {
      const [a, b] = [input(ctx, 0), input(ctx, 1)];
      const af = () => ctx.memo('a', () => centred(ctx, a, ctx.node.input?.[2] || undefined, -2, ctx.shape(a).length));
      const bf = () => ctx.memo('b', () => centred(ctx, b, ctx.node.input?.[3] || undefined, -1, ctx.shape(b).length));
      return [
        () => ctx.b.op('MatMul', [grad(ctx), swapLast(ctx, bf(), ctx.shape(b).length)]),
        () => ctx.b.op('MatMul', [swapLast(ctx, af(), ctx.shape(a).length), grad(ctx)]),
        ...none(ctx, 2),
      ];
    },
  },
} satisfies Partial<Record<OpType, GradRule>>;

/** q − zero point as float32 (a scale of 1), per tensor or along `axis`. */
function centred(ctx: RuleContext, value: string, zeroPoint: string | undefined, axis: number, rank: number): string {
  return dequantized(ctx, { value, zeroPoint }, axis, rank);
}

/** Softmax of `x` (shaped `shape`) over `axes`, consecutive: one axis, or every axis from one on. */
function softmaxOver(ctx: RuleContext, x: string, shape: readonly number[], axes: readonly number[]): string {
  const { b } = ctx;
  const trailing = axes.at(-1) === shape.length - 1;
  // Before opset 13 Softmax normalizes every axis from `axis` on, from 13 the one axis.
  if (ctx.opset >= 13 ? axes.length === 1 : trailing) return b.op('Softmax', [x], { axis: axes[0] });
  if (!trailing) unsupported(ctx, `a softmax over one inner axis needs opset 13 or later (the model has ${ctx.opset})`);
  // Several trailing axes from opset 13 on: flattened into one, normalized, shaped back.
  const flat = b.op('Reshape', [x, b.ints([...Array(axes[0]).fill(0), -1])]);
  return b.op('Reshape', [b.op('Softmax', [flat], { axis: -1 }), ctx.runtimeShape(x)]);
}
