// Reading and writing ONNX models through the protobuf binding of onnx.proto (onnx-proto).
import { onnx } from 'onnx-proto';
import { UserError } from '../../shared/errors';

export { onnx };

export type Model = onnx.IModelProto;
export type Graph = onnx.IGraphProto;
export type Node = onnx.INodeProto;
export type TensorProto = onnx.ITensorProto;
/** A float attribute; a plain number is written as an INT attribute. */
export class FloatAttr {
  constructor(readonly value: number) {}
}
export const float = (value: number): FloatAttr => new FloatAttr(value);
export type AttributeValue = number | FloatAttr | string | number[] | TensorProto | Graph;

export const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

/** Opset of ai.onnx used by every graph the engine writes (ORT 1.30 accepts up to 26). */
export const ENGINE_OPSET = 18;
const ENGINE_IR_VERSION = 8;

/**
 * protobufjs decodes int64 fields as Long objects ({ low, high }); structuredClone keeps the
 * fields but not the class, so both forms are read from the fields.
 */
export function toNumber(v: number | { low: number; high: number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.high * 4294967296 + (v.low >>> 0);
}

export class OnnxFormatError extends UserError {}

export function decodeModel(bytes: Uint8Array): Model {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  if (!model.graph || !model.graph.node || model.graph.node.length === 0) {
    throw new OnnxFormatError('not an ONNX model (it has no graph nodes)');
  }
  return model;
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

export function makeModel(graph: Graph, opset = ENGINE_OPSET, extraOpsets: onnx.IOperatorSetIdProto[] = []): Model {
  return {
    irVersion: ENGINE_IR_VERSION,
    producerName: 'xssab',
    opsetImport: [{ domain: '', version: opset }, ...extraOpsets],
    graph,
  };
}

/** Version of the default (ai.onnx) opset a model imports. */
export function defaultOpset(model: Model): number {
  const entry = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? toNumber(entry.version) : ENGINE_OPSET;
}

// ---------------------------------------------------------------- tensors

const INTEGER_ARRAYS: Record<number, Int8ArrayConstructor | Uint8ArrayConstructor | Int32ArrayConstructor> = {
  [DataType.INT8]: Int8Array,
  [DataType.UINT8]: Uint8Array,
  [DataType.INT32]: Int32Array,
};

export function makeTensor(
  name: string,
  dims: readonly number[],
  values: Float32Array | readonly number[],
  dataType: number = DataType.FLOAT,
): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new Error(`tensor ${name}: ${values.length} values for shape [${dims.join(', ')}]`);
  }
  let raw: Uint8Array;
  if (dataType === DataType.FLOAT) {
    raw = new Uint8Array(Float32Array.from(values).buffer);
  } else if (dataType === DataType.INT64) {
    raw = new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))).buffer);
  } else if (dataType === DataType.BOOL) {
    raw = Uint8Array.from(values, (v) => (v ? 1 : 0));
  } else if (dataType in INTEGER_ARRAYS) {
    // Quantized values and zero points; out-of-range values are refused rather than wrapped.
    const typed = new INTEGER_ARRAYS[dataType](values.length);
    values.forEach((v, i) => {
      if (!Number.isInteger(v)) throw new Error(`tensor ${name}: ${v} is not an integer`);
      typed[i] = v;
      if (typed[i] !== v) throw new Error(`tensor ${name}: ${v} is out of range for data type ${dataType}`);
    });
    raw = new Uint8Array(typed.buffer);
  } else {
    throw new Error(`tensor ${name}: data type ${dataType} is not written by the engine`);
  }
  return { name, dims: [...dims], dataType, rawData: raw };
}

/** Values of a FLOAT, DOUBLE or integer tensor, as float32. */
export function tensorFloats(t: TensorProto): Float32Array {
  const n = (t.dims ?? []).reduce((a: number, b) => a * toNumber(b), 1);
  const raw = t.rawData && t.rawData.length > 0 ? new Uint8Array(t.rawData) : null; // copy: protobufjs slices at odd offsets
  switch (t.dataType) {
    case DataType.FLOAT:
      return raw ? new Float32Array(raw.buffer, 0, n) : Float32Array.from(t.floatData ?? []);
    case DataType.DOUBLE:
      return raw ? Float32Array.from(new Float64Array(raw.buffer, 0, n)) : Float32Array.from(t.doubleData ?? []);
    case DataType.INT64:
    case DataType.INT32:
    case DataType.INT8:
    case DataType.UINT8:
      return Float32Array.from(tensorInts(t));
    default:
      throw new Error(`tensor ${t.name}: data type ${t.dataType} cannot be read as float`);
  }
}

/** Values of an INT64, INT32, INT8 or UINT8 tensor (the 8-bit ones hold quantized values and zero points). */
export function tensorInts(t: TensorProto): number[] {
  const raw = t.rawData && t.rawData.length > 0 ? new Uint8Array(t.rawData) : null;
  switch (t.dataType) {
    case DataType.INT64:
      return raw ? Array.from(new BigInt64Array(raw.buffer), Number) : (t.int64Data ?? []).map(toNumber);
    case DataType.INT32:
      return raw ? Array.from(new Int32Array(raw.buffer)) : [...(t.int32Data ?? [])];
    case DataType.INT8:
      return raw ? Array.from(new Int8Array(raw.buffer)) : [...(t.int32Data ?? [])];
    case DataType.UINT8:
      return raw ? Array.from(raw) : [...(t.int32Data ?? [])];
    default:
      throw new Error(`tensor ${t.name}: data type ${t.dataType} is not an integer type`);
  }
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

// ---------------------------------------------------------------- attributes

export function makeAttribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: AttrType.INT, i: value };
  if (value instanceof FloatAttr) return { name, type: AttrType.FLOAT, f: value.value };
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if ('node' in value) return { name, type: AttrType.GRAPH, g: value as Graph };
  return { name, type: AttrType.TENSOR, t: value as TensorProto };
}

/** Typed access to a node's attributes, with defaults as in the ONNX operator docs. */
export class Attributes {
  private readonly byName = new Map<string, onnx.IAttributeProto>();
  constructor(node: Node) {
    for (const a of node.attribute ?? []) this.byName.set(a.name ?? '', a);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? toNumber(a.i) : fallback;
  }
  float(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? (a.f ?? 0) : fallback;
  }
  ints(name: string, fallback: number[]): number[] {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map(toNumber) : fallback;
  }
  string(name: string, fallback: string): string {
    const a = this.byName.get(name);
    return a && a.s ? new TextDecoder().decode(a.s) : fallback;
  }
  tensor(name: string): TensorProto | undefined {
    return this.byName.get(name)?.t ?? undefined;
  }
}

export function floatValueInfo(name: string, dims: readonly (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Static dims of a value info; symbolic or unknown dims are returned as -1. */
export function valueInfoDims(info: onnx.IValueInfoProto): number[] {
  return (info.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue) > 0 ? toNumber(d.dimValue) : -1,
  );
}
