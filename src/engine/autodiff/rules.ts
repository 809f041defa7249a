// Gradient rules, one per ONNX op type. A rule receives the gradient of the node's outputs and
// returns one gradient per input (null where the input is constant or not differentiable).
// Tensors that depend on the model input carry the batch in dimension 0.
import type { GraphBuilder } from '../onnx/builder';
import { Attributes, DataType, type Node, float } from '../onnx/proto';

export interface RuleContext {
  readonly node: Node;
  readonly attrs: Attributes;
  readonly b: GraphBuilder;
  /** Gradient of each output, null where none flows back. */
  readonly grads: readonly (string | null)[];
  /** Whether input i depends on the model input (only those need a gradient). */
  needs(i: number): boolean;
  /** Static shape measured at batch 1. */
  shape(name: string): readonly number[];
  /** Values of a constant tensor, or undefined when it is computed at run time. */
  constant(name: string): Float32Array | undefined;
  constantInts(name: string): number[] | undefined;
  /**
   * Builds a tensor that depends only on forward values once per node and key, so the
   * backward passes of several cotangents share it.
   */
  memo(key: string, build: () => string): string;
  /** Shape of a forward tensor at run time (batch included). */
  runtimeShape(name: string): string;
}

export type GradRule = (ctx: RuleContext) => (string | null)[];

export class UnsupportedGradientError extends Error {}

const input = (ctx: RuleContext, i: number) => ctx.node.input![i];
const output = (ctx: RuleContext, i = 0) => ctx.node.output![i];
const grad = (ctx: RuleContext, i = 0) => ctx.grads[i]!;
const only = (ctx: RuleContext, g: string): (string | null)[] => [g, ...(ctx.node.input ?? []).slice(1).map(() => null)];

function unsupported(ctx: RuleContext, what: string): never {
  throw new UnsupportedGradientError(`${ctx.node.opType} node "${ctx.node.name ?? ''}": ${what}`);
}

/** Sums a broadcast gradient back to the shape of input i. */
function unbroadcast(ctx: RuleContext, g: string, i: number): string {
  const target = ctx.shape(input(ctx, i));
  const full = ctx.shape(output(ctx));
  const lead = full.length - target.length;
  const axes: number[] = [];
  for (let a = 0; a < full.length; a++) {
    if (a < lead || (target[a - lead] === 1 && full[a] !== 1)) axes.push(a);
  }
  if (axes.length === 0) return g;
  const summed = ctx.b.reduceSum(g, axes, true);
  return lead === 0 ? summed : ctx.b.op('Reshape', [summed, ctx.runtimeShape(input(ctx, i))]);
}

/** Gradient of an elementwise op: g times a local derivative built from forward values. */
function elementwise(localDerivative: (ctx: RuleContext) => string): GradRule {
  return (ctx) => only(ctx, ctx.b.op('Mul', [grad(ctx), ctx.memo('local', () => localDerivative(ctx))]));
}

/** Gradient of ops that only rearrange elements into a new shape. */
const reshapeBack: GradRule = (ctx) => only(ctx, ctx.b.op('Reshape', [grad(ctx), ctx.runtimeShape(input(ctx, 0))]));

const identity: GradRule = (ctx) => only(ctx, grad(ctx));

/** Where(cond, a, b) with float scalars or tensors. */
function where(ctx: RuleContext, cond: string, a: string, b: string): string {
  return ctx.b.op('Where', [cond, a, b]);
}

/** Axes, attribute or input, of a Reduce* node; empty means all (or none with noop_with_empty_axes). */
function reduceAxes(ctx: RuleContext, axesInputSince: number): number[] {
  const rank = ctx.shape(input(ctx, 0)).length;
  let axes: number[] | undefined;
  if (ctx.b.opset >= axesInputSince) {
    const name = ctx.node.input?.[1];
    if (name) {
      axes = ctx.constantInts(name);
      if (!axes) unsupported(ctx, 'axes computed at run time are not supported');
    }
  } else if (ctx.attrs.has('axes')) {
    axes = ctx.attrs.ints('axes', []);
  }
  if (!axes || axes.length === 0) {
    if (ctx.attrs.int('noop_with_empty_axes', 0)) return [];
    axes = Array.from({ length: rank }, (_, a) => a);
  }
  return axes.map((a) => (a < 0 ? a + rank : a));
}

/** Broadcasts the gradient of a reduction back over the reduced axes. */
function expandReduced(ctx: RuleContext, g: string, axes: readonly number[]): string {
  const inShape = ctx.shape(input(ctx, 0));
  let kept = g;
  if (!ctx.attrs.int('keepdims', 1)) {
    const keptShape = inShape.map((d, a) => (axes.includes(a) ? 1 : a === 0 ? -1 : d));
    kept = ctx.b.op('Reshape', [g, ctx.b.ints(keptShape)]);
  }
  return ctx.b.op('Expand', [kept, ctx.runtimeShape(input(ctx, 0))]);
}

function reducedCount(ctx: RuleContext, axes: readonly number[]): number {
  const shape = ctx.shape(input(ctx, 0));
  return axes.reduce((n, a) => n * shape[a], 1);
}

/** Axes `axis` … rank − 1. */
function axesFrom(axis: number, rank: number): number[] {
  return Array.from({ length: rank - axis }, (_, k) => axis + k);
}

/** c·exp(−k·x²): the derivative of Erf (c = 2/√π, k = 1) and the normal density (c = 1/√(2π), k = 1/2). */
function gaussian(ctx: RuleContext, x: string, c: number, k: number): string {
  const { b } = ctx;
  return b.op('Mul', [b.scalar(c), b.op('Exp', [b.op('Mul', [b.op('Mul', [x, x]), b.scalar(-k)])])]);
}

/** Max and Min of two inputs: the gradient goes to the input picked. */
function pickRule(secondWins: 'Less' | 'Greater'): GradRule {
  return (ctx) => {
    if (ctx.node.input?.length !== 2) unsupported(ctx, 'only two inputs are supported');
    const { b } = ctx;
    // Max takes the second input only where the first is less (Min: greater), so a tie goes to the first.
    const second = ctx.memo('second', () => b.op(secondWins, [input(ctx, 0), input(ctx, 1)]));
    const zero = b.scalar(0);
    return [
      ctx.needs(0) ? unbroadcast(ctx, where(ctx, second, zero, grad(ctx)), 0) : null,
      ctx.needs(1) ? unbroadcast(ctx, where(ctx, second, grad(ctx), zero), 1) : null,
    ];
  };
}

// ------------------------------------------------------------ spatial ops (Conv, pools)

interface Geometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
}

/** Kernel geometry with auto_pad resolved to explicit pads from the static shapes. */
function spatialGeometry(ctx: RuleContext, kernel: number[]): Geometry {
  const spatial = kernel.length;
  const inShape = ctx.shape(input(ctx, 0)).slice(2);
  const strides = ctx.attrs.ints('strides', Array(spatial).fill(1));
  const dilations = ctx.attrs.ints('dilations', Array(spatial).fill(1));
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let pads = ctx.attrs.ints('pads', Array(2 * spatial).fill(0));
  if (autoPad === 'VALID') pads = Array(2 * spatial).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = Array(2 * spatial).fill(0);
    for (let a = 0; a < spatial; a++) {
      const effective = (kernel[a] - 1) * dilations[a] + 1;
      const total = Math.max(0, (Math.ceil(inShape[a] / strides[a]) - 1) * strides[a] + effective - inShape[a]);
      const small = Math.floor(total / 2);
      pads[a] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[a + spatial] = total - pads[a];
    }
  }
  return { kernel, strides, dilations, padsBegin: pads.slice(0, spatial), padsEnd: pads.slice(spatial) };
}

/**
 * Pads and output_padding of the ConvTranspose that maps an output-sized gradient back onto the
 * input size: output = s·(out−1) + op + eff − pb − pe must equal the input size.
 */
function transposeGeometry(ctx: RuleContext, geo: Geometry): { pads: number[]; outputPadding: number[] } {
  const inShape = ctx.shape(input(ctx, 0)).slice(2);
  const outShape = ctx.shape(output(ctx)).slice(2);
  const ends: number[] = [];
  const outputPadding: number[] = [];
  geo.kernel.forEach((k, a) => {
    const effective = (k - 1) * geo.dilations[a] + 1;
    const end = geo.strides[a] * (outShape[a] - 1) + effective - geo.padsBegin[a] - inShape[a];
    ends.push(Math.max(end, 0));
    outputPadding.push(Math.max(-end, 0));
  });
  return { pads: [...geo.padsBegin, ...ends], outputPadding };
}

/**
 * The spatially flipped, per-group channel-transposed kernel [M, C/g, kh, kw] → [C, M/g, kh, kw],
 * as graph nodes: onnxruntime folds them into one constant when the weights are constant, so the
 * model file holds no second copy of them. Slice with steps needs opset 10.
 */
function flippedKernel(ctx: RuleContext, w: string, group: number): string {
  const { b } = ctx;
  const [m, cPerGroup, kh, kw] = ctx.shape(w);
  const grouped = b.op('Reshape', [w, b.ints([group, m / group, cPerGroup, kh, kw])]);
  const swapped = b.op('Reshape', [b.op('Transpose', [grouped], { perm: [0, 2, 1, 3, 4] }), b.ints([cPerGroup * group, m / group, kh, kw])]);
  // Steps −1 from the last index; an end of −(size + 1) runs through index 0.
  return b.op('Slice', [swapped, b.ints([-1, -1]), b.ints([-(kh + 1), -(kw + 1)]), b.ints([2, 3]), b.ints([-1, -1])]);
}

const convRule: GradRule = (ctx) => {
  const wName = input(ctx, 1);
  const wShape = ctx.shape(wName);
  const group = ctx.attrs.int('group', 1);
  const geo = spatialGeometry(ctx, ctx.attrs.ints('kernel_shape', wShape.slice(2)));
  if (ctx.needs(1)) unsupported(ctx, 'gradients with respect to the weights are not supported');
  const g = grad(ctx);
  // Stride 1 with a 2-D kernel: a plain Conv with the flipped kernel is ~1.8× faster than ConvTranspose.
  // With stride 1 the flipped convolution maps the output size back onto the input size exactly.
  const reach = geo.kernel.map((k, a) => (k - 1) * geo.dilations[a]);
  const flippedPads = [...reach.map((r, a) => r - geo.padsBegin[a]), ...reach.map((r, a) => r - geo.padsEnd[a])];
  if (ctx.b.opset >= 10 && wShape.length === 4 && geo.strides.every((s) => s === 1) && flippedPads.every((p) => p >= 0)) {
    // One flipped kernel per node, shared by the backward passes of all cotangents.
    const flipped = ctx.memo('flipped_kernel', () => flippedKernel(ctx, wName, group));
    return [ctx.b.op('Conv', [g, flipped], { group, dilations: geo.dilations, pads: flippedPads }), null, null];
  }
  const { pads, outputPadding } = transposeGeometry(ctx, geo);
  const gx = ctx.b.op('ConvTranspose', [g, wName], {
    group,
    strides: geo.strides,
    dilations: geo.dilations,
    pads,
    output_padding: outputPadding,
    kernel_shape: geo.kernel,
  });
  return [gx, null, null];
};

const averagePoolRule: GradRule = (ctx) => {
  const kernel = ctx.attrs.ints('kernel_shape', []);
  if (kernel.length !== 2) unsupported(ctx, 'only 2-D pooling is supported');
  const geo = spatialGeometry(ctx, kernel);
  const [channels, inH, inW] = ctx.shape(input(ctx, 0)).slice(1);
  const [outH, outW] = ctx.shape(output(ctx)).slice(2);
  const includePad = ctx.attrs.int('count_include_pad', 0) === 1;
  // How many input elements each window averaged: windows are clipped to the padded (or plain) input.
  const lo = includePad ? [-geo.padsBegin[0], -geo.padsBegin[1]] : [0, 0];
  const hi = includePad ? [inH + geo.padsEnd[0], inW + geo.padsEnd[1]] : [inH, inW];
  const inverseCount = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      let count = 1;
      [y, x].forEach((o, a) => {
        let n = 0;
        for (let k = 0; k < kernel[a]; k++) {
          const p = o * geo.strides[a] - geo.padsBegin[a] + k * geo.dilations[a];
          if (p >= lo[a] && p < hi[a]) n++;
        }
        count *= n;
      });
      inverseCount[y * outW + x] = 1 / count;
    }
  const scaled = ctx.b.op('Mul', [grad(ctx), ctx.b.initializer('pool_inverse_count', [1, 1, outH, outW], inverseCount)]);
  const ones = ctx.b.initializer('pool_ones', [channels, 1, ...kernel], new Float32Array(channels * kernel[0] * kernel[1]).fill(1));
  const { pads, outputPadding } = transposeGeometry(ctx, geo);
  return only(
    ctx,
    ctx.b.op('ConvTranspose', [scaled, ones], {
      group: channels,
      strides: geo.strides,
      dilations: geo.dilations,
      pads,
      output_padding: outputPadding,
    }),
  );
};

const maxPoolRule: GradRule = (ctx) => {
  if (ctx.b.opset < 16) unsupported(ctx, 'MaxPool gradients need opset 16 or later (ScatterElements with reduction)');
  const x = input(ctx, 0);
  const { b } = ctx;
  const flatIndices = ctx.memo('indices', () => {
    // The same pooling again, now with the Indices output the forward node may not have.
    const { attrs } = ctx;
    const ints = (name: string) => (attrs.has(name) ? attrs.ints(name, []) : undefined);
    const [, indices] = b.node(
      'MaxPool',
      [x],
      {
        kernel_shape: ints('kernel_shape'),
        strides: ints('strides'),
        pads: ints('pads'),
        dilations: ints('dilations'),
        ceil_mode: attrs.int('ceil_mode', 0),
        auto_pad: attrs.has('auto_pad') ? attrs.string('auto_pad', 'NOTSET') : undefined,
      },
      2,
    );
    return b.op('Reshape', [indices, b.ints([-1])]);
  });
  const zeros = ctx.memo('zeros', () => b.op('ConstantOfShape', [b.op('Reshape', [b.op('Size', [x]), b.ints([1])])], {}));
  // Overlapping windows can pick one input twice: the contributions must add, not overwrite.
  const scattered = b.op('ScatterElements', [zeros, flatIndices, b.op('Reshape', [grad(ctx), b.ints([-1])])], { axis: 0, reduction: 'add' });
  return only(ctx, b.op('Reshape', [scattered, ctx.runtimeShape(x)]));
};

// ------------------------------------------------------------ the table

export const GRADIENT_RULES: Record<string, GradRule> = {
  Identity: identity,
  Dropout: identity,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,

  Neg: (ctx) => only(ctx, ctx.b.op('Neg', [grad(ctx)])),
  Abs: elementwise((ctx) => ctx.b.op('Sign', [input(ctx, 0)])),
  Relu: elementwise((ctx) => ctx.b.op('Cast', [ctx.b.op('Greater', [input(ctx, 0), ctx.b.scalar(0)])], { to: DataType.FLOAT })),
  LeakyRelu: elementwise((ctx) =>
    where(ctx, ctx.b.op('Greater', [input(ctx, 0), ctx.b.scalar(0)]), ctx.b.scalar(1), ctx.b.scalar(ctx.attrs.float('alpha', 0.01))),
  ),
  PRelu: (ctx) => {
    if (ctx.needs(1)) unsupported(ctx, 'gradients with respect to the slope are not supported');
    const local = ctx.memo('local', () =>
      where(ctx, ctx.b.op('Greater', [input(ctx, 0), ctx.b.scalar(0)]), ctx.b.scalar(1), input(ctx, 1)),
    );
    return [ctx.b.op('Mul', [grad(ctx), local]), null];
  },
  Sigmoid: elementwise((ctx) => {
    const y = output(ctx);
    return ctx.b.op('Mul', [y, ctx.b.op('Sub', [ctx.b.scalar(1), y])]);
  }),
  Tanh: elementwise((ctx) => {
    const y = output(ctx);
    return ctx.b.op('Sub', [ctx.b.scalar(1), ctx.b.op('Mul', [y, y])]);
  }),
  HardSigmoid: elementwise((ctx) => {
    const { b } = ctx;
    const alpha = ctx.attrs.float('alpha', 0.2);
    const beta = ctx.attrs.float('beta', 0.5);
    const z = b.op('Add', [b.op('Mul', [input(ctx, 0), b.scalar(alpha)]), b.scalar(beta)]);
    const inside = b.op('And', [b.op('Greater', [z, b.scalar(0)]), b.op('Less', [z, b.scalar(1)])]);
    return where(ctx, inside, b.scalar(alpha), b.scalar(0));
  }),
  HardSwish: elementwise((ctx) => {
    // y = x·clip(x/6 + 1/2, 0, 1): slope 0 below −3, 1 above 3, x/3 + 1/2 between.
    const { b } = ctx;
    const x = input(ctx, 0);
    const middle = b.op('Add', [b.op('Mul', [x, b.scalar(1 / 3)]), b.scalar(0.5)]);
    const upper = where(ctx, b.op('Greater', [x, b.scalar(3)]), b.scalar(1), middle);
    return where(ctx, b.op('Less', [x, b.scalar(-3)]), b.scalar(0), upper);
  }),
  Clip: (ctx) => {
    const { b } = ctx;
    const x = input(ctx, 0);
    const bound = (i: number, attr: string): string | undefined => {
      if (b.opset >= 11) return ctx.node.input?.[i] || undefined;
      return ctx.attrs.has(attr) ? b.scalar(ctx.attrs.float(attr, 0)) : undefined;
    };
    const local = ctx.memo('local', () => {
      const lo = bound(1, 'min');
      const hi = bound(2, 'max');
      const conditions = [lo && b.op('Not', [b.op('Less', [x, lo])]), hi && b.op('Not', [b.op('Greater', [x, hi])])].filter(
        (c): c is string => !!c,
      );
      if (conditions.length === 0) return b.scalar(1);
      const inside = conditions.length === 2 ? b.op('And', conditions) : conditions[0];
      return b.op('Cast', [inside], { to: DataType.FLOAT });
    });
    return only(ctx, b.op('Mul', [grad(ctx), local]));
  },
  Sqrt: elementwise((ctx) => ctx.b.op('Div', [ctx.b.scalar(0.5), output(ctx)])),
  Exp: elementwise((ctx) => output(ctx)),
  Log: elementwise((ctx) => ctx.b.op('Reciprocal', [input(ctx, 0)])),
  Reciprocal: elementwise((ctx) => {
    const y = output(ctx);
    return ctx.b.op('Neg', [ctx.b.op('Mul', [y, y])]);
  }),
  Erf: elementwise((ctx) => gaussian(ctx, input(ctx, 0), 2 / Math.sqrt(Math.PI), 1)),
  Gelu: elementwise((ctx) => {
    const { b } = ctx;
    const x = input(ctx, 0);
    if (ctx.attrs.string('approximate', 'none') === 'tanh') {
      // y = x/2·(1 + t), t = tanh(c·(x + a·x³))  →  y' = (1 + t)/2 + x/2·(1 − t²)·c·(1 + 3a·x²)
      const [c, a] = [Math.sqrt(2 / Math.PI), 0.044715];
      const square = b.op('Mul', [x, x]);
      const t = b.op('Tanh', [b.op('Mul', [b.op('Add', [x, b.op('Mul', [b.op('Mul', [square, x]), b.scalar(a)])]), b.scalar(c)])]);
      const slope = b.op('Mul', [b.op('Add', [b.op('Mul', [square, b.scalar(3 * a)]), b.scalar(1)]), b.scalar(c)]);
      const outer = b.op('Mul', [b.op('Mul', [x, b.scalar(0.5)]), b.op('Sub', [b.scalar(1), b.op('Mul', [t, t])])]);
      return b.op('Add', [b.op('Mul', [b.op('Add', [t, b.scalar(1)]), b.scalar(0.5)]), b.op('Mul', [outer, slope])]);
    }
    // y = x·Φ(x)  →  y' = Φ(x) + x·φ(x)
    const cdf = b.op('Mul', [b.op('Add', [b.op('Erf', [b.op('Mul', [x, b.scalar(Math.SQRT1_2)])]), b.scalar(1)]), b.scalar(0.5)]);
    return b.op('Add', [cdf, b.op('Mul', [x, gaussian(ctx, x, 1 / Math.sqrt(2 * Math.PI), 0.5)])]);
  }),
  Pow: (ctx) => {
    if (ctx.needs(1)) unsupported(ctx, 'gradients with respect to the exponent are not supported');
    const { b } = ctx;
    const exponent = input(ctx, 1);
    const p = ctx.constant(exponent) ?? unsupported(ctx, 'exponents computed at run time are not supported');
    // y = x^p  →  y' = p·x^(p−1), and 0 where p = 0 (not 0·0^−1 at x = 0).
    const local = ctx.memo('local', () => {
      const dims = ctx.shape(exponent);
      const lowered = b.initializer('pow_lowered', dims, p.map((v) => (v === 0 ? 0 : v - 1)));
      return b.op('Mul', [b.initializer('pow_exponent', dims, p), b.op('Pow', [input(ctx, 0), lowered])]);
    });
    return [unbroadcast(ctx, b.op('Mul', [grad(ctx), local]), 0), null];
  },

  Add: (ctx) => [ctx.needs(0) ? unbroadcast(ctx, grad(ctx), 0) : null, ctx.needs(1) ? unbroadcast(ctx, grad(ctx), 1) : null],
  Sub: (ctx) => [
    ctx.needs(0) ? unbroadcast(ctx, grad(ctx), 0) : null,
    ctx.needs(1) ? unbroadcast(ctx, ctx.b.op('Neg', [grad(ctx)]), 1) : null,
  ],
  Mul: (ctx) => [
    ctx.needs(0) ? unbroadcast(ctx, ctx.b.op('Mul', [grad(ctx), input(ctx, 1)]), 0) : null,
    ctx.needs(1) ? unbroadcast(ctx, ctx.b.op('Mul', [grad(ctx), input(ctx, 0)]), 1) : null,
  ],
  Div: (ctx) => [
    ctx.needs(0) ? unbroadcast(ctx, ctx.b.op('Div', [grad(ctx), input(ctx, 1)]), 0) : null,
    // d(a/b)/db = −(a/b)/b
    ctx.needs(1)
      ? unbroadcast(ctx, ctx.b.op('Neg', [ctx.b.op('Div', [ctx.b.op('Mul', [grad(ctx), output(ctx)]), input(ctx, 1)])]), 1)
      : null,
  ],
  Sum: (ctx) => (ctx.node.input ?? []).map((_, i) => (ctx.needs(i) ? unbroadcast(ctx, grad(ctx), i) : null)),
  Max: pickRule('Less'),
  Min: pickRule('Greater'),

  MatMul: (ctx) => {
    const { b } = ctx;
    const swapLast = (name: string) => {
      const rank = ctx.shape(name).length;
      if (rank < 2) unsupported(ctx, '1-D operands are not supported');
      const perm = Array.from({ length: rank }, (_, a) => a);
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
      return b.op('Transpose', [name], { perm });
    };
    return [
      ctx.needs(0) ? unbroadcast(ctx, b.op('MatMul', [grad(ctx), swapLast(input(ctx, 1))]), 0) : null,
      ctx.needs(1) ? unbroadcast(ctx, b.op('MatMul', [swapLast(input(ctx, 0)), grad(ctx)]), 1) : null,
    ];
  },
  Gemm: (ctx) => {
    const { b } = ctx;
    const alpha = float(ctx.attrs.float('alpha', 1));
    const transA = ctx.attrs.int('transA', 0);
    const transB = ctx.attrs.int('transB', 0);
    const g = grad(ctx);
    const [a, bb] = [input(ctx, 0), input(ctx, 1)];
    // Y = α·op(A)·op(B) + β·C
    const gA = transA
      ? b.op('Gemm', [bb, g], { alpha, transA: transB, transB: 1 })
      : b.op('Gemm', [g, bb], { alpha, transB: 1 - transB });
    const gB = transB
      ? b.op('Gemm', [g, a], { alpha, transA: 1, transB: transA })
      : b.op('Gemm', [a, g], { alpha, transA: 1 - transA });
    const beta = ctx.attrs.float('beta', 1);
    const gC = ctx.node.input?.[2] && ctx.needs(2) ? unbroadcast(ctx, b.op('Mul', [g, b.scalar(beta)]), 2) : null;
    return [ctx.needs(0) ? gA : null, ctx.needs(1) ? gB : null, gC];
  },

  Transpose: (ctx) => {
    const rank = ctx.shape(input(ctx, 0)).length;
    const perm = ctx.attrs.ints('perm', Array.from({ length: rank }, (_, a) => rank - 1 - a));
    const inverse = new Array<number>(rank);
    perm.forEach((p, a) => (inverse[p] = a));
    return only(ctx, ctx.b.op('Transpose', [grad(ctx)], { perm: inverse }));
  },
  Expand: (ctx) => [ctx.needs(0) ? unbroadcast(ctx, grad(ctx), 0) : null, null],
  Concat: (ctx) => {
    const rank = ctx.shape(output(ctx)).length;
    const axis = (ctx.attrs.int('axis', 0) + rank) % rank;
    if (axis === 0) unsupported(ctx, 'concatenation along the batch axis is not supported');
    let offset = 0;
    return (ctx.node.input ?? []).map((name, i) => {
      const size = ctx.shape(name)[axis];
      const start = offset;
      offset += size;
      return ctx.needs(i) ? ctx.b.slice(grad(ctx), [start], [start + size], [axis]) : null;
    });
  },
  Split: (ctx) => {
    const { b } = ctx;
    const rank = ctx.shape(input(ctx, 0)).length;
    const axis = (ctx.attrs.int('axis', 0) + rank) % rank;
    if (axis === 0) unsupported(ctx, 'splitting along the batch axis is not supported');
    const parts = (ctx.node.output ?? []).map((name, i) => {
      const g = ctx.grads[i];
      return g ?? b.op('Expand', [b.scalar(0), ctx.runtimeShape(name)]);
    });
    return only(ctx, b.op('Concat', parts, { axis }));
  },
  Slice: (ctx) => sliceRule(ctx),
  Gather: (ctx) => {
    const x = input(ctx, 0);
    const shape = ctx.shape(x);
    const rank = shape.length;
    const axis = (ctx.attrs.int('axis', 0) + rank) % rank;
    if (axis === 0) unsupported(ctx, 'gathering along the batch axis is not supported');
    const indices = ctx.constantInts(input(ctx, 1)) ?? unsupported(ctx, 'indices computed at run time are not supported');
    // The output holds the indices' dimensions (none for a scalar) where the input has the axis: make them one axis.
    const merged = ctx.b.op('Reshape', [grad(ctx), ctx.b.ints(shape.map((d, a) => (a === axis ? indices.length : a === 0 ? -1 : d)))]);
    return only(ctx, scatterAlong(ctx, merged, axis, indices.map((i) => (i < 0 ? i + shape[axis] : i))));
  },
  Pad: (ctx) => {
    const mode = ctx.attrs.string('mode', 'constant');
    if (mode !== 'constant') unsupported(ctx, `mode "${mode}" is not supported (only "constant")`);
    const shape = ctx.shape(input(ctx, 0));
    const rank = shape.length;
    const pads = ctx.b.opset >= 11 ? ctx.constantInts(ctx.node.input![1]) : ctx.attrs.ints('pads', []);
    if (!pads) unsupported(ctx, 'pads computed at run time are not supported');
    const axesInput = ctx.b.opset >= 18 ? ctx.node.input?.[3] : undefined;
    const axes = axesInput
      ? (ctx.constantInts(axesInput) ?? unsupported(ctx, 'axes computed at run time are not supported')).map((a) => (a + rank) % rank)
      : Array.from({ length: rank }, (_, a) => a);
    const [starts, ends, sliced]: number[][] = [[], [], []];
    axes.forEach((a, k) => {
      const [begin, end] = [pads[k], pads[k + axes.length]];
      if (begin === 0 && end === 0) return;
      if (a === 0) unsupported(ctx, 'padding the batch axis is not supported');
      if (begin < 0 || end < 0) unsupported(ctx, 'negative pads are not supported');
      starts.push(begin);
      ends.push(begin + shape[a]);
      sliced.push(a);
    });
    return only(ctx, sliced.length ? ctx.b.slice(grad(ctx), starts, ends, sliced) : grad(ctx));
  },

  LayerNormalization: (ctx) => {
    if (ctx.needs(1) || ctx.needs(2)) unsupported(ctx, 'gradients with respect to the scale and bias are not supported');
    if (ctx.grads[1] || ctx.grads[2]) unsupported(ctx, 'gradients of the Mean and InvStdDev outputs are not supported');
    const { b } = ctx;
    const x = input(ctx, 0);
    const shape = ctx.shape(x);
    const axis = (ctx.attrs.int('axis', -1) + shape.length) % shape.length;
    if (axis === 0) unsupported(ctx, 'normalizing over the batch axis is not supported');
    const axes = axesFrom(axis, shape.length);
    const count = reducedCount(ctx, axes);
    // The same normalization with unit scale and no bias gives x̂ = (x − μ)·r and r = 1/√(σ² + ε); both memos share one node.
    let normalized: string[] | undefined;
    const normalize = () =>
      (normalized ??= b.node(
        'LayerNormalization',
        [x, b.initializer('ln_ones', shape.slice(axis), new Float32Array(count).fill(1))],
        { axis, epsilon: float(ctx.attrs.float('epsilon', 1e-5)) },
        3,
      ));
    const xHat = ctx.memo('normalized', () => normalize()[0]);
    const inverseStd = ctx.memo('inverse_std', () => normalize()[2]);
    // With ĝ = g·scale and means over the normalized axes: ∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)).
    const mean = (t: string) => b.op('Mul', [b.reduceSum(t, axes, true), b.scalar(1 / count)]);
    const scaled = b.op('Mul', [grad(ctx), input(ctx, 1)]);
    const centered = b.op('Sub', [scaled, mean(scaled)]);
    return only(ctx, b.op('Mul', [b.op('Sub', [centered, b.op('Mul', [xHat, mean(b.op('Mul', [scaled, xHat]))])]), inverseStd]));
  },
  BatchNormalization: (ctx) => {
    if (ctx.attrs.int('training_mode', 0)) unsupported(ctx, 'training mode is not supported');
    if ([1, 2, 3, 4].some((i) => ctx.needs(i))) unsupported(ctx, 'gradients with respect to the statistics are not supported');
    const { b } = ctx;
    const rank = ctx.shape(input(ctx, 0)).length;
    const epsilon = ctx.attrs.float('epsilon', 1e-5);
    const [scale, variance] = [ctx.constant(input(ctx, 1)), ctx.constant(input(ctx, 4))];
    const channelShape = [-1, ...Array(rank - 2).fill(1)];
    const factor = ctx.memo('factor', () => {
      if (scale && variance) {
        const f = scale.map((s, c) => s / Math.sqrt(variance[c] + epsilon));
        return b.initializer('bn_factor', [f.length, ...Array(rank - 2).fill(1)], f);
      }
      const std = b.op('Sqrt', [b.op('Add', [input(ctx, 4), b.scalar(epsilon)])]);
      return b.op('Reshape', [b.op('Div', [input(ctx, 1), std]), b.ints(channelShape)]);
    });
    return only(ctx, b.op('Mul', [grad(ctx), factor]));
  },
  GlobalAveragePool: (ctx) => {
    const shape = ctx.shape(input(ctx, 0));
    const count = shape.slice(2).reduce((n, d) => n * d, 1);
    const scaled = ctx.b.op('Mul', [grad(ctx), ctx.b.scalar(1 / count)]);
    return only(ctx, ctx.b.op('Expand', [scaled, ctx.runtimeShape(input(ctx, 0))]));
  },
  ReduceSum: (ctx) => only(ctx, expandReduced(ctx, grad(ctx), reduceAxes(ctx, 13))),
  ReduceMean: (ctx) => {
    const axes = reduceAxes(ctx, 18);
    return only(ctx, expandReduced(ctx, ctx.b.op('Mul', [grad(ctx), ctx.b.scalar(1 / reducedCount(ctx, axes))]), axes));
  },
  ReduceL2: (ctx) => {
    // y = √Σx²  →  ∂y/∂x = x / y
    const axes = reduceAxes(ctx, 18);
    const { b } = ctx;
    return only(ctx, b.op('Mul', [expandReduced(ctx, b.op('Div', [grad(ctx), output(ctx)]), axes), input(ctx, 0)]));
  },
  Softmax: (ctx) => {
    // ∂x = y·(g − Σ g·y) over the softmax axes: one axis from opset 13, before it every axis from `axis` on (the input is coerced to 2-D).
    const { b } = ctx;
    const rank = ctx.shape(input(ctx, 0)).length;
    const axis = (ctx.attrs.int('axis', b.opset >= 13 ? -1 : 1) + rank) % rank;
    const y = output(ctx);
    const weighted = b.op('Mul', [grad(ctx), y]);
    const total = b.reduceSum(weighted, b.opset >= 13 ? [axis] : axesFrom(axis, rank), true);
    return only(ctx, b.op('Sub', [weighted, b.op('Mul', [y, total])]));
  },
  AveragePool: averagePoolRule,
  MaxPool: maxPoolRule,
  Conv: convRule,
};

/** Slice: a zero-padded gradient for unit steps, a one-hot matrix product per axis otherwise. */
function sliceRule(ctx: RuleContext): (string | null)[] {
  const { b } = ctx;
  const x = input(ctx, 0);
  const shape = ctx.shape(x);
  const rank = shape.length;
  const read = (i: number, attr: string): number[] | undefined => {
    if (b.opset < 10) return ctx.attrs.has(attr) ? ctx.attrs.ints(attr, []) : undefined;
    const name = ctx.node.input?.[i];
    if (!name) return undefined;
    return ctx.constantInts(name) ?? unsupported(ctx, `${attr} computed at run time are not supported`);
  };
  const starts = read(1, 'starts')!;
  const ends = read(2, 'ends')!;
  const axes = (read(3, 'axes') ?? starts.map((_, k) => k)).map((a) => (a + rank) % rank);
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  if (axes.includes(0)) unsupported(ctx, 'slicing along the batch axis is not supported');
  let g = grad(ctx);
  axes.forEach((axis, k) => {
    const n = shape[axis];
    const step = steps[k];
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const norm = (v: number) => (v < 0 ? v + n : v);
    const start = step > 0 ? clamp(norm(starts[k]), 0, n) : clamp(norm(starts[k]), -1, n - 1);
    const end = step > 0 ? clamp(norm(ends[k]), 0, n) : clamp(norm(ends[k]), -1, n - 1);
    const indices: number[] = [];
    for (let i = start; step > 0 ? i < end : i > end; i += step) indices.push(i);
    if (step === 1) {
      const pads = new Array<number>(2 * rank).fill(0);
      pads[axis] = start;
      pads[axis + rank] = n - start - indices.length;
      g = b.op('Pad', [g, b.ints(pads)], { mode: 'constant' });
      return;
    }
    g = scatterAlong(ctx, g, axis, indices);
  });
  return only(ctx, g);
}

/**
 * Gradient of picking `indices` along `axis` of input 0: moves the axis last, multiplies by the
 * [m, n] one-hot matrix of the picked indices and moves it back, so repeated indices add up.
 */
function scatterAlong(ctx: RuleContext, g: string, axis: number, indices: readonly number[]): string {
  const { b } = ctx;
  const shape = ctx.shape(input(ctx, 0));
  const [rank, n] = [shape.length, shape[axis]];
  const oneHot = new Float32Array(indices.length * n);
  indices.forEach((src, i) => (oneHot[i * n + src] = 1));
  const perm = Array.from({ length: rank }, (_, a) => a).filter((a) => a !== axis).concat(axis);
  const inverse = new Array<number>(rank);
  perm.forEach((p, a) => (inverse[p] = a));
  const moved = b.op('Transpose', [g], { perm });
  const scattered = b.op('MatMul', [moved, b.initializer('one_hot', [indices.length, n], oneHot)]);
  return b.op('Transpose', [scattered], { perm: inverse });
}

export const SUPPORTED_OPS: readonly string[] = Object.keys(GRADIENT_RULES).sort();
