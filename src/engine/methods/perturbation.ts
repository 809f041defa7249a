// The perturbation methods: systematic occlusion (x-face) and random masks (CorrRISE style). Each
// scores perturbed copies of the explained face against its partner; both give a combined map only.
import { dot, unitEmbeddings } from '../embeddings';
import { pairRandom } from '../random';
import { partnersOf } from './gradient';
import { type MethodContext, type MethodPair, MethodError, defineMethod, fromFirstFace } from './method';

/**
 * Scores perturbed copies of each pair's first face against its partner, `batch` faces per run,
 * and hands every score to `accumulate` (pair, variant, score).
 */
async function scorePerturbed(
  ctx: MethodContext,
  pairs: readonly MethodPair[],
  variants: number,
  perturb: (pair: number, variant: number) => Float32Array,
  accumulate: (pair: number, variant: number, score: number) => void,
): Promise<void> {
  const partners = await partnersOf(ctx, pairs);
  const jobs = pairs.flatMap((_, p) => Array.from({ length: variants }, (_, v) => [p, v] as const));
  for (let start = 0; start < jobs.length; start += ctx.batch) {
    const chunk = jobs.slice(start, start + ctx.batch);
    const embeddings = await unitEmbeddings(ctx.explainer, chunk.map(([p, v]) => perturb(p, v)), ctx.batch);
    chunk.forEach(([p, v], i) => accumulate(p, v, dot(embeddings[i], partners[p])));
  }
}

/**
 * x-face style systematic occlusion (Knoche et al., 2023): every occluder position fills a square
 * with 0 in preprocessed space (the mean grey), and each pixel gets the mean score change
 * s_occluded − s over the occluders covering it. Hiding a similar region lowers the score, so the
 * map is the NEGATED mean change (positive = supports the match).
 */
export const OCCLUSION = defineMethod<{ sizes: number[]; stride: number }>({
  name: 'occlusion',
  description: 'x-face systematic occlusion: squares filled with the mean grey; negated mean score change per pixel; combined map only',
  maps: 'combined',
  params: {
    sizes: { kind: 'integers', default: [7, 14, 28], min: 1, description: 'occluder side lengths in pixels (x-face on 112 px faces)' },
    stride: { kind: 'integer', default: 5, min: 1, description: 'step between occluder positions in pixels' },
  },
  create(ctx, { sizes, stride }) {
    const [channels, height, width] = ctx.explainer.model.inputShape;
    const plane = height * width;
    const tooLarge = sizes.filter((k) => k > Math.min(height, width));
    if (tooLarge.length) throw new MethodError(`occlusion: occluder size ${tooLarge.join(', ')} exceeds the ${width}×${height} input`);
    const squares = sizes.flatMap((k) => {
      const at: [number, number, number][] = [];
      for (let y = 0; y + k <= height; y += stride) for (let x = 0; x + k <= width; x += stride) at.push([y, x, k]);
      return at;
    });
    const counts = new Float64Array(plane);
    for (const [y0, x0, k] of squares) for (let y = y0; y < y0 + k; y++) for (let x = x0; x < x0 + k; x++) counts[y * width + x]++;
    return fromFirstFace(async (pairs) => {
      const base = await Promise.all([unitEmbeddings(ctx.explainer, pairs.map((p) => p.a), ctx.batch), partnersOf(ctx, pairs)]);
      const scores = pairs.map((_, p) => dot(base[0][p], base[1][p]));
      const sums = pairs.map(() => new Float64Array(plane));
      await scorePerturbed(
        ctx,
        pairs.map((p, i) => ({ ...p, partner: base[1][i] })),
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
      return sums.map((sum) => ({ combined: Float32Array.from(sum, (v, i) => (counts[i] ? -v / counts[i] : 0)) }));
    });
  },
});

/** Random-mask grid: cells of a 7×7 grid, kept with probability ½ (RISE's defaults). */
const MASK_GRID = 7;
const MASK_KEEP = 0.5;

/**
 * The masks of one face (side 0: a pair's first face, 1: its second): a coarse binary grid,
 * bilinearly upsampled to height × width and randomly shifted by up to one cell.
 */
export function randomMasks(seed: number, pairIndex: number, side: 0 | 1, count: number, height: number, width: number): Float32Array[] {
  // Stream 2 is the first face's (as before the registry), 3 the second's.
  const random = pairRandom(seed, pairIndex, 2 + side);
  const cell = Math.ceil(Math.max(height, width) / MASK_GRID);
  const n = MASK_GRID + 1;
  return Array.from({ length: count }, () => {
    const grid = Float32Array.from({ length: n * n }, () => (random.next() < MASK_KEEP ? 1 : 0));
    const [dy, dx] = [random.next() * cell, random.next() * cell];
    const m = new Float32Array(height * width);
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
  });
}

/**
 * CorrRISE style (Lu et al., WACV 2024): N random masks (a coarse binary grid, bilinearly upsampled
 * and randomly shifted, as in RISE) multiply the explained face; each pixel's value is the Pearson
 * correlation, across the masks, between the mask's value at that pixel and the pair's score.
 * Keeping a pixel that raises the score means it supports the match: positive.
 */
export const RANDOM_MASKS = defineMethod<{ masks: number; seed: number }>({
  name: 'random-masks',
  description: 'CorrRISE style: random 7×7-grid masks, bilinear and shifted; per-pixel correlation of mask and score; combined map only',
  maps: 'combined',
  params: {
    masks: { kind: 'integer', default: 500, min: 2, description: 'masks per face' },
    seed: { kind: 'integer', default: 3, min: 0, description: 'seed of the masks (each pair and face draws its own stream)' },
  },
  create(ctx, { masks: count, seed }) {
    const [channels, height, width] = ctx.explainer.model.inputShape;
    const plane = height * width;
    return fromFirstFace(async (pairs, side) => {
      const masks = pairs.map((p) => randomMasks(seed, p.index, side, count, height, width));
      const scores = pairs.map(() => new Float64Array(count));
      await scorePerturbed(
        ctx,
        pairs,
        count,
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
      return pairs.map((_, p) => ({ combined: correlationMap(masks[p], scores[p]) }));
    });
  },
});

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
