// The explanation-method registry: its entries, parameter validation, every method's maps of BOTH
// faces against closed forms on a linear embedder e = W·x (float64 references written here), the
// first-face path DPR uses, and the SmoothGrad wrapper.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadFrModel } from '../../src/engine/model';
import { encodeModel } from '../../src/engine/onnx/proto';
import { type FaceAttribution, type MethodEntry, type MethodPair, MethodError, defineMethod, resolveParams } from '../../src/engine/methods/method';
import { randomMasks } from '../../src/engine/methods/perturbation';
import { METHODS, METHOD_NAMES, createMethod, methodEntry, methodSetting, paramsText, parseParamAssignments } from '../../src/engine/methods/registry';
import { noisyCopies, smoothGrad } from '../../src/engine/methods/smoothgrad';
import { Explainer } from '../../src/engine/xssab';
import { Net, randomValues } from './gradcheck';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-methods-'));

async function load(net: Net, output: string, name: string) {
  const file = path.join(tmp, `${name}.onnx`);
  fs.writeFileSync(file, encodeModel(net.model(output)));
  fs.writeFileSync(path.join(tmp, `${name}.card.json`), JSON.stringify({ name, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
  return loadFrModel(file);
}

/** |actual − expected| ≤ tol · max|expected| + 1e-7 everywhere. */
function close(actual: Float32Array | undefined, expected: ArrayLike<number>, what: string, tol = 1e-5): void {
  assert.ok(actual, `${what} is missing`);
  assert.strictEqual(actual.length, expected.length, what);
  const scale = Math.max(...Array.from(expected, Math.abs));
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol * scale + 1e-7, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

describe('explanation-method registry', () => {
  it('lists each method once, with a description, its maps and parameter defaults that pass its own validation', () => {
    assert.deepStrictEqual([...METHOD_NAMES], ['xssab', 'saliency', 'occlusion', 'random-masks', 'smoothgrad-xssab']);
    for (const entry of METHODS) {
      assert.ok(entry.description.length > 20, entry.name);
      assert.ok(entry.maps === 'all' || entry.maps === 'combined');
      for (const spec of Object.values(entry.params)) assert.ok(spec.description.length > 5, entry.name);
      assert.deepStrictEqual(methodSetting(entry.name).params, Object.fromEntries(Object.entries(entry.params).map(([k, s]) => [k, s.default])));
    }
    assert.deepStrictEqual(methodSetting('random-masks', { masks: 100 }), { name: 'random-masks', params: { masks: 100, seed: 3 } });
    assert.deepStrictEqual(methodSetting('occlusion').params, { sizes: [7, 14, 28], stride: 5 });
    assert.deepStrictEqual(methodSetting('smoothgrad-xssab').params, { samples: 16, noise: 0.15, seed: 3 });
    assert.strictEqual(methodEntry('smoothgrad-xssab').maps, 'all');
    assert.strictEqual(paramsText(methodSetting('occlusion', { stride: 4 })), 'sizes=7/14/28, stride=4');
  });

  it('refuses unknown methods, unknown parameters and values out of bounds, naming them', () => {
    const refuses = (f: () => unknown, message: RegExp) => assert.throws(f, (e: Error) => e instanceof MethodError && message.test(e.message), String(message));
    refuses(() => methodSetting('gradcam'), /unknown method "gradcam" \(choose from xssab, saliency, occlusion, random-masks, smoothgrad-xssab\)/);
    refuses(() => methodSetting('xssab', { samples: 4 }), /xssab: no parameter "samples" \(it has none\)/);
    refuses(() => methodSetting('random-masks', { mask: 4 }), /random-masks: no parameter "mask" \(it has masks, seed\)/);
    refuses(() => methodSetting('random-masks', { masks: 1 }), /random-masks: masks must be a whole number ≥ 2, got 1/);
    refuses(() => methodSetting('random-masks', { masks: 2.5 }), /masks must be a whole number ≥ 2, got 2.5/);
    refuses(() => methodSetting('smoothgrad-xssab', { noise: 1.5 }), /smoothgrad-xssab: noise must be a number in 0…1, got 1.5/);
    refuses(() => methodSetting('smoothgrad-xssab', { samples: 0 }), /samples must be a whole number in 1…1000, got 0/);
    refuses(() => methodSetting('occlusion', { sizes: [] }), /sizes must be a list of whole numbers ≥ 1, got \[\]/);
    refuses(() => methodSetting('occlusion', { sizes: [7, 0] }), /got \[7,0\]/);
    refuses(() => createMethod({ name: 'xssab', params: { x: 1 } }, {} as never), /xssab: no parameter "x"/);

    assert.deepStrictEqual(parseParamAssignments(['random-masks.masks=100', 'occlusion.sizes=7,14', 'smoothgrad-xssab.noise=0.1'], ['occlusion', 'random-masks', 'smoothgrad-xssab']), {
      occlusion: { sizes: [7, 14] },
      'random-masks': { masks: 100 },
      'smoothgrad-xssab': { noise: 0.1 },
    });
    refuses(() => parseParamAssignments(['masks=100'], ['random-masks']), /parameter "masks=100": write METHOD.NAME=VALUE/);
    refuses(() => parseParamAssignments(['random-masks.masks=100'], ['xssab']), /random-masks is not among the methods run \(xssab\)/);
    refuses(() => parseParamAssignments(['random-masks.size=1'], ['random-masks']), /random-masks has no parameter "size" \(it has masks, seed\)/);
    refuses(() => parseParamAssignments(['random-masks.masks=ten'], ['random-masks']), /"ten" is not a number/);
    refuses(() => parseParamAssignments(['random-masks.masks=1,2'], ['random-masks']), /masks takes one number/);
  });
});

describe('explanation methods on a linear embedder e = W·x (closed forms)', function () {
  this.timeout(60000);
  const [c, h, w, d] = [3, 8, 8, 8];
  const size = c * h * w;
  const plane = h * w;
  const threshold = 0.2;
  const weights = randomValues(d * size, 11);
  let explainer: Explainer;
  const pairs: MethodPair[] = [0, 1].map((index) => ({ a: randomValues(size, 21 + index), b: randomValues(size, 31 + index), index }));

  before(async () => {
    const net = new Net([1, c, h, w]);
    const e = net.b.op('Gemm', [net.b.op('Flatten', ['x'], { axis: 1 }), net.b.initializer('W', [d, size], weights)], { transB: 1 });
    explainer = await Explainer.create(await load(net, e, 'linear'));
  });
  after(() => explainer.release());

  // float64 references
  const embed = (x: ArrayLike<number>) => Array.from({ length: d }, (_, r) => Array.from(x).reduce((s, v, k) => s + weights[r * size + k] * v, 0));
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const unit = (x: ArrayLike<number>) => {
    const e = embed(x);
    return e.map((v) => v / norm(e));
  };
  const score = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    const [u, v] = [unit(x), unit(y)];
    return u.reduce((s, a, n) => s + a * v[n], 0);
  };
  /** mean_c |Wᵀ (w − (ê·w) ê) / ‖e‖| with w the partner's unit embedding where `keep`. */
  const gradientMap = (x: ArrayLike<number>, y: ArrayLike<number>, keep: (n: number, arg: number) => boolean) => {
    const e = embed(x);
    const [u, p] = [unit(x), unit(y)];
    const wv = p.map((v, n) => (keep(n, u[n] * v) ? v : 0));
    const proj = u.reduce((s, a, n) => s + a * wv[n], 0);
    const ct = wv.map((v, n) => (v - proj * u[n]) / norm(e));
    const g = Array.from({ length: size }, (_, k) => ct.reduce((s, v, r) => s + v * weights[r * size + k], 0));
    return Array.from({ length: plane }, (_, i) => (Math.abs(g[i]) + Math.abs(g[plane + i]) + Math.abs(g[2 * plane + i])) / 3);
  };
  const xssabRef = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    const similarity = gradientMap(x, y, (_, arg) => arg >= threshold / d);
    const dissimilarity = gradientMap(x, y, (_, arg) => arg < threshold / d);
    return { similarity, dissimilarity, combined: similarity.map((v, i) => v - dissimilarity[i]), saliency: gradientMap(x, y, () => true) };
  };
  const faceOf = (p: MethodPair, side: 0 | 1) => (side === 0 ? [p.a, p.b] : [p.b, p.a]);
  const ctx = () => ({ explainer, threshold, batch: 3 });

  it('xssab: similarity, dissimilarity and combined maps of both faces; the first face alone is the same', async () => {
    const both = await createMethod(methodSetting('xssab'), ctx()).attribute(pairs, 'both');
    const first = await createMethod(methodSetting('xssab'), ctx()).attribute(pairs, 'first');
    for (const [i, p] of pairs.entries()) {
      for (const side of [0, 1] as const) {
        const ref = xssabRef(...(faceOf(p, side) as [Float32Array, Float32Array]));
        for (const part of ['similarity', 'dissimilarity', 'combined'] as const) close(both[i].faces[side][part], ref[part], `pair ${i} face ${side} ${part}`);
      }
      assert.ok(Math.abs(both[i].run!.score - score(p.a, p.b)) < 1e-6);
      assert.strictEqual(first[i].faces.length, 1);
      const ref = xssabRef(p.a, p.b);
      for (const part of ['similarity', 'dissimilarity', 'combined'] as const) close(first[i].faces[0][part], ref[part], `first-face path, pair ${i} ${part}`);
    }
    // Partners given by the caller (as DPR does) change nothing.
    const given = pairs.map((p) => ({ ...p, partner: Float32Array.from(unit(p.b)) }));
    const withPartners = await createMethod(methodSetting('xssab'), ctx()).attribute(given, 'first');
    close(withPartners[1].faces[0].combined, xssabRef(pairs[1].a, pairs[1].b).combined, 'with partners');
  });

  it('saliency: mean_c |∂s/∂x| of both faces, and no similarity or dissimilarity map', async () => {
    const both = await createMethod(methodSetting('saliency'), ctx()).attribute(pairs, 'both');
    for (const [i, p] of pairs.entries()) {
      for (const side of [0, 1] as const) {
        close(both[i].faces[side].combined, xssabRef(...(faceOf(p, side) as [Float32Array, Float32Array])).saliency, `pair ${i} face ${side}`);
        assert.strictEqual(both[i].faces[side].similarity, undefined);
      }
    }
  });

  it('occlusion: the negated mean score change of the occluders covering each pixel, on both faces', async () => {
    const [sizes, stride] = [[3, 5], 2];
    const both = await createMethod(methodSetting('occlusion', { sizes, stride }), ctx()).attribute(pairs, 'both');
    const reference = (x: Float32Array, y: Float32Array) => {
      const [sum, count] = [new Float64Array(plane), new Float64Array(plane)];
      const s0 = score(x, y);
      for (const k of sizes) {
        for (let y0 = 0; y0 + k <= h; y0 += stride) {
          for (let x0 = 0; x0 + k <= w; x0 += stride) {
            const inside = (i: number) => Math.floor(i / w) >= y0 && Math.floor(i / w) < y0 + k && i % w >= x0 && i % w < x0 + k;
            const change = score(Array.from(x, (v, j) => (inside(j % plane) ? 0 : v)), y) - s0;
            for (let i = 0; i < plane; i++) if (inside(i)) [sum[i], count[i]] = [sum[i] + change, count[i] + 1];
          }
        }
      }
      return Array.from(sum, (v, i) => (count[i] ? -v / count[i] : 0));
    };
    for (const [i, p] of pairs.entries()) for (const side of [0, 1] as const) close(both[i].faces[side].combined, reference(...(faceOf(p, side) as [Float32Array, Float32Array])), `pair ${i} face ${side}`, 1e-4);
    assert.throws(() => createMethod(methodSetting('occlusion', { sizes: [9] }), ctx()), /occlusion: occluder size 9 exceeds the 8×8 input/);
  });

  it('random-masks: the Pearson correlation of each pixel\'s mask values with the scores, on both faces', async () => {
    const masks = 40;
    const both = await createMethod(methodSetting('random-masks', { masks, seed: 7 }), ctx()).attribute(pairs, 'both');
    for (const [i, p] of pairs.entries()) {
      for (const side of [0, 1] as const) {
        const [x, y] = faceOf(p, side);
        const m = randomMasks(7, p.index, side, masks, h, w);
        const scores = m.map((mask) => score(Array.from(x, (v, j) => v * mask[j % plane]), y));
        const meanS = scores.reduce((a, b) => a + b, 0) / masks;
        const expected = Array.from({ length: plane }, (_, px) => {
          const values = m.map((mask) => mask[px]);
          const meanM = values.reduce((a, b) => a + b, 0) / masks;
          const cov = values.reduce((s, v, k) => s + (v - meanM) * (scores[k] - meanS), 0);
          const varM = values.reduce((s, v) => s + (v - meanM) ** 2, 0);
          const varS = scores.reduce((s, v) => s + (v - meanS) ** 2, 0);
          return varM > 0 ? cov / Math.sqrt(varM * varS) : 0;
        });
        close(both[i].faces[side].combined, expected, `pair ${i} face ${side}`, 1e-4);
      }
    }
    // Each face draws its own masks.
    assert.notDeepStrictEqual(randomMasks(7, 0, 0, 1, h, w), randomMasks(7, 0, 1, 1, h, w));
  });

  it('SmoothGrad of a gradient that does not depend on the input is that gradient (noise averages out of nothing)', async () => {
    // On a linear embedder the gradient of the raw dot score s = (W a)·(W b) with respect to a is
    // Wᵀ W b whatever a is: its SmoothGrad must equal it, though every copy is noisy.
    const seen: Float32Array[] = [];
    const gradient = (b: Float32Array) => {
      const wb = embed(b);
      const g = Array.from({ length: size }, (_, k) => wb.reduce((s, v, r) => s + v * weights[r * size + k], 0));
      return Array.from({ length: plane }, (_, i) => (Math.abs(g[i]) + Math.abs(g[plane + i]) + Math.abs(g[2 * plane + i])) / 3);
    };
    const linear: MethodEntry = defineMethod({
      name: 'dot-gradient',
      description: 'gradient of the raw dot score, for the test',
      maps: 'combined',
      params: {},
      create: () => ({
        attribute: async (copies) =>
          copies.map((p) => {
            seen.push(p.a);
            return { faces: [{ combined: Float32Array.from(gradient(p.b)) }] };
          }),
      }),
    });
    const params = { samples: 8, noise: 0.1, seed: 3 };
    const smooth = smoothGrad(linear).create(ctx(), resolveParams(smoothGrad(linear), params));
    const out = await smooth.attribute(pairs, 'both');
    for (const [i, p] of pairs.entries()) {
      close(out[i].faces[0].combined, gradient(p.b), `pair ${i} face 0`, 1e-6);
      close(out[i].faces[1].combined, gradient(p.a), `pair ${i} face 1`, 1e-6);
    }
    // 2 pairs × 2 faces × 8 copies, each the face plus noise of σ = 0.1 × its value range.
    assert.strictEqual(seen.length, 32);
    const face = pairs[0].a;
    const range = Math.max(...face) - Math.min(...face);
    const noise = seen.slice(0, 8).flatMap((copy) => Array.from(copy, (v, k) => v - face[k]));
    const sd = Math.sqrt(noise.reduce((s, v) => s + v * v, 0) / noise.length);
    assert.ok(Math.abs(sd / (0.1 * range) - 1) < 0.1, `noise σ ${sd} against ${0.1 * range}`);
    assert.deepStrictEqual(seen.slice(0, 8), noisyCopies(face, params, 0, 0));
  });
});

describe('SmoothGrad on a nonlinear network', function () {
  this.timeout(60000);
  it('smoothgrad-xssab equals the mean of xSSAB maps of the noisy copies, each explained alone', async () => {
    const net = new Net([1, 3, 8, 8]);
    const conv = net.b.op('PRelu', [net.b.op('Conv', ['x', net.weight([4, 3, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }), net.weight([4, 1, 1])]);
    const e = net.b.op('Gemm', [net.b.op('Flatten', [conv], { axis: 1 }), net.weight([16, 64])], { transB: 1 });
    const explainer = await Explainer.create(await load(net, e, 'conv'));
    const size = 3 * 8 * 8;
    const pairs = [4, 9].map((index) => ({ a: randomValues(size, index), b: randomValues(size, 50 + index), index }));
    const setting = methodSetting('smoothgrad-xssab', { samples: 3, noise: 0.2, seed: 5 });
    const params = setting.params as { samples: number; noise: number; seed: number };
    const out = await createMethod(setting, { explainer, threshold: 0.1, batch: 4 }).attribute(pairs, 'both');
    const mean = (maps: FaceAttribution[], part: 'similarity' | 'dissimilarity' | 'combined') =>
      Array.from(maps[0][part]!, (_, i) => maps.reduce((s, m) => s + m[part]![i], 0) / maps.length);
    for (const [i, p] of pairs.entries()) {
      const facesA: FaceAttribution[] = [];
      for (const copy of noisyCopies(p.a, params, p.index, 0)) facesA.push((await explainer.explainBatch(copy, p.b, 0.1))[0].maps[0]);
      const facesB: FaceAttribution[] = [];
      for (const copy of noisyCopies(p.b, params, p.index, 1)) facesB.push((await explainer.explainBatch(p.a, copy, 0.1))[0].maps[1]);
      for (const part of ['similarity', 'dissimilarity', 'combined'] as const) {
        close(out[i].faces[0][part], mean(facesA, part), `pair ${i} face 0 ${part}`);
        close(out[i].faces[1][part], mean(facesB, part), `pair ${i} face 1 ${part}`);
      }
      // The noise changes the maps: it is not a plain xSSAB map.
      const plain = (await explainer.explainBatch(p.a, p.b, 0.1))[0].maps[0].combined;
      assert.ok(plain.some((v, k) => Math.abs(v - out[i].faces[0].combined[k]) > 1e-3));
    }
    await explainer.release();
  });
});
