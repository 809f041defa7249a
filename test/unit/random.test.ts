// The seeded generator the benchmark, the model builders and the unit tests share.
import * as assert from 'assert';
import { Random } from '../../src/engine/random';

describe('Random (mulberry32)', () => {
  it('repeats its stream for a seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const r = new Random(seed);
      return Array.from({ length: 5 }, () => r.next());
    };
    const a = new Random(7);
    const b = new Random(7);
    const first = Array.from({ length: 100 }, () => a.next());
    assert.deepStrictEqual(Array.from({ length: 100 }, () => b.next()), first);
    assert.ok(first.every((v) => v >= 0 && v < 1));
    assert.notDeepStrictEqual(draw(7), draw(8));
  });

  it('draws integers in lo..hi and permutations of 0..n−1', () => {
    const r = new Random(3);
    const ints = Array.from({ length: 2000 }, () => r.int(-2, 2));
    assert.deepStrictEqual([...new Set(ints)].sort((x, y) => x - y), [-2, -1, 0, 1, 2]);
    assert.deepStrictEqual([...r.permutation(50)].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  });

  it('draws standard normal values', () => {
    const r = new Random(11);
    const n = 20_000;
    const xs = Array.from({ length: n }, () => r.normal());
    assert.ok(xs.every(Number.isFinite));
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
    // Standard errors: 0.007 for the mean, 0.01 for the variance.
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });
});
