// Which pixel orders repair the rejected genuine pairs of a Patch-LFW set? DPR's best_worst reads
// a rejected pair's combined map C = M⁺ − M⁻ lowest first; this script compares that order with
// the other orders the same explanation offers (C highest first, M⁻, M⁺ or plain saliency highest
// first) and with DPR's random order, as FNMR areas over the genuine pairs rejected at 0 %. It
// also reports how alike M⁺ and M⁻ are (mean per-pair Pearson correlation over pixels) and the
// mean of C inside the planted patches against outside them (in units of the maps' mean).
// `npx tsx scripts/dpr-orderings.ts [--set DIR] [--model FILE] [--threshold T]`
import * as path from 'path';
import { parseArgs } from 'util';
import { Engine, toModelInput } from '../src/engine/engine';
import { stackFaces, unitEmbeddings } from '../src/engine/embeddings';
import { type PatchedPair, DEFAULT_SEED, loadPatchedPair, readManifest } from '../src/engine/patchlfw/build';
import { LEVELS, type ReplacementJob, replacementOrder, scoreReplacements, unpatchedEer } from '../src/engine/patchlfw/dpr';
import { pairRandom } from '../src/engine/random';
import { areaUnder } from '../src/engine/patchlfw/report';
import type { PairExplanation } from '../src/engine/xssab';

/** Each order as DPR would build it for a rejected pair: replacementOrder(map, accepted). */
const ORDERS: Record<string, (e: PairExplanation) => [Float32Array, boolean]> = {
  'C lowest first (DPR best_worst)': (e) => [e.maps[0].combined, false],
  'C highest first': (e) => [e.maps[0].combined, true],
  'M⁻ highest first': (e) => [e.maps[0].dissimilarity, true],
  'M⁺ highest first': (e) => [e.maps[0].similarity, true],
  'saliency highest first': (e) => [e.saliency[0], true],
};
const RANDOM = 'random (DPR random)';
const PAIRS_PER_STEP = 8;

/** Mean of C over the pixels the patches changed and over the rest, in units of mean (M⁺ + M⁻) / 2. */
function combinedInsideOutside(pair: PatchedPair, maps: PairExplanation['maps'][0]): [number, number] {
  const sums = [0, 0];
  const counts = [0, 0];
  let scale = 0;
  for (let i = 0; i < maps.combined.length; i++) {
    const changed = [0, 1, 2].some((c) => pair.patched.data[3 * i + c] !== pair.original.data[3 * i + c]) ? 0 : 1;
    sums[changed] += maps.combined[i];
    counts[changed]++;
    scale += (maps.similarity[i] + maps.dissimilarity[i]) / 2;
  }
  scale /= maps.combined.length;
  return [sums[0] / counts[0] / scale, sums[1] / counts[1] / scale];
}

function pearson(x: Float32Array, y: Float32Array): number {
  const mean = (v: Float32Array) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(x), mean(y)];
  let [sxy, sxx, syy] = [0, 0, 0];
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

async function main() {
  const { values } = parseArgs({ options: { set: { type: 'string' }, model: { type: 'string' }, threshold: { type: 'string' } } });
  const set = path.resolve(values.set ?? path.join(__dirname, '..', 'samples', 'patch-samples'));
  const manifest = readManifest(set);
  const engine = await Engine.create({ model: values.model, ep: 'cpu' });
  try {
    const threshold = values.threshold === undefined ? (await unpatchedEer(engine, set, manifest, 64)).threshold : Number(values.threshold);
    const pre = (im: PatchedPair['patched']) => toModelInput(im, engine.model.preprocessing);
    const names = [RANDOM, ...Object.keys(ORDERS)];
    const rejectedAt = Object.fromEntries(names.map((n) => [n, LEVELS.map(() => 0)]));
    const correlations: number[] = [];
    const inside: number[] = [];
    const outside: number[] = [];
    const genuine = manifest.pairs.filter((p) => p.label === 'same');
    for (let start = 0; start < genuine.length; start += PAIRS_PER_STEP) {
      const pairs = await Promise.all(genuine.slice(start, start + PAIRS_PER_STEP).map((entry) => loadPatchedPair(set, entry)));
      const explained = await engine.explainer.explainBatch(stackFaces(pairs.map((p) => pre(p.patched))), stackFaces(pairs.map((p) => pre(p.b))), threshold);
      const rejected = pairs.flatMap((p, i) => (explained[i].score < threshold ? [{ pair: p, explanation: explained[i] }] : []));
      if (rejected.length === 0) continue;
      const partners = await unitEmbeddings(engine.explainer, rejected.map((r) => pre(r.pair.b)), 64);
      const plane = rejected[0].pair.patched.width * rejected[0].pair.patched.height;
      const jobs: (ReplacementJob & { name: string })[] = rejected.flatMap(({ pair, explanation }, i) => [
        { name: RANDOM, pair: i, order: pairRandom(DEFAULT_SEED, pair.entry.index, 1).permutation(plane), scores: [] },
        ...Object.entries(ORDERS).map(([name, read]) => ({ name, pair: i, order: replacementOrder(...read(explanation)), scores: [] })),
      ]);
      await scoreReplacements(engine, rejected.map((r) => r.pair), partners, jobs, 64);
      for (const job of jobs) job.scores.forEach((s, l) => (rejectedAt[job.name][l] += s < threshold ? 1 : 0));
      for (const { pair, explanation } of rejected) {
        correlations.push(pearson(explanation.maps[0].similarity, explanation.maps[0].dissimilarity));
        const [mean, rest] = combinedInsideOutside(pair, explanation.maps[0]);
        inside.push(mean);
        outside.push(rest);
      }
    }
    const count = correlations.length;
    if (count === 0) throw new Error('no genuine pair is rejected at 0 %: nothing to repair');
    const levels = [0, ...LEVELS];
    const auc = (name: string) => areaUnder(levels, [1, ...rejectedAt[name].map((r) => r / count)]);
    const at = (name: string, level: number) => (rejectedAt[name][LEVELS.indexOf(level)] / count).toFixed(2);
    console.log(`${path.basename(set)}: ${count} of ${genuine.length} genuine pairs rejected at 0 % (threshold ${threshold.toFixed(4)}, model ${engine.model.name})`);
    const average = (v: number[]) => (v.reduce((a, b) => a + b, 0) / count).toFixed(3);
    console.log(`mean Pearson correlation of M⁺ and M⁻ over pixels: ${average(correlations)}`);
    console.log(`mean C inside the patches ${average(inside)}, outside ${average(outside)} (units: mean of (M⁺ + M⁻) / 2)\n`);
    console.log('| order | AUC FNMR | Δ to random | FNMR at 25 % | 50 % | 75 % |\n|---|---|---|---|---|---|');
    for (const name of names) {
      console.log(`| ${name} | ${auc(name).toFixed(4)} | ${name === RANDOM ? '–' : (auc(name) - auc(RANDOM)).toFixed(4)} | ${at(name, 25)} | ${at(name, 50)} | ${at(name, 75)} |`);
    }
  } finally {
    await engine.dispose();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
