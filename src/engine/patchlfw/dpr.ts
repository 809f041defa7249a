// The Decision-based Patch Replacement protocol (spec §5): fix each patched pair's decision at 0%,
// then give back the original pixels a share p at a time — in the order the explanation map asks
// for (best_worst) or in a fixed random order (random) — and watch FMR and FNMR fall.
//
// Runs are resumable: every finished pair is appended as one line to pairs.jsonl (one write per
// batch), and a rerun with the same settings skips the pairs already there.
import * as fs from 'fs';
import * as path from 'path';
import { type Engine, toModelInput } from '../engine';
import { type RgbImage, jpegRoundTrip } from '../image';
import type { PairLabel } from '../../shared/pairListSummary';
import { prepareOutputDir, readJsonFile, writeFileAtomic } from '../files';
import { type RunProgress, runRecordedPairs } from '../runFiles';
import { DEFAULT_SEED, type Manifest, type PatchedPair, loadPatchedPair, readManifest } from './build';
import { LfwError } from './lfw';
import { dot, unitEmbeddings } from '../embeddings';
import type { MethodPair, MethodSetting } from '../methods/method';
import { createMethod } from '../methods/registry';
import { pairRandom } from '../random';
import { REFERENCE_JPEG_QUALITY, referenceBestWorstCounts, referenceRandomCounts, referenceRandomOrder } from './reference';

/** Replacement levels in percent: 5, 10, …, 95. */
export const LEVELS = Array.from({ length: 19 }, (_, i) => 5 * (i + 1));
export const STRATEGIES = ['best_worst', 'random'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Exactly round(p·H·W) pixels, in integer arithmetic so no level lands on a float edge. */
export function replacedCount(levelPercent: number, pixels: number): number {
  return Math.round((levelPercent * pixels) / 100);
}

/**
 * The best_worst order: a pair accepted at 0% gives back its HIGHEST-map pixels first (the
 * similarity the map claims), a rejected pair its LOWEST-map pixels first (the claimed
 * dissimilarity). Ties go to the lower pixel index. Level p replaces the first
 * replacedCount(p) entries.
 */
export function replacementOrder(map: Float32Array, accepted: boolean): Uint32Array {
  const order = Uint32Array.from({ length: map.length }, (_, i) => i);
  return order.sort((i, j) => (accepted ? map[j] - map[i] : map[i] - map[j]) || i - j);
}

/** The patched image with the pixels order[0 … count−1] (all channels) set back to the original. */
export function replacePixels(patched: RgbImage, original: RgbImage, order: Uint32Array, count: number): RgbImage {
  const data = patched.data.slice();
  for (let k = 0; k < count; k++) {
    const i = order[k] * 3;
    data[i] = original.data[i];
    data[i + 1] = original.data[i + 1];
    data[i + 2] = original.data[i + 2];
  }
  return { width: patched.width, height: patched.height, data };
}

/** One evaluated pair: its scores at every level, per strategy and method. */
export interface PairRecord {
  index: number;
  label: PairLabel;
  /** Score of the unpatched pair. */
  original: number;
  /** Score of the patched pair (level 0%), shared by all curves. */
  patched: number;
  /** Scores at LEVELS with the random order (independent of any map). */
  random: number[];
  /** Per method (by name): scores at LEVELS with the best_worst order, and the time the map took. */
  methods: Record<string, { bestWorst: number[]; ms: number }>;
}

/** Settings of a run, stored in run.json: a resumed run must use the same. */
export interface RunSettings {
  version: 2;
  set: string;
  model: { name: string; sha256: string };
  threshold: number;
  thresholdSource: 'user' | 'EER on the unpatched pairs';
  eer?: number;
  /** Each method with all its parameters (defaults filled in). */
  methods: MethodSetting[];
  /** Seed of the random order. */
  seed: number;
  /**
   * The reference code's arithmetic (reference.ts): its levels, counts and bounds, one numpy
   * permutation as every pair's random order, JPEG round trips of what it writes.
   */
  referenceCompat: boolean;
  levels: number[];
  shard: { index: number; count: number };
  pairs: number;
}

export interface DprOptions {
  /** Folder of a built set (manifest.json). */
  set: string;
  out: string;
  /** Methods with complete parameters (see methodSetting); one per name. */
  methods: readonly MethodSetting[];
  threshold?: number;
  /** This run's share: pairs with index % count === index − 1 (index from 1). */
  shard?: { index: number; count: number };
  /** Faces per forward run. */
  batch?: number;
  /** Pairs whose maps and rescoring are done together (and appended together). */
  pairsPerStep?: number;
  /** Seed of the random order. */
  seed?: number;
  /** The reference code's arithmetic instead of the spec's (see RunSettings). */
  referenceCompat?: boolean;
  onProgress?: (p: RunProgress) => void;
  /** Told once the threshold is known, before the pairs run. */
  onThreshold?: (settings: RunSettings) => void;
  signal?: AbortSignal;
}

export const RUN_FILE = 'run.json';
export const RECORDS_FILE = 'pairs.jsonl';

/** Runs (or resumes) the protocol on one shard of a set; returns the settings and all records. */
export async function evaluateDpr(engine: Engine, options: DprOptions): Promise<{ settings: RunSettings; records: PairRecord[] }> {
  const setDir = path.resolve(options.set);
  const manifest = readManifest(setDir);
  const shard = options.shard ?? { index: 1, count: 1 };
  const mine = manifest.pairs.filter((p) => p.index % shard.count === shard.index - 1);
  const batch = options.batch ?? engine.defaultBatch(64);
  // A method the model cannot take (an occluder larger than the face) is refused before anything runs.
  for (const method of options.methods) createMethod(method, { explainer: engine.explainer, threshold: 0, batch });
  prepareOutputDir(options.out, RUN_FILE);
  const settings = await runSettings(engine, manifest, setDir, options, shard, batch);
  options.onThreshold?.(settings);

  const records = await runRecordedPairs(
    path.join(options.out, RECORDS_FILE),
    mine,
    options.pairsPerStep ?? 8,
    async (entries) => evaluatePairs(engine, await Promise.all(entries.map((entry) => loadPatchedPair(setDir, entry))), settings, batch),
    { onProgress: options.onProgress, signal: options.signal },
  );
  return { settings, records };
}

async function runSettings(
  engine: Engine,
  manifest: Manifest,
  setDir: string,
  options: DprOptions,
  shard: { index: number; count: number },
  batch: number,
): Promise<RunSettings> {
  const runFile = path.join(options.out, RUN_FILE);
  const wanted = {
    set: setDir,
    model: { name: engine.model.name, sha256: engine.model.sha256 },
    methods: options.methods.map((m) => ({ name: m.name, params: m.params })),
    seed: options.seed ?? DEFAULT_SEED,
    referenceCompat: options.referenceCompat ?? false,
    levels: LEVELS,
    shard,
    pairs: manifest.pairs.length,
  };
  if (fs.existsSync(runFile)) {
    // Runs from before referenceCompat existed used the spec's arithmetic.
    const stored = readJsonFile<Partial<RunSettings> & Omit<RunSettings, 'referenceCompat'>>(runFile);
    const earlier: RunSettings = { ...stored, referenceCompat: stored.referenceCompat ?? false };
    const differ = settingsDiffer(earlier, wanted);
    if (options.threshold !== undefined && options.threshold !== earlier.threshold) differ.push(`threshold ${earlier.threshold} ≠ ${options.threshold}`);
    if (differ.length) {
      throw new LfwError(`${options.out}: holds a run with other settings (${RUN_FILE}: ${differ.join('; ')}); choose another --out to start a new run`);
    }
    return earlier;
  }
  let threshold = options.threshold;
  let eer: number | undefined;
  if (threshold === undefined) {
    ({ threshold, eer } = await unpatchedEer(engine, setDir, manifest, batch));
  }
  const settings: RunSettings = {
    version: 2,
    ...wanted,
    threshold,
    thresholdSource: options.threshold === undefined ? 'EER on the unpatched pairs' : 'user',
    ...(eer === undefined ? {} : { eer }),
  };
  writeFileAtomic(runFile, JSON.stringify(settings, null, 1) + '\n');
  return settings;
}

type Compared = Pick<RunSettings, 'model' | 'methods' | 'seed' | 'referenceCompat' | 'levels' | 'shard' | 'pairs'>;

/** What differs between a stored run's settings and the wanted ones, as short texts (not the set's folder, which may move). */
function settingsDiffer(earlier: Compared, wanted: Compared): string[] {
  const text = (v: unknown) => (typeof v === 'object' ? JSON.stringify(v) : String(v));
  const differ: string[] = [];
  const names = (ms: readonly MethodSetting[]) => ms.map((m) => m.name).join(',');
  if (names(earlier.methods) !== names(wanted.methods)) differ.push(`methods ${names(earlier.methods)} ≠ ${names(wanted.methods)}`);
  else {
    earlier.methods.forEach((m, i) => {
      for (const key of new Set([...Object.keys(m.params), ...Object.keys(wanted.methods[i].params)])) {
        const [was, now] = [m.params[key], wanted.methods[i].params[key]];
        if (text(was) !== text(now)) differ.push(`${m.name}.${key} ${text(was)} ≠ ${text(now)}`);
      }
    });
  }
  for (const key of ['model', 'seed', 'referenceCompat', 'levels', 'shard', 'pairs'] as const) {
    if (text(earlier[key]) !== text(wanted[key])) differ.push(`${key} ${text(earlier[key])} ≠ ${text(wanted[key])}`);
  }
  return differ;
}

/** The EER threshold over ALL pairs of the set unpatched (the same for every shard). */
export async function unpatchedEer(engine: Engine, setDir: string, manifest: Manifest, batch: number): Promise<{ threshold: number; eer: number }> {
  const crop = (file: string) => path.resolve(setDir, file);
  const { threshold, eer } = await engine.equalErrorRateOf(manifest.pairs.map((p) => ({ a: crop(p.a.crop), b: crop(p.b.crop), label: p.label })), batch);
  return { threshold, eer };
}

async function evaluatePairs(engine: Engine, pairs: PatchedPair[], settings: RunSettings, batch: number): Promise<PairRecord[]> {
  const pre = (im: RgbImage) => toModelInput(im, engine.model.preprocessing);
  const explainer = engine.explainer;
  const embed = (images: RgbImage[]) => unitEmbeddings(explainer, images.map(pre), batch);
  const plane = pairs[0].patched.width * pairs[0].patched.height;
  const compat = settings.referenceCompat;
  // The reference scores the JPEGs it writes: the patched set holds the patched face and its
  // partner as JPEGs, and every level writes the replaced face and the partner again.
  const jpeg = (im: RgbImage) => jpegRoundTrip(im, REFERENCE_JPEG_QUALITY);
  const scored: PatchedPair[] = compat ? await Promise.all(pairs.map(async (p) => ({ ...p, patched: await jpeg(p.patched), b: await jpeg(p.b) }))) : pairs;
  const inputs: MethodPair[] = scored.map((p) => ({ a: pre(p.patched), b: pre(p.b), index: p.entry.index }));
  const [partners, patched, originals] = [
    await unitEmbeddings(explainer, inputs.map((p) => p.b), batch),
    await unitEmbeddings(explainer, inputs.map((p) => p.a), batch),
    await embed(pairs.map((p) => p.original)),
  ];
  const [unpatchedPartners, levelPartners] = compat
    ? [await embed(pairs.map((p) => p.b)), await embed(await Promise.all(scored.map((p) => jpeg(p.b))))]
    : [partners, partners];
  const records: PairRecord[] = pairs.map((p, i) => ({
    index: p.entry.index,
    label: p.entry.label,
    original: dot(originals[i], unpatchedPartners[i]),
    patched: dot(patched[i], partners[i]),
    random: [],
    methods: {},
  }));

  // One list of (pair, order) jobs; every level of every job is a face to score.
  const jobs: ReplacementJob[] = [];
  const shared = compat ? { order: referenceRandomOrder(settings.seed, plane), counts: referenceRandomCounts(plane) } : undefined;
  records.forEach((r, i) => jobs.push({ pair: i, order: shared?.order ?? pairRandom(settings.seed, r.index, 1).permutation(plane), counts: shared?.counts, scores: r.random }));
  const ctx = { explainer, threshold: settings.threshold, batch };
  // Only the patched face is explained, against its partner's embedding computed above.
  const explained = inputs.map((p, i) => ({ ...p, partner: partners[i] }));
  for (const method of settings.methods) {
    const start = performance.now();
    const maps = await createMethod(method, ctx).attribute(explained, 'first');
    const ms = (performance.now() - start) / pairs.length;
    records.forEach((r, i) => {
      const entry = { bestWorst: [] as number[], ms };
      r.methods[method.name] = entry;
      const [map, accepted] = [maps[i].faces[0].combined, r.patched >= settings.threshold];
      jobs.push({ pair: i, order: replacementOrder(map, accepted), counts: compat ? referenceBestWorstCounts(map, accepted) : undefined, scores: entry.bestWorst });
    });
  }
  await scoreReplacements(engine, scored, levelPartners, jobs, batch, compat ? REFERENCE_JPEG_QUALITY : undefined);
  return records;
}

/** One pixel order of one pair: its score at every level is appended to `scores`. */
export interface ReplacementJob {
  pair: number;
  order: Uint32Array;
  /** Pixels of `order` given back at each level of LEVELS; default replacedCount(level). */
  counts?: readonly number[];
  scores: number[];
}

/**
 * Scores every job at every level of LEVELS: the pair's patched first face with the first
 * counts[level] pixels of the job's order given back from the original, against the pair's second
 * face (`partners`: its unit embeddings). `batch` faces per forward run. With `jpegQuality` each
 * replaced face is first written to a JPEG of that quality and read back.
 */
export async function scoreReplacements(
  engine: Engine,
  pairs: readonly PatchedPair[],
  partners: readonly Float32Array[],
  jobs: readonly ReplacementJob[],
  batch: number,
  jpegQuality?: number,
): Promise<void> {
  const pre = (im: RgbImage) => toModelInput(im, engine.model.preprocessing);
  const plane = pairs[0].patched.width * pairs[0].patched.height;
  const faces = jobs.flatMap((job) =>
    LEVELS.map((level, l) => async () => {
      const { patched, original } = pairs[job.pair];
      const replaced = replacePixels(patched, original, job.order, job.counts?.[l] ?? replacedCount(level, plane));
      return pre(jpegQuality === undefined ? replaced : await jpegRoundTrip(replaced, jpegQuality));
    }),
  );
  for (let start = 0; start < faces.length; start += batch) {
    const chunk = await Promise.all(faces.slice(start, start + batch).map((make) => make()));
    const embeddings = await unitEmbeddings(engine.explainer, chunk, batch);
    embeddings.forEach((e, k) => {
      const job = jobs[Math.floor((start + k) / LEVELS.length)];
      job.scores.push(dot(e, partners[job.pair]));
    });
  }
}
