// float16 exports run as float32: every float16 weight, constant, cast and graph input/output
// becomes float32, so the gradient rules (which build float32 constants) apply unchanged and the
// maps and results are float32. The scores then differ from the model's own float16 run by
// about float16's precision (~1e-3), the cost of differentiating in one type.
import { Float16Array } from '@petamoriken/float16';
import { DataType, type Graph, type Model, type TensorProto, makeTensor, tensorDims, toNumber } from './proto';

/** Values of a FLOAT16 tensor (raw little-endian halves, or their bits in int32Data). */
export function float16Values(t: TensorProto): Float32Array {
  const n = tensorDims(t).reduce((a, b) => a * b, 1);
  const bits = t.rawData && t.rawData.length > 0 ? new Uint16Array(new Uint8Array(t.rawData).buffer, 0, n) : Uint16Array.from(t.int32Data ?? []);
  return Float32Array.from(new Float16Array(bits.buffer, bits.byteOffset, n));
}

/** The bits of `values` rounded to float16. */
export function float16Bits(values: ArrayLike<number>): Uint16Array {
  return new Uint16Array(Float16Array.from(values).buffer);
}

const promoted = (t: TensorProto): TensorProto => makeTensor(t.name ?? '', tensorDims(t), float16Values(t));

/** Turns every float16 in the model into float32, subgraphs included; true when there was any. */
export function promoteFloat16(model: Model): boolean {
  return model.graph ? promoteGraph(model.graph) : false;
}

function promoteGraph(graph: Graph): boolean {
  let changed = false;
  graph.initializer = (graph.initializer ?? []).map((t) => {
    if (t.dataType !== DataType.FLOAT16) return t;
    changed = true;
    return promoted(t);
  });
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    const type = v.type?.tensorType;
    if (type?.elemType === DataType.FLOAT16) {
      type.elemType = DataType.FLOAT;
      changed = true;
    }
  }
  for (const node of graph.node ?? []) {
    for (const a of node.attribute ?? []) {
      if (a.t?.dataType === DataType.FLOAT16) {
        a.t = promoted(a.t);
        changed = true;
      }
      // Cast's `to`, and `dtype` of the ops that make tensors (EyeLike, RandomNormal, …).
      if ((a.name === 'to' || a.name === 'dtype') && toNumber(a.i) === DataType.FLOAT16) {
        a.i = DataType.FLOAT;
        changed = true;
      }
      if (a.g) changed = promoteGraph(a.g) || changed;
      for (const g of a.graphs ?? []) changed = promoteGraph(g) || changed;
    }
  }
  return changed;
}
