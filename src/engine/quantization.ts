// What kind of reduced-precision export a model is: the forms onnxruntime's quantizer writes
// (QDQ, QOperator, dynamic) and float16 exports. The engine explains all of them; the kind says
// how to read the gradients (straight-through for the integer kinds) and what `inspect` reports.
import { DataType, type Model, type Node, Attributes } from './onnx/proto';

export type QuantizationKind = 'none' | 'QDQ' | 'QOperator' | 'dynamic' | 'float16';

/** Integer operators with quantization parameters as inputs (QOperator format). */
const QOPERATOR_OPS = new Set([
  'QLinearConv',
  'QLinearMatMul',
  'QLinearAdd',
  'QLinearMul',
  'QLinearGlobalAveragePool',
  'QLinearAveragePool',
  'QLinearConcat',
  'QLinearSigmoid',
  'QLinearLeakyRelu',
  'QLinearSoftmax',
  'QGemm',
]);
/** Operators of dynamic quantization: activations quantized at run time, integer products. */
const DYNAMIC_OPS = new Set(['DynamicQuantizeLinear', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat']);
const QDQ_OPS = new Set(['QuantizeLinear', 'DequantizeLinear']);

/** The integer kinds, whose gradients are straight-through estimates. */
export function isIntegerQuantized(kind: QuantizationKind): boolean {
  return kind === 'QDQ' || kind === 'QOperator' || kind === 'dynamic';
}

/**
 * The model's kind. A QOperator model also has QuantizeLinear/DequantizeLinear at its edges, and
 * a quantized model may keep float16 parts, so the integer operators decide first.
 */
export function quantizationKind(model: Model): QuantizationKind {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const has = (ops: Set<string>) => nodes.some((n) => ops.has(n.opType ?? ''));
  if (has(QOPERATOR_OPS)) return 'QOperator';
  if (has(DYNAMIC_OPS)) return 'dynamic';
  if (has(QDQ_OPS)) return 'QDQ';
  const values = [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])];
  if (values.some((v) => v.type?.tensorType?.elemType === DataType.FLOAT16)) return 'float16';
  if ((graph.initializer ?? []).some((t) => t.dataType === DataType.FLOAT16)) return 'float16';
  if (nodes.some(isFloat16Node)) return 'float16';
  return 'none';
}

/** A Cast to float16, or a Constant holding a float16 tensor. */
function isFloat16Node(node: Node): boolean {
  const attrs = new Attributes(node);
  if (node.opType === 'Cast') return attrs.int('to', 0) === DataType.FLOAT16;
  if (node.opType === 'Constant') return attrs.tensor('value')?.dataType === DataType.FLOAT16;
  return false;
}
