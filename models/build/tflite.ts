// A small reader for TFLite model files (FlatBuffers, schema.fbs of TensorFlow Lite).
// Only the tables the MobileFaceNet conversion needs are decoded, by field id, so no generated
// schema code is required. Field ids below follow tensorflow/lite/schema/schema.fbs.
import { ByteBuffer } from 'flatbuffers';

/** BuiltinOperator codes used here (schema.fbs enum BuiltinOperator). */
export const BuiltinOp = {
  ADD: 0,
  CONV_2D: 3,
  DEPTHWISE_CONV_2D: 4,
  MUL: 18,
  RELU: 19,
  RESHAPE: 22,
  SUB: 41,
  ABS: 101,
} as const;

/** Human-readable names for the codes above (for error messages and summaries). */
export function builtinOpName(code: number): string {
  const entry = Object.entries(BuiltinOp).find(([, v]) => v === code);
  return entry ? entry[0] : `BUILTIN_${code}`;
}

/** BuiltinOptions union tags (schema.fbs union BuiltinOptions). */
const OptionsType = {
  NONE: 0,
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  AddOptions: 11,
  ReshapeOptions: 17,
  MulOptions: 21,
  SubOptions: 28,
} as const;

/** schema.fbs enum ActivationFunctionType. */
export const Activation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;
/** schema.fbs enum Padding. */
export const Padding = { SAME: 0, VALID: 1 } as const;
/** schema.fbs enum TensorType (only FLOAT32 tensors are decoded to values). */
export const TensorType = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4 } as const;

export interface TfliteTensor {
  name: string;
  shape: number[];
  type: number;
  /** Index into TfliteModel.buffers; buffer 0 is the empty sentinel. */
  buffer: number;
}

export interface ConvOptions {
  padding: number;
  strideW: number;
  strideH: number;
  dilationW: number;
  dilationH: number;
  /** DEPTHWISE_CONV_2D only; 1 for CONV_2D. */
  depthMultiplier: number;
  activation: number;
}

export interface TfliteOperator {
  /** Builtin operator code (resolved from OperatorCode). */
  opcode: number;
  inputs: number[];
  outputs: number[];
  /** Decoded options for CONV_2D and DEPTHWISE_CONV_2D. */
  conv?: ConvOptions;
  /** Fused activation of ADD / SUB / MUL (Activation.NONE when absent). */
  activation: number;
  /** RESHAPE new_shape option, when given (the shape may also come from input 1). */
  newShape?: number[];
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  /** Raw bytes of every buffer (views into the file; empty when the buffer holds no data). */
  buffers: Uint8Array[];
}

/** A FlatBuffers table: its position, with typed field accessors by field id. */
class Table {
  constructor(readonly bb: ByteBuffer, readonly pos: number) {}

  /** Offset of a field relative to the table, or 0 when absent (vtable slot = 4 + 2·id). */
  private field(id: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * id);
  }

  int8(id: number, fallback: number): number {
    const o = this.field(id);
    return o ? this.bb.readInt8(this.pos + o) : fallback;
  }
  uint8(id: number, fallback: number): number {
    const o = this.field(id);
    return o ? this.bb.readUint8(this.pos + o) : fallback;
  }
  int32(id: number, fallback: number): number {
    const o = this.field(id);
    return o ? this.bb.readInt32(this.pos + o) : fallback;
  }
  uint32(id: number, fallback: number): number {
    const o = this.field(id);
    return o ? this.bb.readUint32(this.pos + o) : fallback;
  }
  uint64(id: number, fallback: bigint): bigint {
    const o = this.field(id);
    return o ? this.bb.readUint64(this.pos + o) : fallback;
  }
  string(id: number): string {
    const o = this.field(id);
    return o ? (this.bb.__string(this.pos + o) as string) : '';
  }
  /** A sub-table (also used for a union value, whose tag is a separate field). */
  table(id: number): Table | undefined {
    const o = this.field(id);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : undefined;
  }
  tables(id: number): Table[] {
    const o = this.field(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    // Each element is a uoffset to the element table.
    return Array.from({ length: n }, (_, i) => new Table(this.bb, this.bb.__indirect(start + 4 * i)));
  }
  int32s(id: number): number[] {
    const o = this.field(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(start + 4 * i));
  }
  bytes(id: number): Uint8Array {
    const o = this.field(id);
    if (!o) return new Uint8Array(0);
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return this.bb.bytes().subarray(start, start + n);
  }
}

export class TfliteFormatError extends Error {}

/** Parses a .tflite file. Throws TfliteFormatError for files that are not TFLite models. */
export function readTflite(bytes: Uint8Array): TfliteModel {
  // A Node Buffer's slice() is a view, not a copy: work on a plain Uint8Array throughout.
  const file = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) : bytes;
  const bb = new ByteBuffer(file);
  if (file.length < 8 || bb.getBufferIdentifier() !== 'TFL3') {
    throw new TfliteFormatError('not a TFLite model (file identifier is not "TFL3")');
  }
  const model = new Table(bb, bb.readInt32(0));

  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
  // OperatorCode: deprecated_builtin_code:int8 0, custom_code 1, version 2, builtin_code:int32 3.
  // Newer writers put codes >= 127 only in builtin_code and clamp the deprecated one to 127
  // (PLACEHOLDER_FOR_GREATER_OP_CODES); older writers only fill the deprecated field.
  const opcodes = model.tables(1).map((oc) => Math.max(oc.int8(0, 0), oc.int32(3, 0)));

  // Buffer: data:[ubyte] 0, offset:uint64 1, size:uint64 2 (offset/size are used by >2 GB models
  // whose data lives after the flatbuffer; relative to the start of the file).
  const buffers = model.tables(4).map((b) => {
    const data = b.bytes(0);
    if (data.length > 0) return data;
    const offset = Number(b.uint64(1, 0n));
    const size = Number(b.uint64(2, 0n));
    return offset > 1 && size > 0 ? file.subarray(offset, offset + size) : data;
  });

  const subgraphs = model.tables(2);
  if (subgraphs.length !== 1) throw new TfliteFormatError(`expected 1 subgraph, found ${subgraphs.length}`);
  const sg = subgraphs[0];

  // Tensor: shape 0, type 1, buffer 2, name 3.
  const tensors: TfliteTensor[] = sg.tables(0).map((t) => ({
    shape: t.int32s(0),
    type: t.int8(1, TensorType.FLOAT32),
    buffer: t.uint32(2, 0),
    name: t.string(3),
  }));

  // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
  const operators: TfliteOperator[] = sg.tables(3).map((op, index) => {
    const opcode = opcodes[op.uint32(0, 0)];
    const optionsType = op.uint8(3, OptionsType.NONE);
    const options = op.table(4);
    const result: TfliteOperator = {
      opcode,
      inputs: op.int32s(1),
      outputs: op.int32s(2),
      activation: Activation.NONE,
    };
    const expect = (tag: number): Table | undefined => {
      if (optionsType === OptionsType.NONE) return undefined;
      if (optionsType !== tag) {
        throw new TfliteFormatError(`operator ${index} (${builtinOpName(opcode)}): unexpected options type ${optionsType}`);
      }
      return options;
    };
    switch (opcode) {
      case BuiltinOp.CONV_2D: {
        // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3,
        // dilation_w_factor 4, dilation_h_factor 5.
        const o = expect(OptionsType.Conv2DOptions);
        result.conv = {
          padding: o?.int8(0, Padding.SAME) ?? Padding.SAME,
          strideW: o?.int32(1, 0) ?? 0,
          strideH: o?.int32(2, 0) ?? 0,
          activation: o?.int8(3, Activation.NONE) ?? Activation.NONE,
          dilationW: o?.int32(4, 1) ?? 1,
          dilationH: o?.int32(5, 1) ?? 1,
          depthMultiplier: 1,
        };
        break;
      }
      case BuiltinOp.DEPTHWISE_CONV_2D: {
        // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
        // fused_activation_function 4, dilation_w_factor 5, dilation_h_factor 6.
        const o = expect(OptionsType.DepthwiseConv2DOptions);
        result.conv = {
          padding: o?.int8(0, Padding.SAME) ?? Padding.SAME,
          strideW: o?.int32(1, 0) ?? 0,
          strideH: o?.int32(2, 0) ?? 0,
          depthMultiplier: o?.int32(3, 0) ?? 0,
          activation: o?.int8(4, Activation.NONE) ?? Activation.NONE,
          dilationW: o?.int32(5, 1) ?? 1,
          dilationH: o?.int32(6, 1) ?? 1,
        };
        break;
      }
      case BuiltinOp.ADD:
        // AddOptions: fused_activation_function 0.
        result.activation = expect(OptionsType.AddOptions)?.int8(0, Activation.NONE) ?? Activation.NONE;
        break;
      case BuiltinOp.SUB:
        result.activation = expect(OptionsType.SubOptions)?.int8(0, Activation.NONE) ?? Activation.NONE;
        break;
      case BuiltinOp.MUL:
        result.activation = expect(OptionsType.MulOptions)?.int8(0, Activation.NONE) ?? Activation.NONE;
        break;
      case BuiltinOp.RESHAPE: {
        // ReshapeOptions: new_shape 0.
        const o = expect(OptionsType.ReshapeOptions);
        if (o) result.newShape = o.int32s(0);
        break;
      }
      default:
        break;
    }
    return result;
  });

  return {
    version: model.uint32(0, 0),
    description: model.string(3),
    tensors,
    inputs: sg.int32s(1),
    outputs: sg.int32s(2),
    operators,
    buffers,
  };
}

/** Float32 values of a constant tensor (little-endian, as TFLite stores them). */
export function tensorValues(model: TfliteModel, index: number): Float32Array {
  const t = model.tensors[index];
  if (t.type !== TensorType.FLOAT32) throw new TfliteFormatError(`tensor ${t.name}: type ${t.type} is not FLOAT32`);
  const data = model.buffers[t.buffer];
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (!data || data.length !== 4 * count) {
    throw new TfliteFormatError(`tensor ${t.name}: buffer holds ${data?.length ?? 0} bytes, expected ${4 * count}`);
  }
  // Copy: the buffer may sit at an offset that is not 4-byte aligned.
  return new Float32Array(Uint8Array.from(data).buffer);
}

/** True when the tensor holds constant data (weights), false for activations. */
export function isConstant(model: TfliteModel, index: number): boolean {
  const t = model.tensors[index];
  return t.buffer > 0 && (model.buffers[t.buffer]?.length ?? 0) > 0;
}
