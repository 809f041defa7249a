// The explanation result as written to result.json and carried to viewers. Shared by the CLI,
// the extension host and the browser viewer, so it holds plain data only.

export const EXPLANATION_MIME = 'application/vnd.xssab.explanation+json';
export const REQUEST_MIME = 'application/vnd.xssab.request+json';
/** An explained pair list for the gallery: see PairListOutput (shared/galleryPages.ts). */
export const PAIRLIST_MIME = 'application/vnd.xssab.pairlist+json';

export type MapKind = 'similarity' | 'dissimilarity' | 'combined';
export const MAP_KINDS: readonly MapKind[] = ['similarity', 'dissimilarity', 'combined'];

/** The two images of a pair. */
export const SIDES = ['a', 'b'] as const;
export type Side = (typeof SIDES)[number];

/** A 2-D affine transform [a, b, c, d, e, f]: x' = a·x + b·y + c, y' = d·x + e·y + f. */
export type Affine = [number, number, number, number, number, number];

export interface DetectedFace {
  box: [number, number, number, number]; // x, y, width, height in photo pixels
  landmarks: [number, number][]; // eye centres, nose tip, mouth corners (photo pixels)
  score: number;
}

export interface ImageInfo {
  path: string;
  width: number;
  height: number;
  /** How the aligned crop was obtained. */
  alignment: 'crop' | 'detected' | 'resized';
  /** Photo → aligned-crop transform; absent when the image was used as the crop. */
  transform?: Affine;
  faces?: DetectedFace[];
  faceIndex?: number;
  /** The 68 landmarks (crop pixels) the regions were taken from; absent: the template's (regions.ts). */
  regionLandmarks?: [number, number][];
  /** The maps summed over named face regions (regions.ts); they add up to each map's total. */
  regions?: RegionSum[];
}

/** One face region's sums of an image's three maps, and its size in pixels. */
export interface RegionSum {
  name: string;
  similarity: number;
  dissimilarity: number;
  combined: number;
  pixels: number;
}

export interface ScoreSplit {
  /** Bound β = t / d: arguments a_n ≥ β support the match. */
  beta: number;
  supporting: { count: number; sum: number };
  opposing: { count: number; sum: number };
}

/** Contents of result.json. */
export interface ExplanationResult {
  version: 1;
  model: { name: string; path: string; sha256: string; inputSize: [number, number]; embeddingSize: number };
  threshold: number;
  /** `at FMR`: a pair-list run's threshold at a false match rate, explained again from the gallery. */
  thresholdSource: 'model card' | 'user' | 'default' | 'at FMR';
  score: number;
  decision: 'match' | 'no match';
  /** score − threshold */
  margin: number;
  split: ScoreSplit;
  /** Per-dimension arguments a_n = ê_A,n · ê_B,n. */
  arguments: number[];
  ep: string;
  /** How the maps' gradients were taken where not exactly: straight-through for int8 models (README, "Quantized models"). */
  gradients?: 'straight-through (quantized model)';
  timings: { totalMs: number; [stage: string]: number };
  a: ImageInfo;
  b: ImageInfo;
  /**
   * Colour range of each map per image, used by every overlay, legend and viewer: the
   * rangePercentile-th percentile of |values| (similarity and dissimilarity share one), values
   * beyond it drawn saturated.
   */
  ranges: Record<'a' | 'b', Record<MapKind, [number, number]>>;
  /** The percentile the ranges were taken at; 100 is the maximum (results written before it had one). */
  rangePercentile?: number;
  warnings: string[];
  /** The trust check of this pair's maps (`explain --check`, the viewer's "Check this map"). */
  check?: TrustCheck;
}

/** One image's deletion curves: the pair's score as more of the image is replaced by its blurred copy. */
export interface CheckCurve {
  /** At each level of TrustCheck.levels, pixels taken in the map's order. */
  map: number[];
  /** The same with pixels in a fixed random order. */
  random: number[];
  /**
   * Area between the curves over the replaced share (0…0.5), signed so that it is positive when
   * the map's order moves the score toward the other decision faster than the random order.
   */
  area: number;
}

/**
 * DPR's decision-based deletion curve on this pair alone: each image's pixels replaced by a
 * blurred copy in the combined map's order (highest first for an accepted pair, lowest first
 * for a rejected one) against a fixed random order, scored against the other image unchanged.
 */
export interface TrustCheck {
  /** Replaced share in percent, 0 first. */
  levels: number[];
  order: 'highest first' | 'lowest first';
  /** σ of the blurred copy, in crop pixels. */
  blurSigma: number;
  seed: number;
  a: CheckCurve;
  b: CheckCurve;
  ms: number;
}

/**
 * A float32 map (row-major, shape [height, width]) as it crosses a boundary: where JSON carries
 * it (notebook outputs, the CLI's --mime, a webview's saved state) base64 of little-endian
 * float32; where postMessage does (the engine worker, the webview panel) the values themselves,
 * their buffers transferred rather than copied where the channel allows.
 */
export interface EncodedMap {
  shape: [number, number];
  data: string;
}
export interface RawMap {
  shape: [number, number];
  data: Float32Array;
}
export type MapData = EncodedMap | RawMap;

/** Payload of the explanation MIME type (with EncodedMap): result.json plus the crops and maps. */
export interface ExplanationPayload<M extends MapData = MapData> extends ExplanationResult {
  images: Record<'a' | 'b', string>; // PNG data URIs of the aligned crops
  maps: Record<'a' | 'b', Record<MapKind, M>>;
}
