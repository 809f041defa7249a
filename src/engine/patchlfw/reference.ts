// The reference code's DPR arithmetic (`patch-lfw evaluate --reference-compat`), reproduced so its
// curves can be compared with ours (spec §6): levels from np.arange(0.05, 1, 0.05) in float64,
// pixel counts by int() truncation, best_worst by strict comparison against the value at a
// sorted position, one numpy permutation (seed 3) as the random order of every pair, and a JPEG
// round trip wherever the reference writes an image and reads it back.
import { NumpyRandomState } from '../numpyRandom';

/** OpenCV's default JPEG quality (cv2.imwrite without IMWRITE_JPEG_QUALITY). */
export const REFERENCE_JPEG_QUALITY = 95;

/**
 * np.arange(start, stop, step) for floats: ceil((stop − start) / step) values, the first two
 * start and start + step, the rest start + i·delta with delta = (start + step) − start, each
 * rounded to float64 as numpy's fill loop computes them (on x86-64, no fused multiply-add).
 */
export function numpyArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const second = start + step;
  const delta = second - start;
  return Array.from({ length }, (_, i) => (i === 0 ? start : i === 1 ? second : start + i * delta));
}

/** The reference's replacement levels as fractions: 0.05, 0.1, 0.15000000000000002, … */
export const REFERENCE_LEVELS = numpyArange(0.05, 1, 0.05);

/** The random strategy's pixels per level: int(p · H·W), the first ones of the shared permutation. */
export function referenceRandomCounts(pixels: number): number[] {
  return REFERENCE_LEVELS.map((p) => Math.trunc(p * pixels));
}

/** The reference's random order: np.random.seed(seed); np.random.shuffle(np.arange(H·W)). */
export function referenceRandomOrder(seed: number, pixels: number): Uint32Array {
  return new NumpyRandomState(seed).permutation(pixels);
}

/**
 * The best_worst pixels per level, as counts of the order replacementOrder(map, accepted) gives
 * (lowest first for a rejected pair, highest first for an accepted one). A rejected pair gives
 * back the pixels whose value is BELOW the value at sorted position int(H·W · p); an accepted
 * one those ABOVE the value at sorted position int(H·W · (1 − p)). With distinct values that
 * is int(H·W · p) and H·W − int(H·W · (1 − p)) − 1 pixels; ties at the bound give back fewer.
 * (The reference's special case of a position equal to H·W, where it compares against an index,
 * is reached only at p = 0, which is not a level.)
 */
export function referenceBestWorstCounts(map: Float32Array, accepted: boolean): number[] {
  const sorted = Float32Array.from(map).sort();
  const n = sorted.length;
  return REFERENCE_LEVELS.map((p) => {
    if (!accepted) return firstAtLeast(sorted, sorted[Math.trunc(n * p)]);
    return n - firstAbove(sorted, sorted[Math.trunc(n * (1 - p))]);
  });
}

/** Index of the first entry ≥ v in an ascending array (how many are below v). */
function firstAtLeast(sorted: Float32Array, v: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first entry > v in an ascending array. */
function firstAbove(sorted: Float32Array, v: number): number {
  let [lo, hi] = [0, sorted.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
