// numpy's legacy random stream, against values numpy itself produced. Golden values from Python 3
// with numpy 2.4.6 (never run by the tests):
//   rs = np.random.RandomState(3); rs.randint(0, 2**32, size=6, dtype=np.uint32)   # raw outputs
//   np.random.seed(0) / np.random.seed(4294967295); same, size=3
//   rs = np.random.RandomState(3); rs.randint(0, 2**32, size=700, dtype=np.uint32)[623:628]
//   np.random.seed(3); np.random.randint(0, 96, 27); np.random.randint(16, 112, 27)
//   np.random.choice(list(range(11998)), 1); np.random.choice(list(range(11998)), 5)
//   np.random.RandomState(3).permutation(5), .permutation(6)
//   np.random.seed(3); p = np.arange(0, 12544); np.random.shuffle(p)   # the reference's random order
// (the two small permutations also follow by hand from the raw outputs of seed 3 below: shuffle
// swaps x[i] with x[j], j = output & mask(i) redrawn while > i, for i = n−1 … 1; permutation(6)
// redraws once, at i = 2: 3607553667 & 3 = 3), and from numpy's own test suite
// (numpy/random/tests/test_random.py, TestRandomDist.test_shuffle, seed 1234567890):
//   shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9, 0]) → [0, 1, 9, 6, 2, 4, 5, 8, 7, 3]
// and for the Patch-LFW draws the reference's procedure written out in Python with numpy (pairs
// A1-A2 same, B1-C1 different, D1-D2 same, E1-F1 different, A3-G1 different):
//   for label in ['different', 'same']:
//     np.random.seed(3)
//     for pair in pairs with that label, in file order:
//       cols = np.random.randint(0, 96, 27); rows = np.random.randint(16, 112, 27)
//       if label == 'same': source = np.random.choice([s for s in slots if identity(s) != identity(pair.a)], 1)[0]
import * as assert from 'assert';
import { NumpyRandomState } from '../../src/engine/numpyRandom';
import { numpyDraws } from '../../src/engine/patchlfw/build';
import type { BenchPair } from '../../src/engine/patchlfw/lfw';

const COLS_3 = [24, 3, 56, 72, 0, 21, 19, 74, 41, 10, 21, 38, 20, 44, 93, 39, 14, 26, 81, 90, 22, 66, 2, 63, 60, 1, 51];
const ROWS_3 = [106, 85, 45, 40, 78, 23, 59, 49, 95, 64, 53, 36, 110, 65, 37, 94, 44, 70, 16, 80, 34, 79, 53, 72, 72, 87, 53];
const COLS_2ND = [46, 33, 1, 85, 74, 91, 16, 80, 32, 16, 18, 75, 55, 95, 13, 37, 30, 48, 61, 33, 52, 2, 28, 36, 90, 44, 48];
const ROWS_2ND = [75, 90, 70, 107, 37, 72, 55, 45, 48, 64, 25, 49, 76, 104, 71, 27, 100, 26, 96, 92, 84, 60, 60, 35, 32, 55, 66];

describe('numpy legacy random stream (MT19937)', () => {
  const raw = (seed: number, n: number) => {
    const r = new NumpyRandomState(seed);
    return Array.from({ length: n }, () => r.nextUint32());
  };

  it('seeds and draws 32-bit outputs as numpy does, across the state refill', () => {
    assert.deepStrictEqual(raw(3, 6), [2365658986, 303761048, 3041471737, 3607553667, 1249426360, 521102280]);
    assert.deepStrictEqual(raw(0, 3), [2357136044, 2546248239, 3071714933]);
    assert.deepStrictEqual(raw(4294967295, 3), [419326371, 479346978, 3918654476]);
    assert.deepStrictEqual(raw(3, 628).slice(623), [1771377942, 1855105112, 4152074659, 438663161, 231958239]);
    assert.throws(() => new NumpyRandomState(-1), /whole numbers in 0…2³²−1/);
    assert.throws(() => new NumpyRandomState(2 ** 32), /whole numbers/);
  });

  it('randint (masked rejection) and choice give numpy\'s values', () => {
    const r = new NumpyRandomState(3);
    assert.deepStrictEqual(r.randint(0, 96, 27), COLS_3);
    assert.deepStrictEqual(r.randint(16, 112, 27), ROWS_3);
    const population = Array.from({ length: 11998 }, (_, i) => i);
    assert.deepStrictEqual(r.choice(population, 1), [9981]);
    assert.deepStrictEqual(r.choice(population, 5), [545, 2161, 11265, 8021, 8060]);
    assert.deepStrictEqual(new NumpyRandomState(3).randint(5, 6, 3), [5, 5, 5]);
    assert.throws(() => r.randint(3, 3, 1), /need low < high/);
  });

  it('shuffles and permutes as numpy\'s legacy shuffle does (the reference\'s random pixel order)', () => {
    const list = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
    new NumpyRandomState(1234567890).shuffle(list);
    assert.deepStrictEqual(list, [0, 1, 9, 6, 2, 4, 5, 8, 7, 3]);
    assert.deepStrictEqual([...new NumpyRandomState(3).permutation(5)], [3, 4, 1, 0, 2]);
    assert.deepStrictEqual([...new NumpyRandomState(3).permutation(6)], [3, 5, 4, 1, 0, 2]);
    const order = new NumpyRandomState(3).permutation(112 * 112);
    assert.deepStrictEqual([...order.slice(0, 10)], [1941, 6721, 1054, 760, 11504, 11047, 714, 5916, 5986, 10701]);
    assert.deepStrictEqual([...order.slice(-5)], [9160, 9859, 11513, 1688, 5994]);
    assert.strictEqual(order[6271], 9748);
    assert.strictEqual(new Set(order).size, 112 * 112);
    assert.deepStrictEqual([...new NumpyRandomState(3).permutation(1)], [0]);
  });

  it('draws Patch-LFW as the reference does: impostor pass, then genuine pass, each from seed 3', () => {
    const image = (id: string) => ({ id, identity: id[0], path: `/lfw/${id}.jpg` });
    const pair = (index: number, a: string, b: string, label: 'same' | 'different'): BenchPair => ({ index, a: image(a), b: image(b), label }) as BenchPair;
    const pairs = [pair(0, 'A1', 'A2', 'same'), pair(1, 'B1', 'C1', 'different'), pair(2, 'D1', 'D2', 'same'), pair(3, 'E1', 'F1', 'different'), pair(4, 'A3', 'G1', 'different')];
    const draws = numpyDraws(pairs, 3, 112, 112);
    const summary = (i: number) => ({ cols: draws.get(i)!.placement.cols, rows: draws.get(i)!.placement.rows, source: draws.get(i)!.source.id });
    assert.deepStrictEqual(summary(1), { cols: COLS_3, rows: ROWS_3, source: 'C1' });
    assert.deepStrictEqual(summary(3), { cols: COLS_2ND, rows: ROWS_2ND, source: 'F1' });
    assert.deepStrictEqual(summary(4).source, 'G1');
    assert.deepStrictEqual(summary(4).cols.slice(0, 5), [65, 35, 45, 52, 1]);
    assert.deepStrictEqual(summary(4).rows.slice(0, 5), [94, 92, 35, 25, 42]);
    assert.deepStrictEqual(summary(0), { cols: COLS_3, rows: ROWS_3, source: 'F1' });
    assert.deepStrictEqual(summary(2), { cols: COLS_2ND, rows: ROWS_2ND, source: 'A2' });
  });
});
