// Broadcasting arithmetic and matrix products. Their gradients come back shaped like the output;
// the driver sums them to each input's shape (`broadcast`).
import { float } from '../../onnx/proto';
import { type GradRule, type OpType, type RuleContext, grad, input, output, refused, unsupported, where } from './types';

/** Max and Min of two inputs: the gradient goes to the input picked. */
function pickRule(secondWins: 'Less' | 'Greater'): GradRule {
  return {
    broadcast: 'all',
    backward: (ctx) => {
      if (ctx.node.input?.length !== 2) unsupported(ctx, 'only two inputs are supported');
      const { b } = ctx;
      // Max takes the second input only where the first is less (Min: greater), so a tie goes to the first.
      const second = () => ctx.memo('second', () => b.op(secondWins, [input(ctx, 0), input(ctx, 1)]));
      return [() => where(ctx, second(), b.scalar(0), grad(ctx)), () => where(ctx, second(), grad(ctx), b.scalar(0))];
    },
  };
}

/** `name` with its last two axes swapped. */
export function swapLast(ctx: RuleContext, name: string, rank = ctx.shape(name).length): string {
  if (rank < 2) unsupported(ctx, '1-D operands are not supported');
  const perm = Array.from({ length: rank }, (_, a) => a);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return ctx.b.op('Transpose', [name], { perm });
}

/**
 * The gradients of A and B in α·op(A)·op(B), from the output gradient `g` (the node's alpha,
 * transA, transB); the quantized QGemm passes its dequantized operands.
 */
export function gemmBack(ctx: RuleContext, g: () => string, a: () => string, bb: () => string): [() => string, () => string] {
  const { b } = ctx;
  const alpha = float(ctx.float('alpha'));
  const [transA, transB] = [ctx.int('transA'), ctx.int('transB')];
  return [
    () => (transA ? b.op('Gemm', [bb(), g()], { alpha, transA: transB, transB: 1 }) : b.op('Gemm', [g(), bb()], { alpha, transB: 1 - transB })),
    () => (transB ? b.op('Gemm', [g(), a()], { alpha, transA: 1, transB: transA }) : b.op('Gemm', [a(), g()], { alpha, transA: 1 - transA })),
  ];
}

export const arithmeticRules = {
  Add: { broadcast: 'all', backward: (ctx) => [() => grad(ctx), () => grad(ctx)] },
  Sub: { broadcast: 'all', backward: (ctx) => [() => grad(ctx), () => ctx.b.op('Neg', [grad(ctx)])] },
  Mul: {
    broadcast: 'all',
    backward: (ctx) => [() => ctx.b.op('Mul', [grad(ctx), input(ctx, 1)]), () => ctx.b.op('Mul', [grad(ctx), input(ctx, 0)])],
  },
  Div: {
    broadcast: 'all',
    backward: (ctx) => [
      () => ctx.b.op('Div', [grad(ctx), input(ctx, 1)]),
      // d(a/b)/db = −(a/b)/b
      () => ctx.b.op('Neg', [ctx.b.op('Div', [ctx.b.op('Mul', [grad(ctx), output(ctx)]), input(ctx, 1)])]),
    ],
  },
  Sum: { broadcast: 'all', backward: (ctx) => (ctx.node.input ?? []).map(() => () => grad(ctx)) },
  Max: pickRule('Less'),
  Min: pickRule('Greater'),
  Pow: {
    broadcast: 'all',
    backward: (ctx) => [
      () => {
        const { b } = ctx;
        const exponent = input(ctx, 1);
        const p = ctx.constant(exponent) ?? unsupported(ctx, 'exponents computed at run time are not supported');
        // y = x^p  →  y' = p·x^(p−1), and 0 where p = 0 (not 0·0^−1 at x = 0).
        const local = ctx.memo('local', () => {
          const dims = ctx.shape(exponent);
          const lowered = b.initializer('pow_lowered', dims, p.map((v) => (v === 0 ? 0 : v - 1)));
          return b.op('Mul', [b.initializer('pow_exponent', dims, p), b.op('Pow', [input(ctx, 0), lowered])]);
        });
        return b.op('Mul', [grad(ctx), local]);
      },
      refused('gradients with respect to the exponent are not supported'),
    ],
  },

  MatMul: {
    // The batch axes broadcast; the two matrix axes come back in the input's shape.
    broadcast: 'all',
    backward: (ctx) => [
      () => ctx.b.op('MatMul', [grad(ctx), swapLast(ctx, input(ctx, 1))]),
      () => ctx.b.op('MatMul', [swapLast(ctx, input(ctx, 0)), grad(ctx)]),
    ],
  },
  Gemm: {
    // Y = α·op(A)·op(B) + β·C, with C broadcast to Y.
    broadcast: [2],
    defaults: { alpha: 1, beta: 1, transA: 0, transB: 0 },
    backward: (ctx) => {
      const [da, db] = gemmBack(ctx, () => grad(ctx), () => input(ctx, 0), () => input(ctx, 1));
      return [da, db, ...(ctx.node.input!.length > 2 ? [() => ctx.b.op('Mul', [grad(ctx), ctx.b.scalar(ctx.float('beta'))])] : [])];
    },
  },
} satisfies Partial<Record<OpType, GradRule>>;
