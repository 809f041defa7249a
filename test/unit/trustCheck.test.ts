import { strict as assert } from 'assert';
import { Random } from '../../src/engine/random';
import { CHECK_BLUR_SHARE, CHECK_LEVELS, trustCheck } from '../../src/engine/trustCheck';
import { gaussianBlur, gaussianKernel } from '../../src/shared/blur';

describe('Gaussian blur', () => {
  it('blurs a lone impulse into the outer product of the normalised kernel', () => {
    const [w, h, sigma] = [15, 15, 1.5];
    const k = gaussianKernel(sigma);
    assert.equal(k.length, 2 * Math.ceil(3 * sigma) + 1);
    assert.ok(Math.abs(k.reduce((s, v) => s + v, 0) - 1) < 1e-6);
    const centre = (k.length - 1) / 2;
    assert.ok(Math.abs(k[centre] / k[centre - 1] - Math.exp(0.5 / (sigma * sigma))) < 1e-5); // centre over its neighbour: e^{1/(2σ²)}
    const impulse = new Float32Array(w * h);
    impulse[7 * w + 7] = 1;
    const out = gaussianBlur(impulse, w, h, sigma);
    const r = (k.length - 1) / 2;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [dx, dy] = [x - 7 + r, y - 7 + r];
        const expected = dx >= 0 && dx < k.length && dy >= 0 && dy < k.length ? k[dx] * k[dy] : 0;
        assert.ok(Math.abs(out[y * w + x] - expected) < 1e-7, `(${x}, ${y})`);
      }
    }
  });

  it('keeps a constant plane constant to its edges, keeps NaN out of its neighbours, and σ 0 is a copy', () => {
    const flat = new Float32Array(2 * 8 * 6).fill(3); // two planes
    gaussianBlur(flat, 8, 6, 2).forEach((v) => assert.ok(Math.abs(v - 3) < 1e-6));
    const holed = new Float32Array(8 * 6).fill(3);
    holed[10] = NaN;
    const blurred = gaussianBlur(holed, 8, 6, 2);
    assert.ok(Number.isNaN(blurred[10]));
    blurred.forEach((v, i) => i === 10 || assert.ok(Math.abs(v - 3) < 1e-6));
    assert.deepEqual(gaussianBlur(holed, 8, 6, 0), holed);
  });
});

describe('trust check', () => {
  it('equals the closed form of a linear embedder: each replaced pixel adds its column of W times (blur − x)', async () => {
    const [w, h, c, d] = [8, 7, 3, 4];
    const plane = w * h;
    const rnd = new Random(5);
    const W = Array.from({ length: d }, () => Float32Array.from({ length: c * plane }, () => rnd.normal()));
    const linear = (x: Float32Array) => Float64Array.from(W, (row) => row.reduce((s, v, i) => s + v * x[i], 0));
    const unit = (e: Float64Array) => {
      const n = Math.hypot(...e);
      return Float32Array.from(e, (v) => v / n);
    };
    let runs = 0;
    const embed = async (faces: Float32Array[]) => {
      runs++;
      return faces.map((f) => unit(linear(f)));
    };
    const faces = [0, 1].map(() => Float32Array.from({ length: c * plane }, () => rnd.normal())) as [Float32Array, Float32Array];
    // Distinct map values: the map order is known without sorting.
    const byRank = new Random(9).permutation(plane);
    const combined = [0, 1].map(() => {
      const m = new Float32Array(plane);
      byRank.forEach((p, rank) => (m[p] = plane - rank)); // byRank[0] holds the highest value
      return m;
    }) as [Float32Array, Float32Array];

    for (const accepted of [true, false]) {
      const check = await trustCheck(embed, { faces, combined, width: w, height: h, accepted }, 77);
      assert.deepEqual(check.levels, CHECK_LEVELS);
      assert.equal(check.blurSigma, CHECK_BLUR_SHARE * w);
      const mapOrder = accepted ? [...byRank] : [...byRank].reverse();
      const randomOrder = [...new Random(77).permutation(plane)];
      const partners = [linear(faces[1]), linear(faces[0])].map(unit);
      for (const [side, name] of (['a', 'b'] as const).entries()) {
        const x = faces[side];
        const blurred = gaussianBlur(x, w, h, check.blurSigma);
        const closedForm = (order: number[]) =>
          CHECK_LEVELS.map((level) => {
            const e = linear(x);
            for (const p of order.slice(0, Math.round((level * plane) / 100))) {
              for (let ch = 0; ch < c; ch++) {
                const i = ch * plane + p;
                for (let k = 0; k < d; k++) e[k] += W[k][i] * (blurred[i] - x[i]);
              }
            }
            return unit(e).reduce((s, v, k) => s + v * partners[side][k], 0);
          });
        const [map, random] = [closedForm(mapOrder), closedForm(randomOrder)];
        check[name].map.forEach((v, i) => assert.ok(Math.abs(v - map[i]) < 1e-5, `${name} map level ${CHECK_LEVELS[i]}`));
        check[name].random.forEach((v, i) => assert.ok(Math.abs(v - random[i]) < 1e-5, `${name} random level ${CHECK_LEVELS[i]}`));
        let area = 0;
        for (let i = 1; i < CHECK_LEVELS.length; i++) {
          const gap = (k: number) => (accepted ? 1 : -1) * (random[k] - map[k]);
          area += (0.05 * (gap(i) + gap(i - 1))) / 2;
        }
        assert.ok(Math.abs(check[name].area - area) < 1e-5);
      }
      assert.equal(check.order, accepted ? 'highest first' : 'lowest first');
    }
    assert.equal(runs, 2); // one embedding run per check
  });
});
