// What a gradient rule is, and what it may ask of the driver (vjp.ts). A rule states the
// calculus of one op; the driver does the chores: it asks only for the gradients of inputs that
// depend on the model input, sums broadcast gradients back to each input's shape, checks that a
// rule answered for every input, and reads attributes through the defaults the rule declares.
// Tensors that depend on the model input carry the batch in dimension 0.
import type { GraphBuilder } from '../../onnx/builder';
import type { Node } from '../../onnx/proto';
import { UserError } from '../../../shared/errors';

/** The ONNX op types that have a gradient rule, spelled as in the ONNX operator list. */
export type OpType =
  | 'Abs' | 'Add' | 'AveragePool' | 'BatchNormalization' | 'Clip' | 'Concat' | 'Conv' | 'Div' | 'Dropout'
  | 'Erf' | 'Exp' | 'Expand' | 'Flatten' | 'Gather' | 'Gelu' | 'Gemm' | 'GlobalAveragePool' | 'HardSigmoid'
  | 'HardSwish' | 'Identity' | 'LayerNormalization' | 'LeakyRelu' | 'Log' | 'MatMul' | 'Max' | 'MaxPool' | 'Min'
  | 'Mul' | 'Neg' | 'Pad' | 'Pow' | 'PRelu' | 'Reciprocal' | 'ReduceL2' | 'ReduceMean' | 'ReduceSum' | 'Relu'
  | 'Reshape' | 'Sigmoid' | 'Slice' | 'Softmax' | 'Split' | 'Sqrt' | 'Squeeze' | 'Sub' | 'Sum' | 'Tanh'
  | 'Transpose' | 'Unsqueeze'
  // Quantized models (rules/quantized.ts); the QLinear ops other than Conv and MatMul are com.microsoft's.
  | 'QuantizeLinear' | 'DequantizeLinear' | 'QLinearConv' | 'QLinearMatMul' | 'QLinearAdd' | 'QLinearMul'
  | 'QLinearGlobalAveragePool' | 'QLinearConcat' | 'QLinearSigmoid' | 'QLinearLeakyRelu' | 'DynamicQuantizeLinear'
  | 'ConvInteger' | 'MatMulInteger' | 'Cast' | 'QGemm' | 'QLinearAveragePool' | 'QLinearSoftmax';

export type AttributeValue = number | string | readonly number[];

/**
 * The gradient of one input: built only when the driver calls it (an input that needs no
 * gradient adds no nodes); null where no gradient flows to that input; a refusal where the rule
 * cannot differentiate that input (an error only if the input depends on the model input).
 */
export type Gradient = (() => string) | { refused: string } | null;

export interface GradRule {
  /**
   * One entry per node input. It builds nothing itself (only the gradients do, when called), so
   * the driver can ask first which inputs a gradient reaches.
   */
  backward(ctx: RuleContext): Gradient[];
  /**
   * Inputs whose gradients come back shaped like the (broadcast) output: the driver sums them
   * to the input's own shape. 'all' for every input.
   */
  broadcast?: 'all' | readonly number[];
  /** Attribute defaults from the ONNX operator list; a function where the default depends on the node or the opset. */
  defaults?: Readonly<Record<string, AttributeValue | ((ctx: RuleContext) => AttributeValue)>>;
  /** Attributes that became inputs: from opset `since` the value is read from input `input`. */
  movedToInput?: Readonly<Record<string, { input: number; since: number }>>;
  /** The lowest opset the rule can build its gradient in, and why. */
  minOpset?: { opset: number; why: string };
}

export interface RuleContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  /** The model's ai.onnx opset. */
  readonly opset: number;
  /** Gradient of each output, null where none flows back. */
  readonly grads: readonly (string | null)[];
  /** Static shape measured at batch 1. */
  shape(name: string): readonly number[];
  /** Values of a constant tensor, or undefined when it is computed at run time. */
  constant(name: string): Float32Array | undefined;
  constantInts(name: string): number[] | undefined;
  /** Element type (onnx DataType) of a constant tensor, or undefined when it is computed at run time. */
  constantType(name: string): number | undefined;
  /** Whether the node sets the attribute itself. */
  has(attribute: string): boolean;
  /** An attribute's value, or the rule's declared default. */
  int(attribute: string): number;
  float(attribute: string): number;
  ints(attribute: string): number[];
  string(attribute: string): string;
  /**
   * An attribute that became an input (see `movedToInput`), as constant ints: read from the
   * input or the attribute as the opset says; undefined where the node gives none.
   */
  operandInts(attribute: string): number[] | undefined;
  /** The same as a tensor name (a scalar constant where the opset still has the attribute). */
  operandTensor(attribute: string): string | undefined;
  /**
   * Builds a tensor that depends only on forward values once per node and key, so the
   * backward passes of several cotangents share it.
   */
  memo(key: string, build: () => string): string;
  /** Shape of a forward tensor at run time (batch included). */
  runtimeShape(name: string): string;
}

export class UnsupportedGradientError extends UserError {}

export const input = (ctx: RuleContext, i: number): string => ctx.node.input![i];
export const output = (ctx: RuleContext, i = 0): string => ctx.node.output![i];
export const grad = (ctx: RuleContext, i = 0): string => ctx.grads[i]!;

/** A gradient for input 0 and none for the other inputs. */
export const only = (ctx: RuleContext, g: () => string): Gradient[] => [g, ...(ctx.node.input ?? []).slice(1).map(() => null)];

export function unsupported(ctx: RuleContext, what: string): never {
  throw new UnsupportedGradientError(`${ctx.node.opType} node "${ctx.node.name ?? ''}": ${what}`);
}

/** The gradient of an input the rule cannot differentiate. */
export const refused = (what: string): Gradient => ({ refused: what });

export const where = (ctx: RuleContext, cond: string, a: string, b: string): string => ctx.b.op('Where', [cond, a, b]);

/** Axes `axis` … rank − 1. */
export function axesFrom(axis: number, rank: number): number[] {
  return Array.from({ length: rank - axis }, (_, k) => axis + k);
}
