// Benchmark: explain-pair time over embed-pair time (one pair and a batch of pairs), cold start,
// memory, face detection + alignment per photo, explain-pairs' two stages interleaved (pairs per
// second explaining 32 bundled pairs, and scoring alone a list with LFW-like image reuse, with the
// embedding cache's hits),
// and DPR pairs per second (Patch-Samples, all levels, both strategies, xSSAB maps), in one process.
// `npm run bench -- [--json] [--model FILE|iresnet50|iresnet100] [--runs N] [--ep EP] [--batch N]`
// On a software Vulkan device (VK_ICD_FILENAMES naming SwiftShader) only the session figures are
// measured: throughput there would be the CPU's, through a GPU API, not a GPU's.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { resolveModel } from '../models/build/iresnet';
import { type Comparison, interleaved, timeOnce, timeRuns } from './timing';
import { Engine, defaultBatch, toModelInput } from '../src/engine/engine';
import { explainPairList } from '../src/engine/explainPairs/run';
import type { EmbeddingStats } from '../src/engine/explainPairs/embeddingCache';
import { decodeImage, resizeRgb } from '../src/engine/image';
import { loadFrModel, defaultModelPath } from '../src/engine/model';
import { unitEmbeddings } from '../src/engine/embeddings';
import type { MethodPair } from '../src/engine/methods/method';
import { XSSAB_SETTING, createMethod, methodSetting } from '../src/engine/methods/registry';
import { loadPatchedPair, readManifest } from '../src/engine/patchlfw/build';
import { evaluateDpr } from '../src/engine/patchlfw/dpr';
import { Random } from '../src/engine/random';
import { EXECUTION_PROVIDERS, type ExecutionProviderChoice } from '../src/engine/runtime';
import { Explainer } from '../src/engine/xssab';

/** The methods timed against xSSAB's DPR map, with the Patch-Samples table's parameters (README). */
const BENCH_METHODS = [
  methodSetting('saliency'),
  methodSetting('occlusion'),
  methodSetting('random-masks', { masks: 100 }),
  methodSetting('smoothgrad-xssab', { samples: 8 }),
];

interface Options {
  json: boolean;
  model: string;
  runs: number;
  ep: ExecutionProviderChoice;
  /** Pairs per run for the batch figures; default: what explain-pairs uses on the provider. */
  batch?: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { json: false, model: defaultModelPath(), runs: 30, ep: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--json') options.json = true;
    else if (arg === '--model') options.model = value();
    else if (arg === '--runs') options.runs = Math.max(20, Number(value()));
    else if (arg === '--batch') options.batch = Math.max(1, Number(value()));
    else if (arg === '--ep') {
      const ep = value() as ExecutionProviderChoice;
      if (!EXECUTION_PROVIDERS.includes(ep)) throw new Error(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}`);
      options.ep = ep;
    } else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

/** Median detection + alignment time of the bundled photos. */
async function detectionMs(runs: number): Promise<number> {
  const engine = await Engine.create();
  const photos = ['man_03.jpg', 'sample2.jpg', 'sample5.jpg'].map((p) => path.join(__dirname, '..', 'samples', 'photos', p));
  const ms = await timeRuns(Math.max(3, Math.ceil(runs / 3)), async () => {
    for (const p of photos) await engine.prepareFace(p, p);
  });
  await engine.dispose();
  return ms / photos.length;
}

/** One eighth of Patch-Samples (8 pairs) at the model's threshold, so no calibration pass is timed. */
async function dprPairsPerSecond(modelPath: string, ep: ExecutionProviderChoice): Promise<number> {
  const engine = await Engine.create({ model: modelPath, ep });
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-bench-dpr-'));
  try {
    const start = performance.now();
    const { records } = await evaluateDpr(engine, {
      set: path.join(__dirname, '..', 'samples', 'patch-samples'),
      out,
      methods: [XSSAB_SETTING],
      threshold: engine.model.threshold,
      shard: { index: 1, count: 8 },
    });
    return records.length / ((performance.now() - start) / 1000);
  } finally {
    await engine.dispose();
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/**
 * Median decode + detection + alignment time of a 3000×3000 JPEG whose face fills the frame, as
 * phones take them (man_03 enlarged): what keeps large faces cheap shows here.
 */
async function largePhotoMs(runs: number): Promise<number> {
  const engine = await Engine.create();
  const photo = await sharp(path.join(__dirname, '..', 'samples', 'photos', 'man_03.jpg')).resize(3000, 3000).jpeg({ quality: 90 }).toBuffer();
  const ms = await timeRuns(Math.max(3, Math.ceil(runs / 5)), () => engine.prepareFace(photo, 'man_03 ×28'));
  await engine.dispose();
  return ms;
}

/** 32 bundled pairs (every 24th line of the bundled list: genuine and impostor pairs alike), into `dir`. */
function explainList(dir: string): string {
  const samples = path.join(__dirname, '..', 'samples');
  const lines = fs.readFileSync(path.join(samples, 'pairs.csv'), 'utf8').split('\n').filter((l) => l.startsWith('aligned/'));
  const list = path.join(dir, 'explain.csv');
  fs.writeFileSync(list, lines.filter((_, i) => i % 24 === 0).slice(0, 32).map((l) => l.replace(/aligned\//g, path.join(samples, 'aligned/'))).join('\n'));
  return list;
}

/**
 * A list with LFW View 2's image reuse, into `dir`: 320 distinct images (the 40 bundled crops in 8
 * brightness variants, each its own content) in 500 slots (LFW: 7,701 in 12,000), 250 pairs.
 */
async function scoreList(dir: string): Promise<string> {
  const aligned = path.join(__dirname, '..', 'samples', 'aligned');
  const images: string[] = [];
  for (const name of fs.readdirSync(aligned).sort()) {
    for (let k = 0; k < 8; k++) {
      const file = path.join(dir, `${k}_${name}`);
      await sharp(path.join(aligned, name)).modulate({ brightness: 0.9 + 0.03 * k }).png().toFile(file);
      images.push(file);
    }
  }
  // Every image once, 180 of them twice, in a fixed shuffled order; consecutive slots pair up.
  const random = new Random(1);
  const slots = [...images, ...Array.from({ length: 180 }, () => images[random.int(0, images.length - 1)])];
  for (let i = slots.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [slots[i], slots[j]] = [slots[j], slots[i]];
  }
  const list = path.join(dir, 'score.csv');
  const rows = [];
  for (let i = 0; i + 1 < slots.length; i += 2) rows.push(`${slots[i]},${slots[i + 1]},${i % 4 ? 'different' : 'same'}`);
  fs.writeFileSync(list, rows.join('\n'));
  return list;
}

/**
 * explain-pairs' two stages in one interleaved loop: scoring alone (`--explain none`, a cold
 * embedding cache each round) of the LFW-like list, and explaining every pair (store, summary
 * and report included) of 32 bundled pairs; pairs per second of each, their ratio per round, the
 * cache's hits of a cold and of a warm scoring run, and scoring on a warm cache.
 */
async function explainPairsStages(modelPath: string, ep: ExecutionProviderChoice, rounds: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-bench-pairs-'));
  const engine = await Engine.create({ model: modelPath, ep });
  try {
    const [scoring, explaining] = [await scoreList(dir), explainList(dir)];
    let run = 0;
    const stats: EmbeddingStats[] = [];
    const score = (cache = path.join(dir, `cache-${run}`)) =>
      explainPairList({ list: scoring, out: path.join(dir, `score-${run++}`), engine, explain: { kind: 'none' }, embeddingCache: cache }, { onEmbeddings: (_, s) => stats.push(s) });
    const explain = () => explainPairList({ list: explaining, out: path.join(dir, `explain-${run++}`), engine, explain: { kind: 'all' }, embeddingCache: undefined });
    const c = await interleaved(rounds, () => score(), explain, 1);
    const [scorePairs, explainPairs] = [250, 32];
    const cold = stats[stats.length - 1];
    const warmCache = path.join(dir, 'cache-warm');
    await score(warmCache);
    const warmMs = await timeOnce(() => score(warmCache));
    const warm = stats[stats.length - 1];
    return {
      explain_pairs_per_s: round((1000 * explainPairs) / c.bMs),
      score_pairs_per_s: round((1000 * scorePairs) / c.aMs),
      score_over_explain: round((c.ratio * scorePairs) / explainPairs),
      score_over_explain_iqr: `${round((c.ratioIqr[0] * scorePairs) / explainPairs)}–${round((c.ratioIqr[1] * scorePairs) / explainPairs)}`,
      score_cache_cold: `${cold.hits} hits, ${cold.embedded} embedded of ${cold.images} images`,
      score_pairs_per_s_warm_cache: round((1000 * scorePairs) / warmMs),
      score_cache_warm: `${warm.hits} hits, ${warm.embedded} embedded of ${warm.images} images`,
    };
  } finally {
    await engine.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const modelPath = resolveModel(options.model);
  const coldStart = performance.now();
  const model = await loadFrModel(modelPath);
  const explainer = await Explainer.create(model, options.ep);
  const coldStartMs = performance.now() - coldStart;

  const faceSize = model.inputShape.reduce((a, b) => a * b, 1);
  // Real faces: with synthetic inputs some kernels run faster than they do on photos (branches
  // that always go one way), which once hid where the time went.
  const [, height, width] = model.inputShape;
  const [a, b] = await Promise.all(
    ['man_01_face0.png', 'sample1_face0.png'].map(async (name) => {
      const crop = await resizeRgb(await decodeImage(path.join(__dirname, '..', 'samples', 'aligned', name)), width, height);
      return toModelInput(crop, model.preprocessing);
    }),
  );
  const pair = new Float32Array(2 * faceSize);
  pair.set(a);
  pair.set(b, faceSize);

  // The first pair on a new session pays for its kernels (on a GPU, shader compilation); the
  // second shows what reusing the session saves, as every surface does (one session per model).
  const session = {
    model: model.name,
    ep: explainer.ep,
    device: device(explainer.ep),
    cold_start_ms: round(coldStartMs),
    first_pair_ms: round(await timeOnce(() => explainer.explainBatch(a, b, model.threshold))),
    second_pair_ms: round(await timeOnce(() => explainer.explainBatch(b, a, model.threshold))),
  };
  if (session.device.startsWith('software')) {
    await explainer.release();
    return print({ ...session, peak_rss_mb: round(process.resourceUsage().maxRSS / 1024) }, options.json);
  }

  const embedVsExplain = await interleaved(options.runs, () => explainer.embed(pair), () => explainer.explainBatch(a, b, model.threshold));

  // A batch of pairs in one run, as the Patch-LFW evaluation and pair lists use it.
  const n = options.batch ?? defaultBatch(explainer.ep, 16);
  const batchA = new Float32Array(n * faceSize);
  const batchB = new Float32Array(n * faceSize);
  for (let i = 0; i < n; i++) {
    batchA.set(i % 2 ? b : a, i * faceSize);
    batchB.set(i % 2 ? a : b, i * faceSize);
  }
  const batchPairs = new Float32Array(2 * n * faceSize);
  batchPairs.set(batchA);
  batchPairs.set(batchB, n * faceSize);
  const batch = await interleaved(Math.max(5, Math.ceil(options.runs / 4)), () => explainer.embed(batchPairs), () => explainer.explainBatch(batchA, batchB, model.threshold));

  // DPR's maps: the patched images of Patch-Samples' first pairs against their partners'
  // embeddings, as a DPR step computes them (the registry's methods, first face only, at DPR's
  // default batch), per image; against one whole pair explained, in the same loop.
  const setDir = path.join(__dirname, '..', 'samples', 'patch-samples');
  const dprBatch = defaultBatch(explainer.ep, 64);
  const patched = await Promise.all(readManifest(setDir).pairs.slice(0, dprBatch).map((entry) => loadPatchedPair(setDir, entry)));
  const pre = (im: Parameters<typeof toModelInput>[0]) => toModelInput(im, model.preprocessing);
  const partners = await unitEmbeddings(explainer, patched.map((p) => pre(p.b)), dprBatch);
  const dprPairs: MethodPair[] = patched.map((p, i) => ({ a: pre(p.patched), b: pre(p.b), index: p.entry.index, partner: partners[i] }));
  const ctx = { explainer, threshold: model.threshold, batch: dprBatch };
  const dprMaps = (setting: typeof XSSAB_SETTING, pairs: MethodPair[]) => () => createMethod(setting, ctx).attribute(pairs, 'first');
  const perImage = (c: Comparison, images: number): Comparison => ({ ...c, bMs: c.bMs / images, ratio: c.ratio / images, ratioIqr: [c.ratioIqr[0] / images, c.ratioIqr[1] / images] });
  const dprVsPair = perImage(await interleaved(Math.max(5, Math.ceil(options.runs / 3)), () => explainer.explainBatch(a, b, model.threshold), dprMaps(XSSAB_SETTING, dprPairs)), dprPairs.length);
  // Every other method's DPR map of one image against xSSAB's, each pair of them in one loop, with
  // the parameters of the README's Patch-Samples table. Occlusion's 1,173 forward runs per image
  // allow only a few rounds.
  const one = dprPairs.slice(0, 1);
  const perMethod: Record<string, string | number> = {};
  for (const setting of BENCH_METHODS) {
    const c = await interleaved(setting.name === 'occlusion' ? 3 : 5, dprMaps(XSSAB_SETTING, one), dprMaps(setting, one), 1);
    const key = setting.name.replace(/-/g, '_');
    Object.assign(perMethod, { [`${key}_over_xssab`]: round(c.ratio), [`${key}_over_xssab_iqr`]: iqr(c), [`${key}_map_ms`]: round(c.bMs) });
  }

  const result = {
    ...session,
    ratio: round(embedVsExplain.ratio),
    ratio_iqr: iqr(embedVsExplain),
    embed_pair_ms: round(embedVsExplain.aMs),
    explain_pair_ms: round(embedVsExplain.bMs),
    batch_pairs: n,
    batch_ratio: round(batch.ratio),
    batch_ratio_iqr: iqr(batch),
    batch_pairs_per_s: round((1000 * n) / batch.bMs),
    dpr_map_over_explain_pair: round(dprVsPair.ratio),
    dpr_map_over_explain_pair_iqr: iqr(dprVsPair),
    dpr_xssab_map_ms: round(dprVsPair.bMs),
    dpr_explain_pair_ms: round(dprVsPair.aMs),
    ...perMethod,
    detect_align_ms_per_photo: round(await detectionMs(options.runs)),
    detect_align_ms_9mp_photo: round(await largePhotoMs(options.runs)),
    ...(await explainPairsStages(modelPath, options.ep, Math.max(3, Math.ceil(options.runs / 5)))),
    dpr_pairs_per_s: round(await dprPairsPerSecond(modelPath, options.ep)),
    peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
  };
  await explainer.release();
  print(result, options.json);
}

/** What the provider ran on, as far as the environment tells: the CPU, a software Vulkan device, or a GPU. */
function device(ep: string): string {
  if (ep === 'cpu') return 'cpu';
  if (ep === 'webgpu' && /swiftshader/i.test(process.env.VK_ICD_FILENAMES ?? '')) return 'software Vulkan device (SwiftShader, on the CPU)';
  return 'gpu';
}

function print(result: Record<string, string | number>, json: boolean): void {
  if (json) return console.log(JSON.stringify(result));
  const width = Math.max(...Object.keys(result).map((k) => k.length));
  for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(width)} ${v}`);
}

const round = (v: number) => Math.round(v * 100) / 100;
/** An interquartile range as one value of the flat result: "q1–q3". */
const iqr = (c: Comparison) => `${round(c.ratioIqr[0])}–${round(c.ratioIqr[1])}`;

main().catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
