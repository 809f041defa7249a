// Test helpers for quantized models: values on a quantization grid, and quantization parameters
// as initializers, for graphs built with the engine's own builder.
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { DataType } from '../../src/engine/onnx/proto';
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
