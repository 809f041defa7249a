// Ops that move elements without changing them: the gradient moves them back.
import { type GradRule, type Gradient, type OpType, type RuleContext, grad, input, only, output, unsupported } from './types';

/** Ops that only rearrange elements into a new shape. */
const reshapeBack: GradRule = { backward: (ctx) => only(ctx, () => ctx.b.op('Reshape', [grad(ctx), ctx.runtimeShape(input(ctx, 0))])) };

const identity: GradRule = { backward: (ctx) => only(ctx, () => grad(ctx)) };

/** An axis attribute made non-negative for a tensor of `rank`. */
const axisOf = (ctx: RuleContext, rank: number) => (ctx.int('axis') + rank) % rank;

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

/** Slice: a zero-padded gradient for unit steps, a one-hot matrix product per axis otherwise. */
function sliceBack(ctx: RuleContext): string {
  const { b } = ctx;
  const shape = ctx.shape(input(ctx, 0));
  const rank = shape.length;
  const starts = ctx.operandInts('starts')!;
  const ends = ctx.operandInts('ends')!;
  const axes = (ctx.operandInts('axes') ?? starts.map((_, k) => k)).map((a) => (a + rank) % rank);
  const steps = ctx.operandInts('steps') ?? starts.map(() => 1);
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
  return g;
}

export const shapeRules = {
  Identity: identity,
  Dropout: identity,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: {
    // The default reverses the axes.
    defaults: { perm: (ctx) => ctx.shape(input(ctx, 0)).map((_, a, dims) => dims.length - 1 - a) },
    backward: (ctx) =>
      only(ctx, () => {
        const perm = ctx.ints('perm');
        const inverse = new Array<number>(perm.length);
        perm.forEach((p, a) => (inverse[p] = a));
        return ctx.b.op('Transpose', [grad(ctx)], { perm: inverse });
      }),
  },
  // The gradient comes back shaped like the output; the driver sums it over the expanded axes.
  Expand: { broadcast: [0], backward: (ctx) => [() => grad(ctx), null] },
  Concat: {
    defaults: { axis: 0 },
    backward: (ctx) => {
      const rank = ctx.shape(output(ctx)).length;
      const axis = axisOf(ctx, rank);
      if (axis === 0) unsupported(ctx, 'concatenation along the batch axis is not supported');
      let offset = 0;
      return (ctx.node.input ?? []).map((name): Gradient => {
        const size = ctx.shape(name)[axis];
        const start = offset;
        offset += size;
        return () => ctx.b.slice(grad(ctx), [start], [start + size], [axis]);
      });
    },
  },
  Split: {
    defaults: { axis: 0 },
    backward: (ctx) => {
      const axis = axisOf(ctx, ctx.shape(input(ctx, 0)).length);
      if (axis === 0) unsupported(ctx, 'splitting along the batch axis is not supported');
      return only(ctx, () => {
        const { b } = ctx;
        const parts = (ctx.node.output ?? []).map((name, i) => ctx.grads[i] ?? b.op('Expand', [b.scalar(0), ctx.runtimeShape(name)]));
        return b.op('Concat', parts, { axis });
      });
    },
  },
  Slice: {
    movedToInput: { starts: { input: 1, since: 10 }, ends: { input: 2, since: 10 }, axes: { input: 3, since: 10 }, steps: { input: 4, since: 10 } },
    backward: (ctx) => only(ctx, () => sliceBack(ctx)),
  },
  Gather: {
    defaults: { axis: 0 },
    backward: (ctx) => {
      const shape = ctx.shape(input(ctx, 0));
      const axis = axisOf(ctx, shape.length);
      if (axis === 0) unsupported(ctx, 'gathering along the batch axis is not supported');
      const indices = ctx.constantInts(input(ctx, 1)) ?? unsupported(ctx, 'indices computed at run time are not supported');
      return only(ctx, () => {
        // The output holds the indices' dimensions (none for a scalar) where the input has the axis: make them one axis.
        const merged = ctx.b.op('Reshape', [grad(ctx), ctx.b.ints(shape.map((d, a) => (a === axis ? indices.length : a === 0 ? -1 : d)))]);
        return scatterAlong(ctx, merged, axis, indices.map((i) => (i < 0 ? i + shape[axis] : i)));
      });
    },
  },
  Pad: {
    defaults: { mode: 'constant' },
    movedToInput: { pads: { input: 1, since: 11 }, axes: { input: 3, since: 18 } },
    backward: (ctx) => {
      const mode = ctx.string('mode');
      if (mode !== 'constant') unsupported(ctx, `mode "${mode}" is not supported (only "constant")`);
      const shape = ctx.shape(input(ctx, 0));
      const rank = shape.length;
      const pads = ctx.operandInts('pads') ?? unsupported(ctx, 'pads computed at run time are not supported');
      const axes = (ctx.operandInts('axes') ?? Array.from({ length: rank }, (_, a) => a)).map((a) => (a + rank) % rank);
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
      return only(ctx, () => (sliced.length ? ctx.b.slice(grad(ctx), starts, ends, sliced) : grad(ctx)));
    },
  },
} satisfies Partial<Record<OpType, GradRule>>;
