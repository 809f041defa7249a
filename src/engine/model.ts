// Loading a face-recognition ONNX model: its image input, embedding output, preprocessing and
// threshold, with the batch dimension opened where measurement shows it can be (batch.ts), so
// pairs and batches of pairs run at once.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { type GraphInfo, collectConstants } from './autodiff/graphInfo';
import { type BatchHandling, openBatch } from './batch';
import { ARCFACE_PREPROCESSING, DEFAULT_THRESHOLD, type ModelCard, readModelCard } from './modelCard';
import { GraphBuilder } from './onnx/builder';
import { type QuantizationKind, quantizationKind } from './quantization';
import { promoteFloat16 } from './onnx/float16';
import { RecentMap } from './recentMap';
import { modelShapes } from './shapeCache';
import { type Model, OnnxFormatError, toNumber, decodeModel, defaultOpset } from './onnx/proto';
import { UserError } from '../shared/errors';

export class ModelError extends UserError {}

const DEFAULT_MODEL_FILE = 'mobilefacenet.onnx';

/**
 * Where the bundled models live: the nearest `models/` above this code holding the default model
 * (next to the bundles in a package, at the repository root when run from source).
 */
export function bundledModelsDir(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'models');
    if (fs.existsSync(path.join(candidate, DEFAULT_MODEL_FILE))) return candidate;
    if (path.dirname(dir) === dir) throw new ModelError(`cannot find the bundled models (models/${DEFAULT_MODEL_FILE}) above ${__dirname}`);
  }
}

export function defaultModelPath(): string {
  return path.join(bundledModelsDir(), DEFAULT_MODEL_FILE);
}

export interface Preprocessing {
  channelOrder: 'RGB' | 'BGR';
  mean: number;
  std: number;
}

export interface FrModel {
  path: string;
  name: string;
  sha256: string;
  /** The forward graph (with a symbolic batch unless it runs one face per call); its input and output names. */
  proto: Model;
  input: string;
  output: string;
  opset: number;
  /** Channels, height, width of one preprocessed face. */
  inputShape: [number, number, number];
  embeddingSize: number;
  preprocessing: Preprocessing;
  threshold: number;
  thresholdSource: 'model card' | 'default';
  info: GraphInfo;
  warnings: string[];
  /** Reduced-precision export the model file is (quantization.ts). */
  quantization: QuantizationKind;
  /** How it runs batches: measured once per model content (batch.ts). */
  batch: BatchHandling;
}

export interface LoadOptions {
  /** Preprocessing given by the user; overrides the card. */
  preprocessing?: Partial<Preprocessing>;
}

// Two: explain-pairs compares two models at once.
const loaded = new RecentMap<string, Promise<FrModel>>(2);

/**
 * Loads a model; the same file content with the same card and options is prepared once while it
 * is one of the two models used last (preparing parses the file and may measure its shapes).
 */
export async function loadFrModel(modelPath: string, options: LoadOptions = {}): Promise<FrModel> {
  if (!fs.existsSync(modelPath)) throw new ModelError(`${modelPath}: model file not found`);
  if (!fs.statSync(modelPath).isFile()) throw new ModelError(`${modelPath}: not a file`);
  const bytes = fs.readFileSync(modelPath);
  const card = readModelCard(modelPath);
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  const key = JSON.stringify([sha256, path.resolve(modelPath), card ?? null, options.preprocessing ?? null]);
  let model = loaded.get(key);
  if (!model) {
    model = prepareModel(modelPath, bytes, sha256, card, options);
    loaded.set(key, model);
    model.catch(() => loaded.delete(key));
  }
  return model;
}

async function prepareModel(modelPath: string, bytes: Buffer, sha256: string, card: ModelCard | undefined, options: LoadOptions): Promise<FrModel> {
  let proto: Model;
  try {
    proto = decodeModel(bytes);
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new ModelError(`${modelPath}: ${e.message}`);
    throw e;
  }
  const warnings: string[] = [];
  // Of the file as written: promotion below makes a float16 model float32.
  const quantization = quantizationKind(proto);
  if (promoteFloat16(proto)) {
    warnings.push('the model computes in float16: it runs in float32 here, so its scores differ from its own float16 run by about 1e-3');
  }
  const graph = proto.graph!;
  const initializerNames = new Set((graph.initializer ?? []).map((t) => t.name));
  const realInputs = (graph.input ?? []).filter((v) => !initializerNames.has(v.name));
  const input = card?.input ?? realInputs[0]?.name ?? '';
  const output = card?.output ?? graph.output?.[0]?.name ?? '';
  if (!realInputs.some((v) => v.name === input)) throw new ModelError(`${modelPath}: the model has no input named "${input}"`);
  if (realInputs.length !== 1) {
    throw new ModelError(`${modelPath}: expected one image input, found ${realInputs.length} (${realInputs.map((v) => v.name).join(', ')})`);
  }
  if (!(graph.output ?? []).some((v) => v.name === output)) throw new ModelError(`${modelPath}: the model has no output named "${output}"`);

  const side = card?.inputSize ?? ARCFACE_INPUT_SIZE;
  if (fixOpenSpatialSize(proto, input, side)) {
    warnings.push(`the model's input leaves height and width open: using ${side}×${side}${card?.inputSize ? ' (model card)' : ' (the ArcFace size; set "inputSize" on a model card for another)'}`);
  }
  const batch = await openBatch(proto, input, output, sha256).catch((e: Error) => {
    throw new ModelError(`${modelPath}: onnxruntime cannot run the model (${e.message.split('\n')[0]})`);
  });
  if (batch.kind === 'one face per run') warnings.push(`faces run one per session call, which is slower: ${batch.reason}`);
  const shapes = await modelShapes(proto, input, sha256).catch((e: Error) => {
    throw new ModelError(`${modelPath}: onnxruntime cannot run the model (${e.message.split('\n')[0]})`);
  });
  const inDims = shapes.get(input)!;
  const outDims = shapes.get(output)!;
  if (inDims.length !== 4 || inDims[1] !== 3) {
    throw new ModelError(`${modelPath}: input "${input}" has shape [${inDims.join(', ')}]; expected [N, 3, H, W]`);
  }
  if (outDims.length < 2 || outDims.slice(2).some((d) => d !== 1)) {
    throw new ModelError(`${modelPath}: output "${output}" has shape [${outDims.join(', ')}]; expected an embedding [N, d]`);
  }
  let embedding = output;
  if (outDims.length > 2) {
    const b = new GraphBuilder(graph, defaultOpset(proto));
    embedding = b.op('Flatten', [output], { axis: 1 });
    shapes.set(embedding, outDims.slice(0, 2));
  }

  const preprocessing: Preprocessing = {
    ...(card ?? ARCFACE_PREPROCESSING),
    ...Object.fromEntries(Object.entries(options.preprocessing ?? {}).filter(([, v]) => v !== undefined)),
  } as Preprocessing;
  if (!card && !options.preprocessing) {
    warnings.push(
      `no model card next to ${path.basename(modelPath)}: assuming the ArcFace convention ((x − 127.5) / 127.5, RGB, NCHW)`,
    );
  }
  const threshold = card?.threshold ?? DEFAULT_THRESHOLD;
  if (card?.threshold === undefined) warnings.push(`no threshold on the model card: using ${DEFAULT_THRESHOLD}; set one with --threshold`);

  return {
    path: modelPath,
    name: card?.name ?? path.basename(modelPath, '.onnx'),
    sha256,
    proto,
    input,
    output: embedding,
    opset: defaultOpset(proto),
    inputShape: [inDims[1], inDims[2], inDims[3]],
    embeddingSize: outDims[1],
    preprocessing,
    threshold,
    thresholdSource: card?.threshold === undefined ? 'default' : 'model card',
    info: { shapes, constants: collectConstants(graph) },
    warnings,
    quantization,
    batch,
  };
}

/** The side of ArcFace-aligned crops, assumed when neither the graph nor a card fixes it. */
const ARCFACE_INPUT_SIZE = 112;

/** Fixes symbolic height and width of an NCHW image input to `side`; true when it changed any. */
function fixOpenSpatialSize(model: Model, input: string, side: number): boolean {
  const dims = model.graph!.input?.find((v) => v.name === input)?.type?.tensorType?.shape?.dim;
  if (!dims || dims.length !== 4) return false;
  let changed = false;
  for (const axis of [2, 3]) {
    if (!(toNumber(dims[axis].dimValue) > 0)) {
      dims[axis] = { dimValue: side };
      changed = true;
    }
  }
  return changed;
}
