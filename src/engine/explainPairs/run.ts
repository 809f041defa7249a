// `explain-pairs`: scores every pair of a list from one embedding per distinct image, explains the
// selected pairs in batches (one fused run per batch and model), and writes the run's store
// (store.ts: compact records, one maps file per model, one thumbnails file), running means of the
// maps, summary.json, aggregate maps and report.html.
//
// Resumable like the Patch-LFW evaluation: each batch appends its maps rows and thumbnails, then
// its records (pairs.jsonl), then saves the running means; a rerun cuts every file back to what
// the saved means hold and redoes the rest, so nothing is lost or counted twice.
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { overlay } from '../../shared/colour';
import type { Engine } from '../engine';
import type { ExplainedPair, PreparedFace } from '../pair';
import { encodePng } from '../image';
import { prepareOutputDir, readJsonFile, writeFileAtomic } from '../files';
import { OVERLAY_OPACITY } from '../output';
import { type ImagePair, readPairList } from '../pairList';
import { lfwPairList } from '../patchlfw/lfw';
import { type RunProgress, mergeShardRecords, runRecordedPairs } from '../runFiles';
import { RunningMeans, bucketKey, maxAbs, overlayOnGrey, writeAggregates } from './aggregate';
import { XSSAB_SETTING } from '../methods/registry';
import { writeReport } from './report';
import { dot } from '../embeddings';
import { cacheDir } from '../shapeCache';
import { type EmbeddingStats, embedImagesCached, prepare } from './embeddingCache';
import { type ExplainSelection, selectPairs, selectionSpec, thresholdAtFmr } from './select';
import { type AttributeSources, resolveCompare, withAttributes } from './attributes';
import { groupOf } from './fairness';
import { type GroupLens, type LensMaps, followLens, saveLens, shardsLens, writeGroups } from './lens';
import { compareBucket } from './compare';
import { SETTINGS_FILE, SUMMARY_FILE, disagreements, errorKind, summariseModel } from './summary';
import { GROUPS, type Group, type ModelEntry, type PairListRecord, type PairListSummary, type PairRegions, THUMB_FACE } from '../../shared/pairListSummary';
import type { RegionSum } from '../../shared/result';
import {
  ExplainPairsError,
  IMAGES_FILE,
  type MapsFile,
  type PairLine,
  RECORDS_FILE,
  type RunSettings,
  THUMBS_FILE,
  imageLines,
  imageRoot,
  keptLines,
  mapScale,
  mapsDownscale,
  mapsFiles,
  meanPool,
  openRunStore,
  pairLine,
  pairRecord,
  readImages,
  readSlice,
  thumbsEnd,
} from './store';

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
  /** The scoring stage's progress: images embedded (of those not in the cache), per model. */
  onEmbeddingProgress?: (key: ModelEntry['key'], p: RunProgress) => void;
}

type IndexedPair = ImagePair & { index: number };

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
    const { embeddings, stats } = await embedImagesCached(engine, images, cacheRoot, batch, hooks.signal, (p) => hooks.onEmbeddingProgress?.(keys[m], p));
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
    const record: PairListRecord = { index: pair.index, a: pair.a, b: pair.b, ...(pair.label ? { label: pair.label } : {}) };
    const failed = scores.map((s) => s[i]).find((s): s is string => typeof s === 'string');
    if (failed !== undefined) return { ...record, failed };
    const outcomes = settings.models.map((model, m) => {
      const score = scores[m][i] as number;
      return { score, decision: score >= model.threshold ? ('match' as const) : ('no match' as const), margin: score - model.threshold, errorKind: errorKind(pair.label, score >= model.threshold) };
    });
    return { ...record, outcomes, scoredOnly: true };
  };

  const lens: GroupLens | undefined = options.by && { attributes: new Map(pairs.map((p, i) => [i, p.attributes ?? {}])), by: options.by, minGroup: options.minGroup, ...(compare ? { compare } : {}) };
  const store = openShardStore(options.out, settings, mine);
  const lensMaps = followLens(store.means, lens);
  saveLens(options.out, lens);
  const records = await runRecordedPairs(
    path.join(options.out, RECORDS_FILE),
    mine,
    batch,
    async (pairs) => {
      const explained = await explainBatch(store, engines, pairs.filter((p) => chosen.has(p.index)), lens && { lens, maps: lensMaps });
      const byIndex = new Map(explained.map((r) => [r.index, r]));
      return pairs.map((p) => pairLine(byIndex.get(p.index) ?? scoredRecord(p), store.imageIndex));
    },
    { ...hooks, committed: (lines) => lines.some((l) => l.row !== undefined) && store.means.save(options.out) },
  );
  return writeSummary(options.out, settings, records.map((l) => pairRecord(l, store.images, settings.models)), store.means, lens);
}

/** A shard's store being written: its images, running means, maps files and thumbnails' end. */
interface ShardStore {
  out: string;
  settings: RunSettings;
  images: string[];
  imageIndex: Map<string, number>;
  means: RunningMeans;
  maps: MapsFile[];
  thumbs: { file: string; size: number };
}

/**
 * Opens the store of a run to (re)start: images.jsonl written once for the shard's pairs, and
 * every file cut back to what the saved running means hold (keptLines).
 */
function openShardStore(out: string, settings: RunSettings, mine: readonly ImagePair[]): ShardStore {
  const images = [...new Set(mine.flatMap((p) => [p.a, p.b]))];
  const imagesText = imageLines(imageRoot(settings), images);
  const imagesFile = path.join(out, IMAGES_FILE);
  if (!fs.existsSync(imagesFile)) writeFileAtomic(imagesFile, imagesText);
  else if (fs.readFileSync(imagesFile, 'utf8') !== imagesText) throw new ExplainPairsError(`${out}: its ${IMAGES_FILE} names other images than the list; choose another --out to start a new run`);
  const means = RunningMeans.read(out);
  const kept = keptLines(out, means.explained, true);
  const maps = mapsFiles(out, settings.models);
  for (const f of maps) f.truncate(means.explained);
  const thumbs = { file: path.join(out, THUMBS_FILE), size: thumbsEnd(kept) };
  if (!fs.existsSync(thumbs.file)) fs.writeFileSync(thumbs.file, '');
  fs.truncateSync(thumbs.file, thumbs.size);
  return { out, settings, images, imageIndex: new Map(images.map((p, i) => [p, i])), means, maps, thumbs };
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
    if (key(readJsonFile<RunSettings>(file)) !== key(settings)) {
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

/** Each side's region sums, [similarity, dissimilarity] by region name. */
const pairRegions = (result: ExplainedPair['result']): PairRegions | undefined => {
  const side = (regions?: RegionSum[]) => regions && Object.fromEntries(regions.map((r) => [r.name, [r.similarity, r.dissimilarity] as [number, number]]));
  const [a, b] = [side(result.a.regions), side(result.b.regions)];
  return a && b ? [a, b] : undefined;
};

/**
 * Explains the pairs and stores them: maps rows (pooled, scaled float16) and thumbnails appended,
 * both faces' maps and crops added to the running means of the pair's error kind (and fairness
 * group). Returns their records; the means are saved once the records are appended.
 */
async function explainBatch(store: ShardStore, engines: readonly Engine[], pairs: IndexedPair[], lens: FollowedLens | undefined): Promise<PairListRecord[]> {
  if (!pairs.length) return [];
  const models = store.settings.models;
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
  const downscale = mapsDownscale(models);
  const rows = models.map(() => [] as Float32Array[]);
  const records: PairListRecord[] = [];
  for (const [i, pair] of pairs.entries()) {
    const record: PairListRecord = { index: pair.index, a: pair.a, b: pair.b, ...(pair.label ? { label: pair.label } : {}) };
    const k = ok.indexOf(i);
    if (k < 0) {
      records.push({ ...record, failed: failure(i) });
      continue;
    }
    const results = explained.map((e) => e[k]);
    const png = await thumbnail(models, results);
    const thumb: [number, number] = [store.thumbs.size, png.length];
    fs.appendFileSync(store.thumbs.file, png);
    store.thumbs.size += png.length;
    const scale = results.map((r, m) => {
      const pooled = r.maps.flatMap((face) => [meanPool(face.similarity, models[m].inputSize, downscale), meanPool(face.dissimilarity, models[m].inputSize, downscale)]);
      const e = mapScale(pooled);
      pooled.forEach((map) => rows[m].push(map.map((v) => v * 2 ** e)));
      return e;
    });
    const outcomes = results.map(({ result: r }) => {
      const regions = pairRegions(r);
      return { score: r.score, decision: r.decision, margin: r.margin, errorKind: errorKind(pair.label, r.decision === 'match'), ...(regions ? { regions } : {}) };
    });
    const buckets = lens ? lensBuckets(lens, pair.index) : [];
    results.forEach((r, m) => {
      const samples = r.maps.map((face, side) => ({ similarity: face.similarity, dissimilarity: face.dissimilarity, crop: r.faces[side].crop.data }));
      const kind = outcomes[m].errorKind;
      if (!(GROUPS as readonly string[]).includes(kind)) return;
      for (const bucket of [undefined, ...buckets]) store.means.add(bucketKey(models[m].key, kind as Group, bucket), models[m].inputSize, samples);
    });
    records.push({ ...record, outcomes, stored: { row: store.means.explained++, thumb, scale } });
  }
  store.maps.forEach((file, m) => rows[m].length && file.append(concat(rows[m])));
  return records;
}

const concat = (maps: readonly Float32Array[]) => {
  const all = new Float32Array(maps.reduce((n, m) => n + m.length, 0));
  let offset = 0;
  for (const m of maps) all.set(m, (offset += m.length) - m.length);
  return all;
};

/** The run's lens, and which of its mean maps the running means follow. */
interface FollowedLens {
  lens: GroupLens;
  maps: LensMaps;
}

/**
 * The lens buckets a pair's maps are added to: its --by group, and its --compare group (`compare/`
 * and the group's name), each when the pair has the attributes and the means follow that part.
 */
function lensBuckets({ lens, maps }: FollowedLens, index: number): string[] {
  const attributes = lens.attributes.get(index);
  if (!attributes) return [];
  const buckets = maps.groups && lens.by.every((n) => attributes[n] !== undefined) ? [groupOf(attributes, lens.by).name] : [];
  if (maps.compare && lens.compare && attributes[lens.compare.attribute] !== undefined) buckets.push(compareBucket(groupOf(attributes, [lens.compare.attribute]).name));
  return buckets;
}

/**
 * The pair's thumbnail: one row per model (both crops with their combined maps), plus, with two
 * models on one frame, a row of the differences A − B over grey.
 */
async function thumbnail(models: readonly ModelEntry[], pairs: readonly ExplainedPair[]): Promise<Buffer> {
  const rows: Buffer[] = [];
  for (const [m, pair] of pairs.entries()) {
    const [h, w] = models[m].inputSize;
    const tiles = pair.faces.map((f, side) => overlay(pair.maps[side].combined, 'combined', pair.result.ranges[side ? 'b' : 'a'].combined, OVERLAY_OPACITY, f.crop.data));
    rows.push(await thumbRow(tiles, w, h));
  }
  if (sameFrame(models)) {
    const [h, w] = models[0].inputSize;
    const differences = [0, 1].map((side) => pairs[0].maps[side].combined.map((v, p) => v - pairs[1].maps[side].combined[p]));
    const tiles = differences.map((d) => overlayOnGrey(d, Math.max(...differences.map(maxAbs))));
    rows.push(await thumbRow(tiles, w, h));
  }
  // A 256-colour palette: 9 KB instead of 24 KB a thumbnail, with no difference one can see at this size.
  return encodePng(2 * THUMB_FACE, rows.length * THUMB_FACE, 3, Buffer.concat(rows), { palette: true });
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
 * Joins the outputs of `--shard i/n` runs of one list into one run in `out`: the records (their
 * images renamed into one table), the maps rows and thumbnails (copied into one file each), the
 * running means (added), the fairness lens (groups.json), and a summary, aggregate maps and report
 * over all of them. Shards may come from other machines: model paths may differ, model contents
 * (sha256) may not. What a killed shard had not finished (beyond its saved means) is left out.
 */
export async function mergePairListShards(out: string, shardDirs: readonly string[]): Promise<{ settings: RunSettings; summary: PairListSummary }> {
  // Checked before anything is written.
  const lens = shardsLens(shardDirs, (message) => new ExplainPairsError(message));
  const { settings, records: recorded, shardOf } = mergeShardRecords<RunSettings, PairLine>(out, shardDirs, {
    settingsFile: SETTINGS_FILE,
    recordsFile: RECORDS_FILE,
    common: (s) => ({ ...s, shard: undefined, models: s.models.map((m) => ({ ...m, path: undefined })) }),
    error: (message) => new ExplainPairsError(message),
  });
  const root = imageRoot(settings);
  const shards = new Map(
    shardDirs.map((dir) => {
      const means = RunningMeans.read(dir);
      return [dir, { means, images: readImages(dir, root), kept: new Set(keptLines(dir, means.explained, false).map((l) => l.index)), maps: mapsFiles(dir, settings.models) }];
    }),
  );
  const means = new RunningMeans();
  for (const shard of shards.values()) means.addAll(shard.means);
  const maps = mapsFiles(out, settings.models);
  for (const f of maps) f.truncate(0);
  const thumbsFile = path.join(out, THUMBS_FILE);
  fs.writeFileSync(thumbsFile, '');
  const records: PairListRecord[] = [];
  let row = 0;
  let thumbs = 0;
  for (const line of recorded) {
    const shard = shards.get(shardOf.get(line.index)!)!;
    if (!shard.kept.has(line.index)) continue;
    const record = pairRecord(line, shard.images, settings.models);
    if (record.stored) {
      maps.forEach((f, m) => f.append(shard.maps[m].read(record.stored!.row)));
      const png = await readSlice(path.join(shardOf.get(line.index)!, THUMBS_FILE), record.stored.thumb);
      fs.appendFileSync(thumbsFile, png);
      record.stored = { ...record.stored, row: row++, thumb: [thumbs, png.length] };
      thumbs += png.length;
    }
    records.push(record);
  }
  const images = [...new Set(records.flatMap((r) => [r.a, r.b]))];
  const imageIndex = new Map(images.map((p, i) => [p, i]));
  writeFileAtomic(path.join(out, IMAGES_FILE), imageLines(root, images));
  writeFileAtomic(path.join(out, RECORDS_FILE), records.map((r) => JSON.stringify(pairLine(r, imageIndex)) + '\n').join(''));
  means.save(out);
  saveLens(out, lens);
  return { settings, summary: await writeSummary(out, settings, records, means, lens) };
}

/** Summary, aggregate maps and report of the records so far. */
export async function writeSummary(out: string, settings: RunSettings, records: PairListRecord[], means: RunningMeans, lens?: GroupLens): Promise<PairListSummary> {
  const models = settings.models.map((m, which) => summariseModel(m, which, records));
  const disagree = settings.models.length === 2 ? disagreements(records) : [];
  const summary: PairListSummary = {
    version: 1,
    list: settings.list,
    ...(settings.lfwRoot ? { lfwRoot: settings.lfwRoot } : {}),
    shard: settings.shard,
    total: records.length,
    explained: records.filter((r) => r.stored).length,
    failed: records.filter((r) => r.failed).length,
    models,
  };
  const comparable = sameFrame(settings.models);
  const modelDifferences = await writeAggregates(out, models, means, comparable);
  if (settings.models.length === 2) {
    const [a, b] = settings.models.map((m) => `${m.inputSize[0]}×${m.inputSize[1]}`);
    summary.comparison = {
      disagreements: disagree,
      mapsComparable: comparable,
      ...(comparable ? {} : { note: `the models use different input sizes (${a} and ${b}): their maps lie on different frames, so no differences were computed` }),
      aggregates: modelDifferences,
    };
  }
  const groups = await writeGroups(out, settings.models, records, lens, means);
  if (groups) summary.groups = groups;
  writeFileAtomic(path.join(out, SUMMARY_FILE), JSON.stringify(summary) + '\n');
  await writeReport(out, summary, records, openRunStore(out).thumbnail);
  return summary;
}
