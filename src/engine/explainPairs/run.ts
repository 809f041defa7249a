// `explain-pairs`: explains every pair of a list with one or two models, in batches (one fused run
// per batch and model), and writes per-pair files, summary.json, aggregate maps and report.html.
//
// Resumable like the Patch-LFW evaluation: a pair's files are written first, then its record is
// appended to pairs.jsonl (one append per batch); a rerun skips the recorded pairs and redoes the
// others, overwriting what a killed run left of them.
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { overlay } from '../../shared/colour';
import type { Engine } from '../engine';
import type { ExplainedPair, PreparedFace } from '../pair';
import { encodePng } from '../image';
import { npyBytes } from '../npy';
import { prepareOutputDir, writeFileAtomic } from '../files';
import { OVERLAY_OPACITY, writeExplanation } from '../output';
import { type ImagePair, readPairList } from '../pairList';
import { lfwPairList } from '../patchlfw/lfw';
import { type RunProgress, mergeShardRecords, runRecordedPairs } from '../runFiles';
import { maxAbs, overlayOnGrey, writeAggregates } from './aggregate';
import { XSSAB_SETTING } from '../methods/registry';
import { writeReport } from './report';
import { dot } from '../embeddings';
import { cacheDir } from '../shapeCache';
import { type EmbeddingStats, embedImagesCached, prepare } from './embeddingCache';
import { type ExplainSelection, selectPairs, selectionSpec, thresholdAtFmr } from './select';
import { type AttributeSources, resolveCompare, withAttributes } from './attributes';
import { type GroupLens, shardsLens, writeGroups } from './lens';
import { SETTINGS_FILE, SUMMARY_FILE, disagreements, errorKind, summariseModel } from './summary';
import { type ModelEntry, type PairListRecord, type PairListSummary, THUMB_FACE } from '../../shared/pairListSummary';
import { ExplainPairsError, RECORDS_FILE, type RunSettings } from './store';

export { SETTINGS_FILE, SUMMARY_FILE };

export { ExplainPairsError, RECORDS_FILE, type RunSettings };

export interface ExplainPairsOptions extends AttributeSources {
  /** A CSV/text pair list (a,b[,label]), or LFW's pairs.txt when `lfwRoot` is given. */
  list: string;
  lfwRoot?: string;
  out: string;
  engine: Engine;
  /** A second model explained on the same pairs, for comparison. */
  engineB?: Engine;
  /** Thresholds of the two models (default: each model card's). */
  threshold?: number;
  thresholdB?: number;
  /** Pairs per fused run. */
  batch?: number;
  /** This run's share: pairs with index % count === index − 1 (index from 1). */
  shard?: { index: number; count: number };
  /** Which scored pairs are explained (default: all). */
  explain?: ExplainSelection;
  /** Without a threshold: the one where this run's impostor scores give this FMR. */
  atFmr?: number;
  atFmrB?: number;
  /** Root of the on-disk embedding cache; undefined keeps none (default: embeddings/ in the xSSAB cache). */
  embeddingCache?: string;
  /** Fairness lens: fewer genuine or impostor pairs and a group is not compared (default MIN_GROUP). */
  minGroup?: number;
}

export interface ExplainPairsHooks {
  onProgress?: (p: RunProgress) => void;
  /** Checked between batches; what is done stays on disk. */
  signal?: AbortSignal;
  /** Told once per model after scoring: images, cache hits and faces embedded. */
  onEmbeddings?: (key: ModelEntry['key'], stats: EmbeddingStats) => void;
}

type IndexedPair = ImagePair & { index: number };

/** The folder of a pair's files, relative to the output folder. */
export const pairDir = (index: number) => path.join('pairs', String(index).padStart(6, '0'));

/** Runs (or resumes) the explanation of a pair list; returns the summary it wrote. */
export async function explainPairList(options: ExplainPairsOptions, hooks: ExplainPairsHooks = {}): Promise<PairListSummary> {
  const list = path.resolve(options.list);
  const pairs = withAttributes(options.lfwRoot ? lfwPairList(options.lfwRoot, list) : readPairList(list), list, options);
  const compare = options.compare && resolveCompare(pairs, options.by ?? [], options.compare);
  const shard = options.shard ?? { index: 1, count: 1 };
  const mine: IndexedPair[] = pairs.map((p, index) => ({ ...p, index })).filter((p) => p.index % shard.count === shard.index - 1);
  prepareOutputDir(options.out, SETTINGS_FILE);
  const engines = options.engineB ? [options.engine, options.engineB] : [options.engine];
  const batch = options.batch ?? options.engine.defaultBatch(16);

  // Stage 1: every distinct image embedded once (or found in the cache), every pair scored.
  const cacheRoot = 'embeddingCache' in options ? options.embeddingCache : defaultEmbeddingCache();
  const images = mine.flatMap((p) => [p.a, p.b]);
  const keys: ModelEntry['key'][] = ['model-a', 'model-b'];
  const scores: (number | string)[][] = [];
  for (const [m, engine] of engines.entries()) {
    const { embeddings, stats } = await embedImagesCached(engine, images, cacheRoot, batch, hooks.signal);
    hooks.onEmbeddings?.(keys[m], stats);
    scores.push(
      mine.map((p) => {
        const [a, b] = [embeddings.get(p.a)!, embeddings.get(p.b)!];
        if (!(a instanceof Float32Array)) return a.failed;
        if (!(b instanceof Float32Array)) return b.failed;
        return dot(a, b);
      }),
    );
  }
  const thresholds = engines.map((_, m) => {
    const [given, fmr] = m === 0 ? [options.threshold, options.atFmr] : [options.thresholdB, options.atFmrB];
    if (given !== undefined || fmr === undefined) return { threshold: given };
    const impostor = mine.map((p, i) => (p.label === 'different' ? scores[m][i] : undefined)).filter((s): s is number => typeof s === 'number');
    if (!impostor.length) throw new ExplainPairsError(`--at-fmr needs impostor pairs (labelled different) in ${options.list}`);
    return { threshold: thresholdAtFmr(impostor, fmr), atFmr: fmr };
  });
  const settings = runSettings(options, list, shard, pairs.length, thresholds);

  // Stage 2: only the selected pairs are explained; the others are recorded with their scores.
  const selection = options.explain ?? { kind: 'all' };
  const position = new Map(mine.map((p, i) => [p.index, i]));
  const kinds = (i: number) =>
    scores.every((s) => typeof s[i] === 'number')
      ? settings.models.map((model, m) => errorKind(mine[i].label, (scores[m][i] as number) >= model.threshold))
      : undefined;
  const chosen = selectPairs(mine.map((p, i) => ({ index: p.index, kinds: kinds(i) })), selection);
  const scoredRecord = (pair: IndexedPair): PairListRecord => {
    const i = position.get(pair.index)!;
    const record: PairListRecord = { index: pair.index, a: pair.a, b: pair.b, ...(pair.label ? { label: pair.label } : {}), dir: pairDir(pair.index) };
    const failed = scores.map((s) => s[i]).find((s): s is string => typeof s === 'string');
    if (failed !== undefined) return { ...record, failed };
    const outcomes = settings.models.map((model, m) => {
      const score = scores[m][i] as number;
      return { score, decision: score >= model.threshold ? ('match' as const) : ('no match' as const), margin: score - model.threshold, errorKind: errorKind(pair.label, score >= model.threshold) };
    });
    return { ...record, outcomes, scoredOnly: true };
  };

  const records = await runRecordedPairs(
    path.join(options.out, RECORDS_FILE),
    mine,
    batch,
    async (pairs) => {
      const explained = await explainBatch(options.out, engines, settings, pairs.filter((p) => chosen.has(p.index)));
      const byIndex = new Map(explained.map((r) => [r.index, r]));
      return pairs.map((p) => byIndex.get(p.index) ?? scoredRecord(p));
    },
    hooks,
  );
  const lens = options.by && { attributes: new Map(pairs.map((p, i) => [i, p.attributes ?? {}])), by: options.by, minGroup: options.minGroup, ...(compare ? { compare } : {}) };
  return writeSummary(options.out, settings, records, lens);
}

/** embeddings/ in the xSSAB cache folder (XSSAB_CACHE_DIR; empty: no cache on disk). */
function defaultEmbeddingCache(): string | undefined {
  const root = cacheDir();
  return root === undefined ? undefined : path.join(root, 'embeddings');
}

function runSettings(
  options: ExplainPairsOptions,
  list: string,
  shard: RunSettings['shard'],
  count: number,
  thresholds: { threshold?: number; atFmr?: number }[],
): RunSettings {
  const entry = (key: ModelEntry['key'], engine: Engine, { threshold, atFmr }: { threshold?: number; atFmr?: number }): ModelEntry => {
    const m = engine.model;
    return {
      key,
      name: m.name,
      path: m.path,
      sha256: m.sha256,
      inputSize: [m.inputShape[1], m.inputShape[2]],
      threshold: threshold ?? m.threshold,
      thresholdSource: atFmr !== undefined ? 'at FMR' : threshold === undefined ? m.thresholdSource : 'user',
      ...(atFmr !== undefined ? { atFmr } : {}),
    };
  };
  const selection = options.explain ?? { kind: 'all' };
  const settings: RunSettings = {
    version: 1,
    list,
    ...(options.lfwRoot ? { lfwRoot: path.resolve(options.lfwRoot) } : {}),
    shard,
    pairs: count,
    models: [entry('model-a', options.engine, thresholds[0]), ...(options.engineB ? [entry('model-b', options.engineB, thresholds[1])] : [])],
    // Runs that explain every pair (and those from before --explain) keep their settings file.
    ...(selection.kind === 'all' ? {} : { explain: selectionSpec(selection) }),
    method: XSSAB_SETTING,
  };
  const file = path.join(options.out, SETTINGS_FILE);
  if (fs.existsSync(file)) {
    // Model paths may move between runs; the content (sha256) is what must not change.
    const key = (s: RunSettings) => JSON.stringify({ ...s, models: s.models.map((m) => ({ ...m, path: undefined })) });
    if (key(JSON.parse(fs.readFileSync(file, 'utf8'))) !== key(settings)) {
      throw new ExplainPairsError(`${options.out}: holds a run with other settings (${SETTINGS_FILE}); choose another --out to start a new run`);
    }
  } else writeFileAtomic(file, JSON.stringify(settings, null, 1) + '\n');
  return settings;
}

/** The maps of two models can be subtracted only on the same aligned frame. */
const sameFrame = (models: readonly ModelEntry[]) => models.length === 2 && models[0].inputSize.join() === models[1].inputSize.join();

/** A face that cannot be found or read fails its pair, not the run (A's failure is reported first). */
async function preparePair(engine: Engine, pair: IndexedPair): Promise<[PreparedFace, PreparedFace] | string> {
  const a = await prepare(engine, pair.a);
  if (typeof a === 'string') return a;
  const b = await prepare(engine, pair.b);
  return typeof b === 'string' ? b : [a, b];
}

async function explainBatch(out: string, engines: readonly Engine[], settings: RunSettings, pairs: IndexedPair[]): Promise<PairListRecord[]> {
  if (!pairs.length) return [];
  const models = settings.models;
  const faces: ([PreparedFace, PreparedFace] | string)[][] = [];
  for (const [m, engine] of engines.entries()) {
    // Model B reuses model A's crops when both use the same frame: no second detection.
    faces.push(m > 0 && sameFrame(models) ? faces[0] : await Promise.all(pairs.map((p) => preparePair(engine, p))));
  }
  const failure = (i: number) => faces.map((f) => f[i]).find((f): f is string => typeof f === 'string');
  const ok = pairs.map((_, i) => i).filter((i) => failure(i) === undefined);
  const explained: ExplainedPair[][] = [];
  for (const [m, engine] of engines.entries()) {
    // The card's threshold is left to the engine, so each pair's result names its true source.
    const threshold = models[m].thresholdSource === 'user' ? models[m].threshold : undefined;
    explained.push(ok.length ? await engine.explainFaces(ok.map((i) => faces[m][i] as [PreparedFace, PreparedFace]), threshold) : []);
  }
  return Promise.all(
    pairs.map(async (pair, i): Promise<PairListRecord> => {
      const record: PairListRecord = { index: pair.index, a: pair.a, b: pair.b, ...(pair.label ? { label: pair.label } : {}), dir: pairDir(pair.index) };
      const k = ok.indexOf(i);
      if (k < 0) return { ...record, failed: failure(i) };
      const results = explained.map((e) => e[k]);
      await writePairFiles(path.join(out, record.dir), models, results);
      const outcomes = results.map(({ result: r }) => ({ score: r.score, decision: r.decision, margin: r.margin, errorKind: errorKind(pair.label, r.decision === 'match') }));
      return { ...record, outcomes };
    }),
  );
}

/**
 * Per model `<key>/` (result.json, aligned crops, the six maps as .npy); with two models on one
 * frame `a_minus_b/{a,b}_combined.npy`; and thumb.png: one row per model (both crops with their
 * combined maps), plus a row of the differences over grey.
 */
async function writePairFiles(dir: string, models: readonly ModelEntry[], pairs: readonly ExplainedPair[]): Promise<void> {
  const rows: Buffer[] = [];
  for (const [m, pair] of pairs.entries()) {
    await writeExplanation(path.join(dir, models[m].key), pair, { overlays: false });
    const [h, w] = models[m].inputSize;
    const tiles = pair.faces.map((f, side) => overlay(pair.maps[side].combined, 'combined', pair.result.ranges[side ? 'b' : 'a'].combined, OVERLAY_OPACITY, f.crop.data));
    rows.push(await thumbRow(tiles, w, h));
  }
  if (sameFrame(models)) {
    const [h, w] = models[0].inputSize;
    fs.mkdirSync(path.join(dir, 'a_minus_b'), { recursive: true });
    const differences = [0, 1].map((side) => pairs[0].maps[side].combined.map((v, p) => v - pairs[1].maps[side].combined[p]));
    differences.forEach((d, side) => fs.writeFileSync(path.join(dir, 'a_minus_b', `${side ? 'b' : 'a'}_combined.npy`), npyBytes(d, [h, w])));
    const tiles = differences.map((d) => overlayOnGrey(d, Math.max(...differences.map(maxAbs))));
    rows.push(await thumbRow(tiles, w, h));
  }
  fs.writeFileSync(path.join(dir, 'thumb.png'), await encodePng(2 * THUMB_FACE, rows.length * THUMB_FACE, 3, Buffer.concat(rows)));
}

/** Two w×h RGB tiles side by side, scaled to 2·THUMB_FACE × THUMB_FACE raw RGB. */
async function thumbRow(tiles: Uint8Array[], w: number, h: number): Promise<Buffer> {
  const row = Buffer.alloc(2 * w * h * 3);
  for (let y = 0; y < h; y++) tiles.forEach((t, k) => row.set(t.subarray(y * w * 3, (y + 1) * w * 3), (y * 2 * w + k * w) * 3));
  return sharp(row, { raw: { width: 2 * w, height: h, channels: 3 } })
    .resize(2 * THUMB_FACE, THUMB_FACE, { fit: 'fill' })
    .raw()
    .toBuffer();
}

/**
 * Joins the outputs of `--shard i/n` runs of one list into one run in `out`: the records, each
 * pair's files (copied), the fairness lens (groups.json), and a summary, aggregate maps and report
 * over all of them. Shards may come from other machines: model paths may differ, model contents
 * (sha256) may not.
 */
export async function mergePairListShards(out: string, shardDirs: readonly string[]): Promise<{ settings: RunSettings; summary: PairListSummary }> {
  // Checked before anything is written.
  const lens = shardsLens(shardDirs, (message) => new ExplainPairsError(message));
  const { settings, records, shardOf } = mergeShardRecords<RunSettings, PairListRecord>(out, shardDirs, {
    settingsFile: SETTINGS_FILE,
    recordsFile: RECORDS_FILE,
    common: (s) => ({ ...s, shard: undefined, models: s.models.map((m) => ({ ...m, path: undefined })) }),
    error: (message) => new ExplainPairsError(message),
  });
  for (const r of records) {
    const from = path.join(shardOf.get(r.index)!, r.dir);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(out, r.dir), { recursive: true });
  }
  return { settings, summary: await writeSummary(out, settings, records, lens) };
}

/** Summary, aggregate maps and report of the records so far. */
export async function writeSummary(out: string, settings: RunSettings, records: PairListRecord[], lens?: GroupLens): Promise<PairListSummary> {
  const models = settings.models.map((m, which) => summariseModel(m, which, records));
  const disagree = settings.models.length === 2 ? disagreements(records) : [];
  const first = new Set(disagree);
  const summary: PairListSummary = {
    version: 1,
    list: settings.list,
    ...(settings.lfwRoot ? { lfwRoot: settings.lfwRoot } : {}),
    shard: settings.shard,
    total: records.length,
    explained: records.filter((r) => r.outcomes && !r.scoredOnly).length,
    failed: records.filter((r) => r.failed).length,
    models,
    pairs: [...records.filter((r) => first.has(r.index)), ...records.filter((r) => !first.has(r.index))],
  };
  const comparable = sameFrame(settings.models);
  const modelDifferences = await writeAggregates(out, models, records, comparable);
  if (settings.models.length === 2) {
    const [a, b] = settings.models.map((m) => `${m.inputSize[0]}×${m.inputSize[1]}`);
    summary.comparison = {
      disagreements: disagree,
      mapsComparable: comparable,
      ...(comparable ? {} : { note: `the models use different input sizes (${a} and ${b}): their maps lie on different frames, so no differences were computed` }),
      aggregates: modelDifferences,
    };
  }
  const groups = await writeGroups(out, settings.models, records, lens);
  if (groups) summary.groups = groups;
  writeFileAtomic(path.join(out, SUMMARY_FILE), JSON.stringify(summary) + '\n');
  await writeReport(out, summary);
  return summary;
}
