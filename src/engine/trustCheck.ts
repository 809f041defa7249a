// The per-pair trust check: how far this pair's combined maps point at the pixels the model's
// decision rests on. DPR's decision-based deletion curve (spec §5) applied to one pair: each
// image's pixels are replaced by a blurred copy of it, in the map's order and in a fixed random
// order, and the pair rescored. This product's addition, not the paper's.
import { gaussianBlur } from '../shared/blur';
import type { CheckCurve, TrustCheck } from '../shared/result';
import { Random } from './random';

/** Replaced shares in percent: 0 (the pair as explained), 5, 10, …, 50. */
export const CHECK_LEVELS = Array.from({ length: 11 }, (_, i) => 5 * i);
export const CHECK_SEED = 20240101;
/** σ of the blurred copy as a share of the crop's width (4 px on a 112-px crop): it removes detail, keeps the colours. */
export const CHECK_BLUR_SHARE = 1 / 28;

/** Unit embeddings of preprocessed faces (C×H×W each), all in one run. */
export type Embed = (faces: Float32Array[]) => Promise<Float32Array[]>;

export interface CheckInput {
  /** The two preprocessed faces, C×H×W. */
  faces: [Float32Array, Float32Array];
  /** Their combined maps, H×W. */
  combined: [Float32Array, Float32Array];
  width: number;
  height: number;
  /** Whether the pair was accepted at its threshold: the map order is highest first if so, else lowest first. */
  accepted: boolean;
}

/** Pixel indices by the map, highest first (or lowest first), ties to the lower index. */
export function mapOrder(map: Float32Array, highestFirst: boolean): Uint32Array {
  const order = Uint32Array.from({ length: map.length }, (_, i) => i);
  return order.sort((i, j) => (highestFirst ? map[j] - map[i] : map[i] - map[j]) || i - j);
}

/** The face with the first `count` pixels of `order` (every channel) taken from `blurred`. */
export function replaced(face: Float32Array, blurred: Float32Array, order: Uint32Array, count: number): Float32Array {
  const out = Float32Array.from(face);
  const plane = order.length;
  for (let c = 0; c < face.length / plane; c++) {
    for (let k = 0; k < count; k++) out[c * plane + order[k]] = blurred[c * plane + order[k]];
  }
  return out;
}

/** Trapezoid area of `sign`·(random − map) over the replaced share (levels in percent). */
function areaBetween(levels: readonly number[], map: readonly number[], random: readonly number[], sign: number): number {
  let area = 0;
  for (let i = 1; i < levels.length; i++) {
    const gap = (k: number) => sign * (random[k] - map[k]);
    area += ((levels[i] - levels[i - 1]) / 100) * (gap(i) + gap(i - 1)) / 2;
  }
  return area;
}

/**
 * Runs the check on both images of a pair: every replaced face of both images and both orders,
 * and the two faces as they are, embedded in ONE run.
 */
export async function trustCheck(embed: Embed, input: CheckInput, seed = CHECK_SEED): Promise<TrustCheck> {
  const start = performance.now();
  const { width, height, accepted } = input;
  const plane = width * height;
  const blurSigma = CHECK_BLUR_SHARE * width;
  const levels = CHECK_LEVELS;
  const random = new Random(seed).permutation(plane);
  const jobs = input.faces.flatMap((face, side) => {
    const blurred = gaussianBlur(face, width, height, blurSigma);
    const orders = [mapOrder(input.combined[side], accepted), random];
    return orders.map((order) => levels.slice(1).map((level) => replaced(face, blurred, order, Math.round((level * plane) / 100))));
  });
  const embeddings = await embed([...input.faces, ...jobs.flat()]);
  const [a, b] = [embeddings[0], embeddings[1]];
  const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0);
  const original = dot(a, b);
  const perLevel = levels.length - 1;
  const curve = (job: number, partner: Float32Array) => [original, ...Array.from({ length: perLevel }, (_, k) => dot(embeddings[2 + job * perLevel + k], partner))];
  const sides = [b, a].map((partner, side): CheckCurve => {
    const [map, rand] = [curve(2 * side, partner), curve(2 * side + 1, partner)];
    // Accepted: removing what the map calls similar should lower the score faster than random.
    return { map, random: rand, area: areaBetween(levels, map, rand, accepted ? 1 : -1) };
  });
  return { levels, order: accepted ? 'highest first' : 'lowest first', blurSigma, seed, a: sides[0], b: sides[1], ms: performance.now() - start };
}

/** The check in words, one line per image. */
export function checkSummary(check: TrustCheck): string {
  const last = check.levels.length - 1;
  return (['a', 'b'] as const)
    .map((side) => {
      const c = check[side];
      const verdict = c.area > 0 ? 'the map beats a random order' : 'the map does no better than a random order';
      return `${side.toUpperCase()} check: with ${check.levels[last]} % blurred (${check.order}) the score goes ${c.map[0].toFixed(3)} → ${c.map[last].toFixed(3)}, in a random order → ${c.random[last].toFixed(3)}; area between the curves ${c.area >= 0 ? '+' : ''}${c.area.toFixed(4)}: ${verdict}`;
    })
    .join('\n');
}
