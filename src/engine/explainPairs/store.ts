// An explain-pairs output folder's storage, whose size grows with what is explained, not with the
// list. Per shard (or merged run), besides explain-pairs.json and summary.json:
//   images.jsonl        one line per distinct image, {"path": …} relative to the image root (the
//                       LFW folder, or the list's folder); a pair names its images by line number
//   pairs.jsonl         one compact line per pair, appended as pairs finish (PairLine)
//   <model>.maps.npy    float16 (N, sides 2, kinds 2 [similarity, dissimilarity], h, w): the maps of
//                       the N explained pairs, mean-pooled by mapsDownscale, each stored × 2^scale;
//                       its header is rewritten in place as rows are appended
//   thumbs.bin          the explained pairs' thumbnails (PNG), one after the other
//   running-means.bin   the aggregates' running sums at full resolution (aggregate.ts)
// The gallery, the notebook output, the report and opening a pair read a run through RunStore.
import * as fs from 'fs';
import * as path from 'path';
import { readJsonFile } from '../files';
import { Float16Array } from '@petamoriken/float16';
import type { MethodSetting } from '../methods/method';
import { readIndexedRecords } from '../runFiles';
import { SETTINGS_FILE, SUMMARY_FILE } from './summary';
import type { ErrorKind, ModelEntry, PairLabel, PairListRecord, PairListSummary, PairRegions } from '../../shared/pairListSummary';
import { UserError } from '../../shared/errors';

export class ExplainPairsError extends UserError {}

export const IMAGES_FILE = 'images.jsonl';
export const RECORDS_FILE = 'pairs.jsonl';
export const THUMBS_FILE = 'thumbs.bin';
export const mapsFile = (key: ModelEntry['key']) => `${key}.maps.npy`;

/** Settings of a run, stored in explain-pairs.json: a resumed run must use the same. */
export interface RunSettings {
  version: 1;
  list: string;
  lfwRoot?: string;
  shard: { index: number; count: number };
  /** Pairs in the whole list. */
  pairs: number;
  models: ModelEntry[];
  /** Which pairs are explained (selectionSpec), when not all. */
  explain?: string;
  /** The explanation method with its parameters (explain-pairs runs xSSAB). */
  method: MethodSetting;
}

/**
 * One line of pairs.jsonl: `a` and `b` are lines of images.jsonl (from 0); model A's verdict is
 * `score`, `decision`, `error`, model B's the same with `_b`. An explained pair also has its row in
 * the maps files with each model's `scale` (stored values are × 2^scale), its thumbnail's [offset,
 * length] in thumbs.bin, and its maps' sums per face region.
 */
export interface PairLine {
  index: number;
  a: number;
  b: number;
  label?: PairLabel;
  failed?: string;
  score?: number;
  decision?: 'match' | 'no match';
  error?: ErrorKind;
  score_b?: number;
  decision_b?: 'match' | 'no match';
  error_b?: ErrorKind;
  row?: number;
  thumb?: [number, number];
  scale?: number;
  scale_b?: number;
  regions?: PairRegions;
  regions_b?: PairRegions;
}

const SUFFIX = ['', '_b'] as const;

/** Scores to 6 decimals: below what float32 embeddings resolve, and 10 characters fewer a pair. */
const round6 = (v: number) => Math.round(v * 1e6) / 1e6;
/** Region sums to 4 significant digits. */
const round4 = (v: number) => Number(v.toPrecision(4));

export function pairLine(record: PairListRecord, imageIndex: ReadonlyMap<string, number>): PairLine {
  const line: PairLine = { index: record.index, a: imageIndex.get(record.a)!, b: imageIndex.get(record.b)!, ...(record.label ? { label: record.label } : {}) };
  if (record.failed !== undefined) line.failed = record.failed;
  const fields = line as unknown as Record<string, unknown>;
  record.outcomes?.forEach((o, m) => {
    fields[`score${SUFFIX[m]}`] = round6(o.score);
    fields[`decision${SUFFIX[m]}`] = o.decision;
    fields[`error${SUFFIX[m]}`] = o.errorKind;
    if (record.stored) fields[`scale${SUFFIX[m]}`] = record.stored.scale[m];
    if (o.regions) {
      const sides = o.regions.map((side) => Object.fromEntries(Object.entries(side).map(([name, [s, d]]) => [name, [round4(s), round4(d)]])));
      fields[`regions${SUFFIX[m]}`] = sides as PairRegions;
    }
  });
  if (record.stored) Object.assign(line, { row: record.stored.row, thumb: record.stored.thumb });
  return line;
}

export function pairRecord(line: PairLine, images: readonly string[], models: readonly ModelEntry[]): PairListRecord {
  const record: PairListRecord = { index: line.index, a: images[line.a], b: images[line.b], ...(line.label ? { label: line.label } : {}) };
  if (line.failed !== undefined) return { ...record, failed: line.failed };
  const fields = line as unknown as Record<string, unknown>;
  record.outcomes = models.map((model, m) => {
    const score = fields[`score${SUFFIX[m]}`] as number;
    const regions = fields[`regions${SUFFIX[m]}`] as PairRegions | undefined;
    return {
      score,
      decision: fields[`decision${SUFFIX[m]}`] as 'match' | 'no match',
      margin: score - model.threshold,
      errorKind: fields[`error${SUFFIX[m]}`] as ErrorKind,
      ...(regions ? { regions } : {}),
    };
  });
  if (line.row === undefined) return { ...record, scoredOnly: true };
  return { ...record, stored: { row: line.row, thumb: line.thumb!, scale: models.map((_, m) => fields[`scale${SUFFIX[m]}`] as number) } };
}

/** Where a run's images are named from: the LFW folder, else the list's folder. */
export const imageRoot = (settings: Pick<RunSettings, 'list' | 'lfwRoot'>) => settings.lfwRoot ?? path.dirname(settings.list);

/** images.jsonl's lines for these absolute paths: relative to the root, with `/`. */
export const imageLines = (root: string, paths: readonly string[]) => paths.map((p) => JSON.stringify({ path: path.relative(root, p).split(path.sep).join('/') }) + '\n').join('');

export function readImages(out: string, root: string): string[] {
  const file = path.join(out, IMAGES_FILE);
  if (!fs.existsSync(file)) return [];
  return completeLines(file).map((line) => path.resolve(root, (JSON.parse(line) as { path: string }).path));
}

/** The complete lines of a JSON Lines file; a last line a running or killed writer left unfinished is not read (nor cut). */
export function completeLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

/** Kinds of map stored per explained face: the combined map is their difference. */
export const STORED_KINDS = ['similarity', 'dissimilarity'] as const;
/** Bytes of float16 maps per explained pair, all models together, that mapsDownscale keeps within. */
export const MAPS_BUDGET = 26_000;

/** The smallest mean-pooling factor that keeps every model's stored maps of a pair within MAPS_BUDGET. */
export function mapsDownscale(models: readonly Pick<ModelEntry, 'inputSize'>[]): number {
  const bytes = (f: number) => models.reduce((n, m) => n + 2 * STORED_KINDS.length * Math.ceil(m.inputSize[0] / f) * Math.ceil(m.inputSize[1] / f) * 2, 0);
  let f = 1;
  while (bytes(f) > MAPS_BUDGET) f++;
  return f;
}

/** The f×f mean of a h×w map (edge blocks over the pixels they hold). */
export function meanPool(map: ArrayLike<number>, [h, w]: readonly [number, number], f: number): Float32Array {
  const [hr, wr] = [Math.ceil(h / f), Math.ceil(w / f)];
  const sums = new Float64Array(hr * wr);
  const counts = new Uint32Array(hr * wr);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const k = Math.floor(y / f) * wr + Math.floor(x / f);
      sums[k] += map[y * w + x];
      counts[k]++;
    }
  }
  return Float32Array.from(sums, (s, k) => s / counts[k]);
}

/** The power of two that brings a row's largest |value| to [2^13, 2^14): float16 keeps 11 bits of each value, up to 2^28 below the largest. */
export function mapScale(maps: readonly ArrayLike<number>[]): number {
  let max = 0;
  for (const m of maps) for (let i = 0; i < m.length; i++) max = Math.max(max, Math.abs(m[i]));
  return max > 0 ? 13 - Math.floor(Math.log2(max)) : 0;
}

/** The .npy header's room: rewritten in place as rows are appended, always this long. */
const NPY_HEADER = 128;

function npyHeader(shape: readonly number[]): Buffer {
  const dict = `{'descr': '<f2', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const header = Buffer.alloc(NPY_HEADER, ' ');
  header.write('\x93NUMPY', 0, 'latin1');
  header.writeUInt8(1, 6);
  header.writeUInt8(0, 7);
  header.writeUInt16LE(NPY_HEADER - 10, 8);
  header.write(dict, 10, 'latin1');
  header.write('\n', NPY_HEADER - 1, 'latin1');
  return header;
}

/** One model's maps file: float16 rows of shape `row` (sides, kinds, h, w), appended. */
export class MapsFile {
  readonly rowValues: number;
  constructor(
    readonly file: string,
    readonly row: readonly number[],
  ) {
    this.rowValues = row.reduce((n, d) => n * d, 1);
  }

  get rows(): number {
    return fs.existsSync(this.file) ? Math.max(0, Math.floor((fs.statSync(this.file).size - NPY_HEADER) / (2 * this.rowValues))) : 0;
  }

  /** Keeps the first `rows` rows (creating the file when absent). */
  truncate(rows: number): void {
    if (!fs.existsSync(this.file)) fs.writeFileSync(this.file, npyHeader([0, ...this.row]));
    fs.truncateSync(this.file, NPY_HEADER + rows * 2 * this.rowValues);
    this.writeHeader(rows);
  }

  /** Appends rows (values already scaled), then counts them in the header. */
  append(values: Float32Array): void {
    const rows = this.rows + values.length / this.rowValues;
    fs.appendFileSync(this.file, new Uint8Array(new Float16Array(values).buffer));
    this.writeHeader(rows);
  }

  read(row: number): Float32Array {
    const bytes = Buffer.alloc(2 * this.rowValues);
    const fd = fs.openSync(this.file, 'r');
    try {
      fs.readSync(fd, bytes, 0, bytes.length, NPY_HEADER + row * bytes.length);
    } finally {
      fs.closeSync(fd);
    }
    return Float32Array.from(new Float16Array(Uint8Array.from(bytes).buffer));
  }

  private writeHeader(rows: number): void {
    const fd = fs.openSync(this.file, 'r+');
    try {
      fs.writeSync(fd, npyHeader([rows, ...this.row]), 0, NPY_HEADER, 0);
    } finally {
      fs.closeSync(fd);
    }
  }
}

/** The maps files of a run's models. */
export function mapsFiles(out: string, models: readonly ModelEntry[]): MapsFile[] {
  const f = mapsDownscale(models);
  return models.map((m) => new MapsFile(path.join(out, mapsFile(m.key)), [2, STORED_KINDS.length, Math.ceil(m.inputSize[0] / f), Math.ceil(m.inputSize[1] / f)]));
}

/**
 * The lines of pairs.jsonl whose data is complete: up to the first explained pair beyond the
 * `explained` rows the running sums hold (a killed run appended its line, not yet its sums).
 * With `cut`, the files are cut back to them (a torn last line included), for a run to resume.
 */
export function keptLines(out: string, explained: number, cut: boolean): PairLine[] {
  const file = path.join(out, RECORDS_FILE);
  const lines = cut ? readIndexedRecords<PairLine>(file) : completeLines(file).map((l) => JSON.parse(l) as PairLine);
  const end = lines.findIndex((l) => l.row !== undefined && l.row >= explained);
  if (end < 0) return lines;
  if (cut) fs.truncateSync(file, lines.slice(0, end).reduce((n, l) => n + Buffer.byteLength(JSON.stringify(l)) + 1, 0));
  return lines.slice(0, end);
}

/** Bytes of thumbs.bin the lines refer to. */
export const thumbsEnd = (lines: readonly PairLine[]) => lines.reduce((end, l) => (l.thumb ? Math.max(end, l.thumb[0] + l.thumb[1]) : end), 0);

export interface StoredMaps {
  /** Mean-pooling factor from the model's input size. */
  downscale: number;
  shape: [number, number];
  /** Per side a, b. */
  similarity: [Float32Array, Float32Array];
  dissimilarity: [Float32Array, Float32Array];
}

export interface RunStore {
  readonly out: string;
  /** summary.json. */
  readonly summary: PairListSummary;
  /** explain-pairs.json. */
  readonly settings: RunSettings;
  /** Every record, in list order (a merged run holds all shards'). */
  records(): PairListRecord[];
  /** The pair's thumbnail as PNG bytes; undefined for pairs that were not explained. */
  thumbnail(record: PairListRecord): Promise<Buffer | undefined>;
  /** The explained pair's stored (reduced) maps of one model, unscaled; undefined for pairs that were not explained. */
  maps(record: PairListRecord, key: ModelEntry['key']): StoredMaps | undefined;
}

/** Reads `length` bytes at `offset` of a file. */
export async function readSlice(file: string, [offset, length]: readonly [number, number]): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const bytes = Buffer.alloc(length);
    await handle.read(bytes, 0, length, offset);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Opens a finished (or running) explain-pairs output folder for reading. */
export function openRunStore(out: string): RunStore {
  for (const file of [SETTINGS_FILE, SUMMARY_FILE]) {
    if (!fs.existsSync(path.join(out, file))) throw new ExplainPairsError(`${out}: no ${file}, not an explain-pairs output folder`);
  }
  const summary = readJsonFile<PairListSummary>(path.join(out, SUMMARY_FILE));
  const settings = readJsonFile<RunSettings>(path.join(out, SETTINGS_FILE));
  const files = mapsFiles(out, settings.models);
  const downscale = mapsDownscale(settings.models);
  return {
    out,
    summary,
    settings,
    records: () => {
      const images = readImages(out, imageRoot(settings));
      return completeLines(path.join(out, RECORDS_FILE))
        .map((line) => pairRecord(JSON.parse(line) as PairLine, images, settings.models))
        .sort((a, b) => a.index - b.index);
    },
    thumbnail: async (record) => (record.stored ? readSlice(path.join(out, THUMBS_FILE), record.stored.thumb) : undefined),
    maps: (record, key) => {
      const m = settings.models.findIndex((model) => model.key === key);
      if (!record.stored || m < 0) return undefined;
      const file = files[m];
      const [, , h, w] = file.row;
      const plane = h * w;
      const values = file.read(record.stored.row).map((v) => v * 2 ** -record.stored!.scale[m]);
      const side = (s: number, k: number) => values.slice((s * 2 + k) * plane, (s * 2 + k + 1) * plane);
      return { downscale, shape: [h, w], similarity: [side(0, 0), side(1, 0)], dissimilarity: [side(0, 1), side(1, 1)] };
    },
  };
}
