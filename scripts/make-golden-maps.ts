// The golden maps of test/unit/goldenMaps.test.ts: the six xSSAB maps of one bundled pair with the
// bundled model, written as (2, 3, 112, 112) float32 .npy (a, b × similarity, dissimilarity,
// combined), and checked against an independent reference: central finite differences of the
// score parts S⁺ = Σ_{n supporting} ê_n·p_n and S⁻ (partner p and the support set held fixed, as
// xSSAB defines them) through plain embedding runs of the model (no gradient graph), on a few
// hundred pixels of each face. `npx tsx scripts/make-golden-maps.ts [--write]`
import * as fs from 'fs';
import * as path from 'path';
import { Engine, toModelInput } from '../src/engine/engine';
import { npyBytes } from '../src/engine/npy';
import { Random } from '../src/engine/random';
import { MAP_KINDS, SIDES } from '../src/shared/result';

const GOLDEN_PAIR = ['man_01_face0.png', 'man_02_face0.png'];
const GOLDEN = path.join(__dirname, '..', 'test', 'unit', 'golden', 'xssab-maps-man01-man02.npy');
/** Step in preprocessed units (the input spans about [−1, 1]). */
const STEP = 2e-3;

async function main() {
  const engine = await Engine.create();
  const [a, b] = GOLDEN_PAIR.map((f) => path.join(__dirname, '..', 'samples', 'aligned', f));
  const pair = await engine.explainPair({ source: a, label: a }, { source: b, label: b });
  const [, h, w] = engine.model.inputShape;
  const plane = h * w;
  const faces = pair.faces.map((f) => toModelInput(f.crop, engine.model.preprocessing));
  const d = engine.model.embeddingSize;
  const unit = async (xs: Float32Array[]) => {
    const out: Float32Array[] = [];
    for (let s = 0; s < xs.length; s += 16) {
      const chunk = xs.slice(s, s + 16);
      const stacked = new Float32Array(chunk.length * xs[0].length);
      chunk.forEach((x, i) => stacked.set(x, i * x.length));
      const e = await engine.explainer.embed(stacked);
      for (let i = 0; i < chunk.length; i++) {
        const v = Array.from(e.slice(i * d, (i + 1) * d), Number);
        const n = Math.hypot(...v);
        out.push(Float32Array.from(v.map((x) => x / n)));
      }
    }
    return out;
  };
  const [ua, ub] = await unit(faces);
  const beta = pair.result.threshold / d;
  const support = Array.from(ua, (v, n) => v * ub[n] >= beta);
  const random = new Random(7);
  let worst = 0;
  const errors: number[] = [];
  for (const side of [0, 1]) {
    const maps = pair.maps[side];
    const partner = side === 0 ? ub : ua;
    const top = (m: Float32Array) => [...m.keys()].sort((i, j) => m[j] - m[i]).slice(0, 50);
    const pixels = [...new Set([...top(maps.similarity), ...top(maps.dissimilarity), ...Array.from({ length: 150 }, () => random.int(0, plane - 1))])];
    const copies: Float32Array[] = [];
    for (const p of pixels) for (let c = 0; c < 3; c++) for (const sign of [1, -1]) {
      const x = faces[side].slice();
      x[c * plane + p] += sign * STEP;
      copies.push(x);
    }
    const units = await unit(copies);
    const part = (u: Float32Array, keep: boolean) => u.reduce((s, v, n) => s + (support[n] === keep ? v * partner[n] : 0), 0);
    const scale = { similarity: Math.max(...maps.similarity), dissimilarity: Math.max(...maps.dissimilarity) };
    pixels.forEach((p, k) => {
      for (const [kind, keep] of [['similarity', true], ['dissimilarity', false]] as const) {
        let sum = 0;
        for (let c = 0; c < 3; c++) sum += Math.abs(part(units[k * 6 + c * 2], keep) - part(units[k * 6 + c * 2 + 1], keep)) / (2 * STEP);
        const err = Math.abs(sum / 3 - maps[kind][p]) / scale[kind];
        errors.push(err);
        worst = Math.max(worst, err);
      }
    });
    console.log(`face ${'ab'[side]}: ${pixels.length} pixels, max |map| similarity ${scale.similarity.toExponential(3)}, dissimilarity ${scale.dissimilarity.toExponential(3)}`);
  }
  errors.sort((x, y) => x - y);
  console.log(`finite differences vs maps, relative to each map's maximum: median ${errors[errors.length >> 1].toExponential(2)}, 99th percentile ${errors[Math.floor(errors.length * 0.99)].toExponential(2)}, max ${worst.toExponential(2)} (${errors.length} values)`);
  if (process.argv.includes('--write')) {
    const values = new Float32Array(6 * plane);
    SIDES.forEach((_, s) => MAP_KINDS.forEach((kind, k) => values.set(pair.maps[s][kind], (s * 3 + k) * plane)));
    fs.mkdirSync(path.dirname(GOLDEN), { recursive: true });
    fs.writeFileSync(GOLDEN, npyBytes(values, [2, 3, h, w]));
    console.log(`wrote ${GOLDEN}`);
  }
  await engine.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
