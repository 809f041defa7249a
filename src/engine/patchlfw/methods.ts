// Explanation methods compared by the DPR protocol, behind one interface: a method takes pairs of
// preprocessed faces (first, second) and returns the combined map (H×W) of the FIRST face
// explained against the second. Sign convention of every map: positive = supports the match.
import { dot, stackFaces, unitEmbeddings } from '../embeddings';
import type { Explainer, PairExplanation } from '../xssab';
import { pairRandom } from './random';

export const METHOD_NAMES = ['xssab', 'saliency', 'occlusion', 'random-masks'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface MethodPair {
  /** Preprocessed faces, C×H×W each. */
  a: Float32Array;
  b: Float32Array;
  /** The pair's index in the set: seeds the methods that draw at random. */
  index: number;
}

export interface ExplanationMethod {
  readonly name: MethodName;
  combinedMaps(pairs: readonly MethodPair[]): Promise<Float32Array[]>;
}

export interface MethodContext {
  explainer: Explainer;
  threshold: number;
  /** Faces per forward run. */
  batch: number;
  seed: number;
  /** Number of random masks per pair (random-masks). */
  masks: number;
}

/** Pairs per fused explanation run: each pair holds four gradient maps in memory. */
const EXPLAIN_CHUNK = 8;

async function explainFirst(ctx: MethodContext, pairs: readonly MethodPair[], pick: (e: PairExplanation) => Float32Array): Promise<Float32Array[]> {
  const maps: Float32Array[] = [];
  for (let start = 0; start < pairs.length; start += EXPLAIN_CHUNK) {
    const chunk = pairs.slice(start, start + EXPLAIN_CHUNK);
    const explained = await ctx.explainer.explain(stackFaces(chunk.map((p) => p.a)), stackFaces(chunk.map((p) => p.b)), ctx.threshold);
    maps.push(...explained.map(pick));
  }
  return maps;
}

/**
 * Scores perturbed copies of each pair's first face against its second face, `batch` faces per
 * run, and hands every score to `accumulate` (pair, variant, score).
 */
async function scorePerturbed(
  ctx: MethodContext,
  pairs: readonly MethodPair[],
  variants: number,
  perturb: (pair: number, variant: number) => Float32Array,
  accumulate: (pair: number, variant: number, score: number) => void,
): Promise<void> {
  const partners = await unitEmbeddings(ctx.explainer, pairs.map((p) => p.b), ctx.batch);
  const jobs = pairs.flatMap((_, p) => Array.from({ length: variants }, (_, v) => [p, v] as const));
  for (let start = 0; start < jobs.length; start += ctx.batch) {
    const chunk = jobs.slice(start, start + ctx.batch);
    const embeddings = await unitEmbeddings(ctx.explainer, chunk.map(([p, v]) => perturb(p, v)), ctx.batch);
    chunk.forEach(([p, v], i) => accumulate(p, v, dot(embeddings[i], partners[p])));
  }
}

/** xSSAB's combined map M⁺ − M⁻ of the first face (spec §2). */
function xssab(ctx: MethodContext): ExplanationMethod {
  return { name: 'xssab', combinedMaps: (pairs) => explainFirst(ctx, pairs, (e) => e.maps[0].combined) };
}

/**
 * Plain gradient saliency mean_c |∂s/∂x|. It has no sign, so DPR reads all of it as evidence FOR
 * the match: an accepted pair loses its most salient pixels first, a rejected pair its least
 * salient ones.
 */
function saliency(ctx: MethodContext): ExplanationMethod {
  return { name: 'saliency', combinedMaps: (pairs) => explainFirst(ctx, pairs, (e) => e.saliency[0]) };
}

/** Occluder sizes and stride of x-face (Knoche et al., 2023) on 112 px faces. */
export const OCCLUDERS = [7, 14, 28];
export const OCCLUSION_STRIDE = 5;

/**
 * x-face style systematic occlusion: every occluder position fills a square with 0 in
 * preprocessed space (the mean grey), and each pixel gets the mean score change s_occluded − s over
 * the occluders covering it. Hiding a similar region lowers the score, so the map is the NEGATED
 * mean change (positive = supports the match).
 */
function occlusion(ctx: MethodContext): ExplanationMethod {
  const [channels, height, width] = ctx.explainer.model.inputShape;
  const plane = height * width;
  const squares = OCCLUDERS.flatMap((k) => {
    const at: [number, number, number][] = [];
    for (let y = 0; y + k <= height; y += OCCLUSION_STRIDE) for (let x = 0; x + k <= width; x += OCCLUSION_STRIDE) at.push([y, x, k]);
    return at;
  });
  return {
    name: 'occlusion',
    async combinedMaps(pairs) {
      const base = await Promise.all([unitEmbeddings(ctx.explainer, pairs.map((p) => p.a), ctx.batch), unitEmbeddings(ctx.explainer, pairs.map((p) => p.b), ctx.batch)]);
      const scores = pairs.map((_, p) => dot(base[0][p], base[1][p]));
      const sums = pairs.map(() => new Float64Array(plane));
      const counts = new Float64Array(plane);
      for (const [y0, x0, k] of squares) for (let y = y0; y < y0 + k; y++) for (let x = x0; x < x0 + k; x++) counts[y * width + x]++;
      await scorePerturbed(
        ctx,
        pairs,
        squares.length,
        (p, v) => {
          const [y0, x0, k] = squares[v];
          const face = pairs[p].a.slice();
          for (let c = 0; c < channels; c++) for (let y = y0; y < y0 + k; y++) face.fill(0, c * plane + y * width + x0, c * plane + y * width + x0 + k);
          return face;
        },
        (p, v, s) => {
          const [y0, x0, k] = squares[v];
          const change = s - scores[p];
          for (let y = y0; y < y0 + k; y++) for (let x = x0; x < x0 + k; x++) sums[p][y * width + x] += change;
        },
      );
      return sums.map((sum) => Float32Array.from(sum, (v, i) => (counts[i] ? -v / counts[i] : 0)));
    },
  };
}

/** Random-mask grid: cells of a 7×7 grid, kept with probability ½ (RISE's defaults). */
const MASK_GRID = 7;
const MASK_KEEP = 0.5;

/**
 * CorrRISE style (Lu et al., WACV 2024): N random masks (a coarse binary grid, bilinearly upsampled
 * and randomly shifted, as in RISE) multiply the first face; each pixel's value is the Pearson
 * correlation, across the masks, between the mask's value at that pixel and the pair's score.
 * Keeping a pixel that raises the score means it supports the match: positive.
 */
function randomMasks(ctx: MethodContext): ExplanationMethod {
  const [channels, height, width] = ctx.explainer.model.inputShape;
  const plane = height * width;
  const cell = Math.ceil(Math.max(height, width) / MASK_GRID);
  const mask = (random: ReturnType<typeof pairRandom>): Float32Array => {
    const n = MASK_GRID + 1;
    const grid = Float32Array.from({ length: n * n }, () => (random.next() < MASK_KEEP ? 1 : 0));
    const [dy, dx] = [random.next() * cell, random.next() * cell];
    const m = new Float32Array(plane);
    for (let y = 0; y < height; y++) {
      const u = Math.min((y + dy) / cell, n - 1);
      const [u0, fu] = [Math.min(Math.floor(u), n - 2), u - Math.min(Math.floor(u), n - 2)];
      for (let x = 0; x < width; x++) {
        const v = Math.min((x + dx) / cell, n - 1);
        const [v0, fv] = [Math.min(Math.floor(v), n - 2), v - Math.min(Math.floor(v), n - 2)];
        const g = (i: number, j: number) => grid[(u0 + i) * n + v0 + j];
        m[y * width + x] = (1 - fu) * ((1 - fv) * g(0, 0) + fv * g(0, 1)) + fu * ((1 - fv) * g(1, 0) + fv * g(1, 1));
      }
    }
    return m;
  };
  return {
    name: 'random-masks',
    async combinedMaps(pairs) {
      const masks = pairs.map((p) => {
        const random = pairRandom(ctx.seed, p.index, 2);
        return Array.from({ length: ctx.masks }, () => mask(random));
      });
      const scores = pairs.map(() => new Float64Array(ctx.masks));
      await scorePerturbed(
        ctx,
        pairs,
        ctx.masks,
        (p, v) => {
          const face = pairs[p].a.slice();
          const m = masks[p][v];
          for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) face[c * plane + i] *= m[i];
          return face;
        },
        (p, v, s) => {
          scores[p][v] = s;
        },
      );
      return pairs.map((_, p) => correlationMap(masks[p], scores[p]));
    },
  };
}

/** Per pixel: Pearson correlation between the masks' values there and the scores. */
export function correlationMap(masks: readonly Float32Array[], scores: Float64Array): Float32Array {
  const n = masks.length;
  const meanS = scores.reduce((a, b) => a + b, 0) / n;
  const varS = scores.reduce((a, s) => a + (s - meanS) ** 2, 0);
  const out = new Float32Array(masks[0].length);
  for (let i = 0; i < out.length; i++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += masks[k][i];
    mean /= n;
    let cov = 0;
    let varM = 0;
    for (let k = 0; k < n; k++) {
      const dm = masks[k][i] - mean;
      cov += dm * (scores[k] - meanS);
      varM += dm * dm;
    }
    out[i] = varM > 0 && varS > 0 ? cov / Math.sqrt(varM * varS) : 0;
  }
  return out;
}

const FACTORIES: Record<MethodName, (ctx: MethodContext) => ExplanationMethod> = {
  xssab,
  saliency,
  occlusion,
  'random-masks': randomMasks,
};

export function createMethod(name: MethodName, ctx: MethodContext): ExplanationMethod {
  return FACTORIES[name](ctx);
}
