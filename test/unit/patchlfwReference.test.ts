// The reference code's DPR arithmetic (--reference-compat) against values numpy produced. Golden
// values from Python 3.11 with numpy 2.4.6 on x86-64 (never run by the tests):
//   a = np.arange(0.05, 1., 0.05); [repr(float(x)) for x in a]; [repr(float(x)) for x in np.arange(0, 1, 0.1)]
//   [int(x * 12544) for x in a]                                   # the random strategy's counts
// and the best_worst counts with the reference's rules restated (its get_bound_for_lowest/highest_XX_percent
// and the masks np.nonzero(grads < bound) / np.nonzero(grads > bound)), on a 112×112 float32 map:
//   def low(c, p):  s = np.argsort(c.ravel()); return np.count_nonzero(c < c.ravel()[s[int(c.size * p)]])
//   def high(c, p): s = np.argsort(c.ravel()); return np.count_nonzero(c > c.ravel()[s[int(c.size * (1 - p))]])
//   ties = (np.array([(i * 37) % 11 for i in range(12544)], np.float32) * np.float32(0.25) - 1).reshape(112, 112)
//   distinct = (np.arange(12544, dtype=np.float32) * np.float32(0.001)).reshape(112, 112)
import * as assert from 'assert';
import { jpegRoundTrip } from '../../src/engine/image';
import { LEVELS, replacedCount } from '../../src/engine/patchlfw/dpr';
import { REFERENCE_LEVELS, numpyArange, referenceBestWorstCounts, referenceRandomCounts } from '../../src/engine/patchlfw/reference';

const PLANE = 112 * 112;
const RANDOM_COUNTS = [627, 1254, 1881, 2508, 3136, 3763, 4390, 5017, 5644, 6272, 6899, 7526, 8153, 8780, 9408, 10035, 10662, 11289, 11916];

describe('the reference code\'s DPR arithmetic (--reference-compat)', () => {
  it('takes the levels from np.arange(0.05, 1, 0.05) with its float64 accumulation', () => {
    assert.deepStrictEqual(REFERENCE_LEVELS, [
      0.05, 0.1, 0.15000000000000002, 0.2, 0.25, 0.3, 0.35000000000000003, 0.4, 0.45, 0.5, 0.55, 0.6000000000000001,
      0.6500000000000001, 0.7000000000000001, 0.7500000000000001, 0.8, 0.8500000000000001, 0.9000000000000001, 0.9500000000000001,
    ]);
    assert.strictEqual(REFERENCE_LEVELS.length, LEVELS.length);
    assert.deepStrictEqual(numpyArange(0, 1, 0.1), [0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9]);
    assert.deepStrictEqual(numpyArange(1, 1, 0.5), []);
  });

  it('gives back int(p·H·W) pixels of the random order: fewer than round() at 15, 20, 40, 45, 65, 70, 90 and 95 %', () => {
    assert.deepStrictEqual(referenceRandomCounts(PLANE), RANDOM_COUNTS);
    const fewer = LEVELS.filter((p, l) => replacedCount(p, PLANE) !== RANDOM_COUNTS[l]);
    assert.deepStrictEqual(fewer, [15, 20, 40, 45, 65, 70, 90, 95]);
    assert.ok(LEVELS.every((p, l) => replacedCount(p, PLANE) - RANDOM_COUNTS[l] <= 1));
  });

  it('counts best_worst pixels by strict comparison against the value at a sorted position', () => {
    const distinct = Float32Array.from({ length: PLANE }, (_, i) => Math.fround(i * Math.fround(0.001)));
    assert.deepStrictEqual(referenceBestWorstCounts(distinct, false), RANDOM_COUNTS);
    // Accepted: H·W − int(H·W·(1 − p)) − 1, one fewer than asked where H·W·(1 − p) is whole, or
    // just below whole after the float rounding of 1 − p (p = 0.7500000000000001 gives 3135.999…).
    assert.deepStrictEqual(referenceBestWorstCounts(distinct, true), [627, 1254, 1881, 2508, 3135, 3763, 4390, 5017, 5644, 6271, 6899, 7526, 8153, 8780, 9408, 10035, 10662, 11289, 11916]);
    // With ties at the bound the strict comparison gives back fewer still (11 values, ~1140 pixels each).
    const ties = Float32Array.from({ length: PLANE }, (_, i) => Math.fround(((i * 37) % 11) * 0.25 - 1));
    assert.deepStrictEqual(referenceBestWorstCounts(ties, false), [0, 1141, 1141, 2282, 2282, 3422, 3422, 4562, 4562, 5703, 6843, 6843, 7983, 7983, 9123, 9123, 10264, 10264, 11404]);
    assert.deepStrictEqual(referenceBestWorstCounts(ties, true), [0, 1140, 1140, 2280, 2280, 3421, 3421, 4561, 4561, 5701, 6841, 6841, 7982, 7982, 9122, 9122, 10262, 10262, 11403]);
  });

  it('round-trips an image through a JPEG with 4:2:0 chroma subsampling, as OpenCV writes it', async () => {
    // One-pixel red and green stripes: subsampled chroma averages neighbouring columns (4:4:4 at
    // quality 95 errs by at most 2 levels here, 4:2:0 by over 100).
    const [w, h] = [16, 16];
    const stripes = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) stripes.set(i % 2 === 0 ? [220, 30, 30] : [30, 220, 30], i * 3);
    const out = await jpegRoundTrip({ width: w, height: h, data: stripes }, 95);
    assert.deepStrictEqual([out.width, out.height, out.data.length], [w, h, w * h * 3]);
    assert.ok(Math.max(...out.data.map((v, i) => Math.abs(v - stripes[i]))) > 60);
  });
});
