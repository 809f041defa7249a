// Unary elementwise ops: the gradient is g times a local derivative built from forward values.
import { DataType } from '../../onnx/proto';
import { type GradRule, type OpType, type RuleContext, grad, input, only, output, refused, where } from './types';

/** g times a local derivative, built once per node for all cotangents. */
function elementwise(localDerivative: (ctx: RuleContext) => string, defaults?: GradRule['defaults']): GradRule {
  return { defaults, backward: (ctx) => only(ctx, () => ctx.b.op('Mul', [grad(ctx), ctx.memo('local', () => localDerivative(ctx))])) };
}

/** c·exp(−k·x²): the derivative of Erf (c = 2/√π, k = 1) and the normal density (c = 1/√(2π), k = 1/2). */
function gaussian(ctx: RuleContext, x: string, c: number, k: number): string {
  const { b } = ctx;
  return b.op('Mul', [b.scalar(c), b.op('Exp', [b.op('Mul', [b.op('Mul', [x, x]), b.scalar(-k)])])]);
}

const positive = (ctx: RuleContext) => ctx.b.op('Greater', [input(ctx, 0), ctx.b.scalar(0)]);

const FLOAT_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE, DataType.BFLOAT16]);

export const elementwiseRules = {
  Cast: {
    // A cast to a float type passes the gradient back as float32: the type of every differentiable
    // tensor once float16 models are promoted (onnx/float16.ts), and the straight-through gradient
    // of the int32 products dynamic quantization casts to float32. A cast to an integer or bool
    // type passes none: rounding has no useful derivative.
    backward: (ctx) => {
      const to = ctx.int('to');
      if (!FLOAT_TYPES.has(to)) return [null];
      return [() => (to === DataType.FLOAT ? grad(ctx) : ctx.b.op('Cast', [grad(ctx)], { to: DataType.FLOAT }))];
    },
  },
  Neg: { backward: (ctx) => only(ctx, () => ctx.b.op('Neg', [grad(ctx)])) },
  Abs: elementwise((ctx) => ctx.b.op('Sign', [input(ctx, 0)])),
  Relu: elementwise((ctx) => ctx.b.op('Cast', [positive(ctx)], { to: DataType.FLOAT })),
  LeakyRelu: elementwise((ctx) => where(ctx, positive(ctx), ctx.b.scalar(1), ctx.b.scalar(ctx.float('alpha'))), { alpha: 0.01 }),
  PRelu: {
    backward: (ctx) => [
      () => ctx.b.op('Mul', [grad(ctx), ctx.memo('local', () => where(ctx, positive(ctx), ctx.b.scalar(1), input(ctx, 1)))]),
      refused('gradients with respect to the slope are not supported'),
    ],
  },
  Sigmoid: elementwise((ctx) => {
    const y = output(ctx);
    return ctx.b.op('Mul', [y, ctx.b.op('Sub', [ctx.b.scalar(1), y])]);
  }),
  Tanh: elementwise((ctx) => {
    const y = output(ctx);
    return ctx.b.op('Sub', [ctx.b.scalar(1), ctx.b.op('Mul', [y, y])]);
  }),
  HardSigmoid: elementwise(
    (ctx) => {
      const { b } = ctx;
      const alpha = ctx.float('alpha');
      const z = b.op('Add', [b.op('Mul', [input(ctx, 0), b.scalar(alpha)]), b.scalar(ctx.float('beta'))]);
      const inside = b.op('And', [b.op('Greater', [z, b.scalar(0)]), b.op('Less', [z, b.scalar(1)])]);
      return where(ctx, inside, b.scalar(alpha), b.scalar(0));
    },
    { alpha: 0.2, beta: 0.5 },
  ),
  HardSwish: elementwise((ctx) => {
    // y = x·clip(x/6 + 1/2, 0, 1): slope 0 below −3, 1 above 3, x/3 + 1/2 between.
    const { b } = ctx;
    const x = input(ctx, 0);
    const middle = b.op('Add', [b.op('Mul', [x, b.scalar(1 / 3)]), b.scalar(0.5)]);
    const upper = where(ctx, b.op('Greater', [x, b.scalar(3)]), b.scalar(1), middle);
    return where(ctx, b.op('Less', [x, b.scalar(-3)]), b.scalar(0), upper);
  }),
  Clip: {
    movedToInput: { min: { input: 1, since: 11 }, max: { input: 2, since: 11 } },
    // The bounds get no gradient: they are constants in exported models.
    backward: (ctx) =>
      only(ctx, () => {
        const { b } = ctx;
        const x = input(ctx, 0);
        const local = ctx.memo('local', () => {
          const [lo, hi] = [ctx.operandTensor('min'), ctx.operandTensor('max')];
          const conditions = [lo && b.op('Not', [b.op('Less', [x, lo])]), hi && b.op('Not', [b.op('Greater', [x, hi])])].filter(
            (c): c is string => !!c,
          );
          if (conditions.length === 0) return b.scalar(1);
          const inside = conditions.length === 2 ? b.op('And', conditions) : conditions[0];
          return b.op('Cast', [inside], { to: DataType.FLOAT });
        });
        return b.op('Mul', [grad(ctx), local]);
      }),
  },
  Sqrt: elementwise((ctx) => ctx.b.op('Div', [ctx.b.scalar(0.5), output(ctx)])),
  Exp: elementwise((ctx) => output(ctx)),
  Log: elementwise((ctx) => ctx.b.op('Reciprocal', [input(ctx, 0)])),
  Reciprocal: elementwise((ctx) => {
    const y = output(ctx);
    return ctx.b.op('Neg', [ctx.b.op('Mul', [y, y])]);
  }),
  Erf: elementwise((ctx) => gaussian(ctx, input(ctx, 0), 2 / Math.sqrt(Math.PI), 1)),
  Gelu: elementwise(
    (ctx) => {
      const { b } = ctx;
      const x = input(ctx, 0);
      if (ctx.string('approximate') === 'tanh') {
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
    },
    { approximate: 'none' },
  ),
} satisfies Partial<Record<OpType, GradRule>>;
