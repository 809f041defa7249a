// Reductions and normalizations.
import { float } from '../../onnx/proto';
import { type GradRule, type OpType, type RuleContext, axesFrom, grad, input, only, output, refused, unsupported } from './types';

/** The reduced axes of a Reduce* node; empty means all (or none with noop_with_empty_axes). */
function reduceAxes(ctx: RuleContext): number[] {
  const rank = ctx.shape(input(ctx, 0)).length;
  let axes = ctx.operandInts('axes');
  if (!axes || axes.length === 0) {
    if (ctx.int('noop_with_empty_axes')) return [];
    axes = Array.from({ length: rank }, (_, a) => a);
  }
  return axes.map((a) => (a < 0 ? a + rank : a));
}

/** Broadcasts the gradient of a reduction back over the reduced axes. */
function expandReduced(ctx: RuleContext, g: string, axes: readonly number[]): string {
  const inShape = ctx.shape(input(ctx, 0));
  let kept = g;
  if (!ctx.int('keepdims')) {
    const keptShape = inShape.map((d, a) => (axes.includes(a) ? 1 : a === 0 ? -1 : d));
    kept = ctx.b.op('Reshape', [g, ctx.b.ints(keptShape)]);
  }
  return ctx.b.op('Expand', [kept, ctx.runtimeShape(input(ctx, 0))]);
}

function reducedCount(ctx: RuleContext, axes: readonly number[]): number {
  const shape = ctx.shape(input(ctx, 0));
  return axes.reduce((n, a) => n * shape[a], 1);
}

/** A Reduce* op whose `axes` attribute became an input at opset `axesInputSince`. */
function reduction(axesInputSince: number, backward: (ctx: RuleContext, axes: number[]) => string): GradRule {
  return {
    defaults: { keepdims: 1, noop_with_empty_axes: 0 },
    movedToInput: { axes: { input: 1, since: axesInputSince } },
    backward: (ctx) => {
      const axes = reduceAxes(ctx);
      return only(ctx, () => backward(ctx, axes));
    },
  };
}

/** ∂x = y·(g − Σ g·y) over the softmax axes, for the softmax output y and its gradient g. */
export function softmaxBack(ctx: RuleContext, g: string, y: string, axes: readonly number[]): string {
  const { b } = ctx;
  const weighted = b.op('Mul', [g, y]);
  return b.op('Sub', [weighted, b.op('Mul', [y, b.reduceSum(weighted, axes, true)])]);
}

export const normalizationRules = {
  ReduceSum: reduction(13, (ctx, axes) => expandReduced(ctx, grad(ctx), axes)),
  ReduceMean: reduction(18, (ctx, axes) => expandReduced(ctx, ctx.b.op('Mul', [grad(ctx), ctx.b.scalar(1 / reducedCount(ctx, axes))]), axes)),
  // y = √Σx²  →  ∂y/∂x = x / y
  ReduceL2: reduction(18, (ctx, axes) => ctx.b.op('Mul', [expandReduced(ctx, ctx.b.op('Div', [grad(ctx), output(ctx)]), axes), input(ctx, 0)])),
  GlobalAveragePool: {
    backward: (ctx) =>
      only(ctx, () => {
        const shape = ctx.shape(input(ctx, 0));
        const count = shape.slice(2).reduce((n, d) => n * d, 1);
        const scaled = ctx.b.op('Mul', [grad(ctx), ctx.b.scalar(1 / count)]);
        return ctx.b.op('Expand', [scaled, ctx.runtimeShape(input(ctx, 0))]);
      }),
  },
  Softmax: {
    // Before opset 13 the input is coerced to 2-D at `axis` (default 1) and every axis from `axis` on is normalized; from 13 one axis (default −1).
    defaults: { axis: (ctx) => (ctx.opset >= 13 ? -1 : 1) },
    backward: (ctx) =>
      only(ctx, () => {
        const rank = ctx.shape(input(ctx, 0)).length;
        const axis = (ctx.int('axis') + rank) % rank;
        return softmaxBack(ctx, grad(ctx), output(ctx), ctx.opset >= 13 ? [axis] : axesFrom(axis, rank));
      }),
  },
  LayerNormalization: {
    defaults: { axis: -1, epsilon: 1e-5 },
    backward: (ctx) => {
      if (ctx.grads[1] || ctx.grads[2]) unsupported(ctx, 'gradients of the Mean and InvStdDev outputs are not supported');
      const shape = ctx.shape(input(ctx, 0));
      const axis = (ctx.int('axis') + shape.length) % shape.length;
      if (axis === 0) unsupported(ctx, 'normalizing over the batch axis is not supported');
      const notScaleAndBias = 'gradients with respect to the scale and bias are not supported';
      return [() => layerNormBack(ctx, axis), refused(notScaleAndBias), ...(ctx.node.input!.length > 2 ? [refused(notScaleAndBias)] : [])];
    },
  },
  BatchNormalization: {
    defaults: { epsilon: 1e-5, training_mode: 0 },
    backward: (ctx) => {
      if (ctx.int('training_mode')) unsupported(ctx, 'training mode is not supported');
      const statistics = refused('gradients with respect to the statistics are not supported');
      return [() => ctx.b.op('Mul', [grad(ctx), ctx.memo('factor', () => batchNormFactor(ctx))]), statistics, statistics, statistics, statistics];
    },
  },
} satisfies Partial<Record<OpType, GradRule>>;

/** ∂x of LayerNormalization over the axes from `axis` on. */
function layerNormBack(ctx: RuleContext, axis: number): string {
  const { b } = ctx;
  const x = input(ctx, 0);
  const shape = ctx.shape(x);
  const axes = axesFrom(axis, shape.length);
  const count = reducedCount(ctx, axes);
  // The same normalization with unit scale and no bias gives x̂ = (x − μ)·r and r = 1/√(σ² + ε); both memos share one node.
  let normalized: string[] | undefined;
  const normalize = () =>
    (normalized ??= b.node(
      'LayerNormalization',
      [x, b.initializer('ln_ones', shape.slice(axis), new Float32Array(count).fill(1))],
      { axis, epsilon: float(ctx.float('epsilon')) },
      3,
    ));
  const xHat = ctx.memo('normalized', () => normalize()[0]);
  const inverseStd = ctx.memo('inverse_std', () => normalize()[2]);
  // With ĝ = g·scale and means over the normalized axes: ∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)).
  const mean = (t: string) => b.op('Mul', [b.reduceSum(t, axes, true), b.scalar(1 / count)]);
  const scaled = b.op('Mul', [grad(ctx), input(ctx, 1)]);
  const centered = b.op('Sub', [scaled, mean(scaled)]);
  return b.op('Mul', [b.op('Sub', [centered, b.op('Mul', [xHat, mean(b.op('Mul', [scaled, xHat]))])]), inverseStd]);
}

/** scale/√(var + ε) per channel, shaped to broadcast over the spatial axes. */
function batchNormFactor(ctx: RuleContext): string {
  const { b } = ctx;
  const rank = ctx.shape(input(ctx, 0)).length;
  const epsilon = ctx.float('epsilon');
  const [scale, variance] = [ctx.constant(input(ctx, 1)), ctx.constant(input(ctx, 4))];
  if (scale && variance) {
    const f = scale.map((s, c) => s / Math.sqrt(variance[c] + epsilon));
    return b.initializer('bn_factor', [f.length, ...Array(rank - 2).fill(1)], f);
  }
  const std = b.op('Sqrt', [b.op('Add', [input(ctx, 4), b.scalar(epsilon)])]);
  return b.op('Reshape', [b.op('Div', [input(ctx, 1), std]), b.ints([-1, ...Array(rank - 2).fill(1)])]);
}
