// A tiny float32 NHWC interpreter for the eight TFLite ops of MobileFaceNet, used only to check
// the ONNX conversion. It executes the TFLite graph literally (the PReLU stays spelled as
// relu/abs/sub/mul/add, weights stay OHWI, padding follows TFLite's SAME rule) so that it shares
// no conversion logic with the converter. Slow but simple: accumulation in double precision,
// every tensor rounded to float32 as TFLite stores it.
import { Activation, BuiltinOp, Padding, TensorType, type TfliteModel, builtinOpName, isConstant, tensorValues } from './tflite';

interface Value {
  shape: number[];
  data: Float32Array;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** TFLite SAME/VALID geometry for one spatial axis: output size and padding before. */
function axisGeometry(padding: number, inSize: number, kernel: number, stride: number, dilation: number): { out: number; before: number } {
  const effective = (kernel - 1) * dilation + 1;
  if (padding === Padding.VALID) return { out: Math.floor((inSize - effective + stride) / stride), before: 0 };
  const out = Math.floor((inSize + stride - 1) / stride);
  const total = Math.max((out - 1) * stride + effective - inSize, 0);
  return { out, before: Math.floor(total / 2) }; // TFLite puts the odd pixel after
}

function activate(v: Value, activation: number): Value {
  if (activation === Activation.NONE) return v;
  const [lo, hi] =
    activation === Activation.RELU ? [0, Infinity] : activation === Activation.RELU6 ? [0, 6] : activation === Activation.RELU_N1_TO_1 ? [-1, 1] : [NaN, NaN];
  if (Number.isNaN(lo)) throw new Error(`reference: fused activation ${activation} not supported`);
  const d = v.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.min(Math.max(d[i], lo), hi);
  return v;
}

/** CONV_2D (depthwise = false, filter OHWI) or DEPTHWISE_CONV_2D (filter [1,H,W,C·M]). */
function convolve(
  x: Value,
  filter: Value,
  bias: Float32Array | undefined,
  o: { padding: number; strideH: number; strideW: number; dilationH: number; dilationW: number; depthMultiplier: number },
  depthwise: boolean,
): Value {
  const [batch, inH, inW, inC] = x.shape;
  const [fo, kH, kW, fi] = filter.shape;
  const outC = depthwise ? fi : fo;
  const gh = axisGeometry(o.padding, inH, kH, o.strideH, o.dilationH);
  const gw = axisGeometry(o.padding, inW, kW, o.strideW, o.dilationW);
  const out = new Float32Array(batch * gh.out * gw.out * outC);
  const w = filter.data;
  const xd = x.data;
  for (let b = 0; b < batch; b++)
    for (let oy = 0; oy < gh.out; oy++)
      for (let ox = 0; ox < gw.out; ox++)
        for (let oc = 0; oc < outC; oc++) {
          let acc = bias ? bias[oc] : 0;
          for (let ky = 0; ky < kH; ky++) {
            const iy = oy * o.strideH - gh.before + ky * o.dilationH;
            if (iy < 0 || iy >= inH) continue;
            for (let kx = 0; kx < kW; kx++) {
              const ix = ox * o.strideW - gw.before + kx * o.dilationW;
              if (ix < 0 || ix >= inW) continue;
              const xBase = ((b * inH + iy) * inW + ix) * inC;
              if (depthwise) {
                const ic = Math.floor(oc / o.depthMultiplier);
                acc += xd[xBase + ic] * w[(ky * kW + kx) * fi + oc];
              } else {
                const wBase = ((oc * kH + ky) * kW + kx) * fi;
                for (let ic = 0; ic < inC; ic++) acc += xd[xBase + ic] * w[wBase + ic];
              }
            }
          }
          out[((b * gh.out + oy) * gw.out + ox) * outC + oc] = acc;
        }
  return { shape: [batch, gh.out, gw.out, outC], data: out };
}

/** Elementwise binary op with NumPy-style broadcasting (TFLite ADD/SUB/MUL semantics). */
function broadcastBinary(a: Value, b: Value, f: (x: number, y: number) => number): Value {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => {
    if (d !== sb[i] && d !== 1 && sb[i] !== 1) throw new Error(`reference: cannot broadcast [${a.shape}] with [${b.shape}]`);
    return Math.max(d, sb[i]);
  });
  // Strides of each input over the output index, 0 along broadcast axes.
  const strides = (s: number[]) => {
    const st = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = rank - 1; i >= 0; i--) {
      st[i] = s[i] === 1 ? 0 : acc;
      acc *= s[i];
    }
    return st;
  };
  const ta = strides(sa);
  const tb = strides(sb);
  const n = size(shape);
  const out = new Float32Array(n);
  const index = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let k = 0; k < n; k++) {
    out[k] = f(a.data[ia], b.data[ib]);
    // Odometer increment of the output index, keeping the input offsets in step.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      ia += ta[d];
      ib += tb[d];
      if (index[d] < shape[d]) break;
      ia -= ta[d] * shape[d];
      ib -= tb[d] * shape[d];
      index[d] = 0;
    }
  }
  return { shape, data: out };
}

function unary(x: Value, f: (v: number) => number): Value {
  return { shape: [...x.shape], data: Float32Array.from(x.data, f) };
}

/**
 * Runs the TFLite graph on an NHWC float input (already preprocessed) whose shape must equal
 * the model's input shape; returns the model's (single) output.
 */
export function runTfliteReference(model: TfliteModel, input: Float32Array): Value {
  const values = new Map<number, Value>();
  const inputIndex = model.inputs[0];
  const inputShape = model.tensors[inputIndex].shape;
  if (input.length !== size(inputShape)) throw new Error(`reference: input has ${input.length} values, model wants [${inputShape}]`);
  values.set(inputIndex, { shape: [...inputShape], data: input });

  const get = (index: number): Value => {
    const known = values.get(index);
    if (known) return known;
    if (!isConstant(model, index)) throw new Error(`reference: tensor ${index} used before it is computed`);
    const t = model.tensors[index];
    const data = t.type === TensorType.FLOAT32 ? tensorValues(model, index) : new Float32Array(0);
    const v = { shape: [...t.shape], data };
    values.set(index, v);
    return v;
  };

  for (const op of model.operators) {
    const x = get(op.inputs[0]);
    let y: Value;
    switch (op.opcode) {
      case BuiltinOp.CONV_2D:
      case BuiltinOp.DEPTHWISE_CONV_2D: {
        const bias = op.inputs.length > 2 && op.inputs[2] >= 0 ? get(op.inputs[2]).data : undefined;
        y = activate(convolve(x, get(op.inputs[1]), bias, op.conv!, op.opcode === BuiltinOp.DEPTHWISE_CONV_2D), op.conv!.activation);
        break;
      }
      case BuiltinOp.RELU:
        y = unary(x, (v) => (v > 0 ? v : 0));
        break;
      case BuiltinOp.ABS:
        y = unary(x, Math.abs);
        break;
      case BuiltinOp.ADD:
        y = activate(broadcastBinary(x, get(op.inputs[1]), (a, b) => a + b), op.activation);
        break;
      case BuiltinOp.SUB:
        y = activate(broadcastBinary(x, get(op.inputs[1]), (a, b) => a - b), op.activation);
        break;
      case BuiltinOp.MUL:
        y = activate(broadcastBinary(x, get(op.inputs[1]), (a, b) => a * b), op.activation);
        break;
      case BuiltinOp.RESHAPE: {
        // Row-major reshape: same data, the output tensor's declared (static) shape.
        const shape = model.tensors[op.outputs[0]].shape;
        if (size(shape) !== x.data.length) throw new Error(`reference: reshape [${x.shape}] -> [${shape}] changes the size`);
        y = { shape: [...shape], data: x.data };
        break;
      }
      default:
        throw new Error(`reference: op ${builtinOpName(op.opcode)} not supported`);
    }
    values.set(op.outputs[0], y);
  }
  return get(model.outputs[0]);
}
