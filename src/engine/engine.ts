// The engine's front door: from two photos (or aligned crops) to an explained pair. Holds the
// model sessions and the face detector, built once and reused for every pair.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_RANGE_PERCENTILE, mapRanges } from '../shared/colour';
import { dot, unitEmbeddings } from './embeddings';
import { XSSAB_SETTING, createMethod } from './methods/registry';
import type { PairLabel } from '../shared/pairListSummary';
import { type EqualErrorRate, equalErrorRate } from './verification';
import { FaceDetector } from './face/detector';
import { warpAffine } from './face/align';
import { type Point, applyAffine, similarityTransform, templateFor } from '../shared/alignment';
import { type RgbImage, decodeImage, resizeRgb } from './image';
import { type FrModel, type LoadOptions, type Preprocessing, defaultModelPath, loadFrModel } from './model';
import { regionLabels, regionSums, templateLandmarks } from '../shared/regions';
import type { ExplanationResult, ImageInfo, TrustCheck } from '../shared/result';
import type { ExplainedPair, PreparedFace } from './pair';
import { isIntegerQuantized } from './quantization';
import { RecentMap } from './recentMap';
import { trustCheck } from './trustCheck';
import type { ExecutionProviderChoice, FallbackNotice } from './runtime';
import { Explainer, type FaceMaps, type ModelGraph } from './xssab';
import { UserError } from '../shared/errors';

export class FaceError extends UserError {}

export interface FaceOptions {
  /** Which detected face to use, numbered by size from 0 (the largest). */
  face?: number;
  /** Use the image as the aligned crop (resized to the model's input size when needed). */
  noAlign?: boolean;
}

/** One explained face's result entry: its info with the maps summed over its face regions. */
function withRegions(face: PreparedFace, maps: FaceMaps): ImageInfo {
  const { width, height } = face.crop;
  const landmarks = face.info.regionLandmarks ?? templateLandmarks(width, height);
  return { ...face.info, regions: regionSums(maps, regionLabels(landmarks, width, height)) };
}

export interface EngineOptions extends LoadOptions {
  model?: string;
  ep?: ExecutionProviderChoice;
  onFallback?: FallbackNotice;
  /** Told about the model's warnings (no card, default threshold) as soon as it is loaded. */
  onModelWarning?: (message: string) => void;
  /** What the engine is for: that graph's session opens at once, the other one on first use. */
  purpose?: ModelGraph;
  /**
   * How many prepared faces explainPair keeps (the extension's worker): explaining a pair again
   * at another threshold, or with another face of the other image, then neither decodes,
   * detects nor aligns an image it has prepared. None by default.
   */
  cachedFaces?: number;
}

/**
 * What identifies an image's content: its path with the file's size and modification time (a
 * changed file is prepared afresh), or a hash of its bytes. Undefined for a file that cannot be
 * read (preparing it then reports why).
 */
async function imageIdentity(source: string | Buffer): Promise<string | undefined> {
  if (typeof source !== 'string') return `sha256 ${crypto.createHash('sha256').update(source).digest('hex')}`;
  const stat = await fs.promises.stat(source).catch(() => undefined);
  return stat && `${path.resolve(source)} ${stat.size} ${stat.mtimeMs}`;
}

/** Preprocessed NCHW float data of one crop: (v − mean) / std in the model's channel order. */
export function toModelInput(crop: RgbImage, p: Preprocessing): Float32Array {
  const plane = crop.width * crop.height;
  const out = new Float32Array(3 * plane);
  const order = p.channelOrder === 'RGB' ? [0, 1, 2] : [2, 1, 0];
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    for (let i = 0; i < plane; i++) out[c * plane + i] = (crop.data[i * 3 + src] - p.mean) / p.std;
  }
  return out;
}

/**
 * Faces or pairs per run when none is asked for: `gpu` on a GPU, which needs large runs to be
 * busy, and 4 on the CPU, where small runs are fastest because the activations of many faces
 * overflow the caches (MobileFaceNet on real faces, 2 cores: 6.4 ms per face at 4, 10.2 ms at
 * 64; a deep IResNet-100 is compute-bound: 132 ms at 1, 141 ms at 16).
 */
export function defaultBatch(ep: string, gpu: number): number {
  return ep === 'cpu' ? 4 : gpu;
}

export class Engine {
  private detector?: Promise<FaceDetector>;
  private readonly preparedFaces?: RecentMap<string, Promise<PreparedFace>>;

  private constructor(
    readonly model: FrModel,
    readonly explainer: Explainer,
    cachedFaces = 0,
  ) {
    if (cachedFaces > 0) this.preparedFaces = new RecentMap(cachedFaces);
  }

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const model = await loadFrModel(options.model || defaultModelPath(), options);
    for (const w of model.warnings) options.onModelWarning?.(w);
    const explainer = await Explainer.create(model, options.ep ?? 'cpu', options.onFallback, options.purpose);
    return new Engine(model, explainer, options.cachedFaces);
  }

  get ep(): string {
    return this.explainer.ep;
  }

  /** Faces or pairs per run when none is asked for (see defaultBatch). */
  defaultBatch(gpu: number): number {
    return defaultBatch(this.ep, gpu);
  }

  private faceDetector(): Promise<FaceDetector> {
    // The detector runs where the recognition model runs.
    this.detector ??= FaceDetector.load(this.ep as ExecutionProviderChoice);
    return this.detector;
  }

  /** Decodes an image and brings its face into the model's input frame. */
  async prepareFace(source: string | Buffer, label: string, options: FaceOptions = {}): Promise<PreparedFace> {
    const photo = await decodeImage(source);
    const [, height, width] = this.model.inputShape;
    const info: ImageInfo = { path: label, width: photo.width, height: photo.height, alignment: 'crop' };
    const isCrop = photo.width === width && photo.height === height;
    if (isCrop || options.noAlign) {
      if (isCrop) return { photo, crop: photo, info, warnings: [] };
      info.alignment = 'resized';
      const warning = `${label}: --no-align resized the ${photo.width}×${photo.height} image to ${width}×${height} without alignment`;
      return { photo, crop: await resizeRgb(photo, width, height), info, warnings: [warning] };
    }
    const faces = await (await this.faceDetector()).detect(photo);
    if (faces.length === 0) throw new FaceError(`${label}: no face found`);
    const index = options.face ?? 0;
    if (!Number.isInteger(index) || index < 0 || index >= faces.length) {
      throw new FaceError(`${label}: face ${index} asked for, but ${faces.length} face(s) were found (numbered 0–${faces.length - 1} by size)`);
    }
    const transform = similarityTransform(faces[index].landmarks, templateFor(width, height));
    const regionLandmarks = faces[index].points68.map((p) => applyAffine(transform, p).map((v) => Math.round(v * 10) / 10) as Point);
    Object.assign(info, { alignment: 'detected', transform, faces: faces.map(({ points68: _, ...face }) => face), faceIndex: index, regionLandmarks });
    return { photo, crop: warpAffine(photo, transform, width, height), info, warnings: [] };
  }

  /** prepareFace, through the cache of prepared faces when the engine keeps one (failures are not kept). */
  private async cachedFace(image: { source: string | Buffer; label: string } & FaceOptions): Promise<PreparedFace> {
    const prepare = () => this.prepareFace(image.source, image.label, image);
    const cache = this.preparedFaces;
    const identity = cache && (await imageIdentity(image.source));
    if (!cache || identity === undefined) return prepare();
    // The crop depends on the model's input size too (the engine's model is fixed, the key says it anyway).
    const key = JSON.stringify([identity, image.label, image.face ?? 0, image.noAlign === true, this.model.inputShape]);
    let face = cache.get(key);
    if (!face) {
      face = prepare();
      cache.set(key, face);
      face.catch(() => cache.delete(key));
    }
    return face;
  }

  /** Explains one pair of images (paths, or buffers with a label). */
  async explainPair(
    a: { source: string | Buffer; label: string } & FaceOptions,
    b: { source: string | Buffer; label: string } & FaceOptions,
    threshold?: number,
  ): Promise<ExplainedPair> {
    const start = performance.now();
    // Both at once: one photo decodes while the other's faces are detected. A's failure is reported first.
    const [fa, fb] = await Promise.allSettled([this.cachedFace(a), this.cachedFace(b)]);
    if (fa.status === 'rejected') throw fa.reason;
    if (fb.status === 'rejected') throw fb.reason;
    const faces: [PreparedFace, PreparedFace] = [fa.value, fb.value];
    const prepareMs = performance.now() - start;
    const [pair] = await this.explainFaces([faces], threshold);
    pair.result.timings = { totalMs: performance.now() - start, prepareMs, explainMs: pair.result.timings.explainMs };
    return pair;
  }

  /** Explains N pairs of prepared faces in one fused run; timings are shares of the run. */
  async explainFaces(pairs: readonly [PreparedFace, PreparedFace][], threshold?: number): Promise<ExplainedPair[]> {
    const start = performance.now();
    const t = threshold ?? this.model.threshold;
    const p = this.model.preprocessing;
    const inputs = pairs.map((pair, index) => ({ a: toModelInput(pair[0].crop, p), b: toModelInput(pair[1].crop, p), index }));
    // All pairs in one fused run: the registry's xssab gives its run's score and split with the maps.
    const method = createMethod(XSSAB_SETTING, { explainer: this.explainer, threshold: t, batch: 2 * pairs.length });
    const explained = (await method.attribute(inputs, 'both')).map((a) => a.run!);
    const explainMs = (performance.now() - start) / pairs.length;
    const m = this.model;
    return explained.map((pair, i) => {
      const faces = pairs[i];
      const result: ExplanationResult = {
        version: 1,
        model: { name: m.name, path: m.path, sha256: m.sha256, inputSize: [m.inputShape[1], m.inputShape[2]], embeddingSize: m.embeddingSize },
        threshold: t,
        thresholdSource: threshold !== undefined ? 'user' : m.thresholdSource,
        score: pair.score,
        decision: pair.score >= t ? 'match' : 'no match',
        margin: pair.score - t,
        split: pair.split,
        arguments: Array.from(pair.arguments),
        ep: this.ep,
        ...(isIntegerQuantized(m.quantization) ? { gradients: 'straight-through (quantized model)' as const } : {}),
        timings: { totalMs: explainMs, explainMs },
        a: withRegions(faces[0], pair.maps[0]),
        b: withRegions(faces[1], pair.maps[1]),
        ranges: { a: mapRanges(pair.maps[0]), b: mapRanges(pair.maps[1]) },
        rangePercentile: DEFAULT_RANGE_PERCENTILE,
        warnings: [...m.warnings, ...faces.flatMap((f) => f.warnings)],
      };
      return { result, faces, maps: pair.maps };
    });
  }

  /** The trust check of an explained pair (trustCheck.ts): its deletion curves, in one embedding run. */
  async checkPair(pair: ExplainedPair): Promise<TrustCheck> {
    const [h, w] = pair.result.model.inputSize;
    const faces = pair.faces.map((f) => toModelInput(f.crop, this.model.preprocessing)) as [Float32Array, Float32Array];
    const embed = (inputs: Float32Array[]) => unitEmbeddings(this.explainer, inputs, inputs.length);
    return trustCheck(embed, { faces, combined: [pair.maps[0].combined, pair.maps[1].combined], width: w, height: h, accepted: pair.result.decision === 'match' });
  }

  /** Faces this engine has embedded (not explained) so far: what an embedding cache saves shows here. */
  embeddedFaces = 0;

  /** Unit-length embeddings of prepared faces, `batchSize` per forward run. */
  async embedFaces(faces: readonly Pick<PreparedFace, 'crop'>[], batchSize = this.defaultBatch(16)): Promise<Float32Array[]> {
    const inputs = faces.map((f) => toModelInput(f.crop, this.model.preprocessing));
    this.embeddedFaces += faces.length;
    return unitEmbeddings(this.explainer, inputs, batchSize);
  }

  /** Unit-length embeddings of images (each decoded, detected and aligned), in batches. */
  async embedImages(sources: readonly string[], batchSize = this.defaultBatch(16), onProgress?: (done: number) => void): Promise<Float32Array[]> {
    const embeddings: Float32Array[] = [];
    for (let start = 0; start < sources.length; start += batchSize) {
      const faces = await Promise.all(sources.slice(start, start + batchSize).map((s) => this.prepareFace(s, s)));
      embeddings.push(...(await this.embedFaces(faces, batchSize)));
      onProgress?.(embeddings.length);
    }
    return embeddings;
  }

  /**
   * The EER threshold of labelled pairs of images: each distinct image is embedded once, each
   * pair scored by the cosine of its unit embeddings.
   */
  async equalErrorRateOf(
    pairs: readonly { a: string; b: string; label: PairLabel }[],
    batchSize?: number,
    onProgress?: (done: number, total: number) => void,
  ): Promise<EqualErrorRate & { genuine: number; impostor: number }> {
    const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
    const embeddings = await this.embedImages(images, batchSize, (done) => onProgress?.(done, images.length));
    const byPath = new Map(images.map((p, i) => [p, embeddings[i]]));
    const scores: Record<PairLabel, number[]> = { same: [], different: [] };
    for (const p of pairs) scores[p.label].push(dot(byPath.get(p.a)!, byPath.get(p.b)!));
    return { ...equalErrorRate(scores.same, scores.different), genuine: scores.same.length, impostor: scores.different.length };
  }

  async dispose(): Promise<void> {
    await this.explainer.release();
    if (this.detector) await (await this.detector).dispose();
  }
}
