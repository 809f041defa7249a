// Aggregate maps of an explained pair list: per model and group (true/false matches and
// non-matches), the mean similarity, dissimilarity and combined maps on the model's aligned frame,
// pooling both faces of every pair. They are running means at full resolution: each explained
// pair's maps and aligned crops are added to its buckets' sums as it is explained, and the sums,
// with how many explained pairs they hold, are saved after each batch (running-means.bin), so a
// resumed or merged run aggregates exactly what an uninterrupted one does.
//
// PNGs: a group's mean maps over the MEAN aligned face of the group (each map on its own range,
// as in a single explanation); signed differences (FNM − TM, model A − model B) on the diverging
// combined scale, ±max|Δ|, over neutral grey, since they belong to no single face.
import * as fs from 'fs';
import * as path from 'path';
import { mapRanges, overlay } from '../../shared/colour';
import { encodePng } from '../image';
import { npyBytes } from '../npy';
import { OVERLAY_OPACITY } from '../output';
import { regionLabels, regionSums, templateLandmarks } from '../../shared/regions';
import { MAP_KINDS, type MapKind } from '../../shared/result';
import { writeFileAtomic } from '../files';
import { slug } from './summary';
import { GROUPS, type Group, type GroupDifference, type MapFiles, type ModelSummary } from '../../shared/pairListSummary';

export const AGGREGATE_DIR = 'aggregate';
export const MEANS_FILE = 'running-means.bin';

type MeanMaps = Record<MapKind, Float32Array>;

export interface GroupMean {
  pairs: number;
  maps: MeanMaps;
  face: Uint8Array;
}

/** One face's contribution: its similarity and dissimilarity maps and its aligned crop (RGB). */
export interface FaceSample {
  similarity: ArrayLike<number>;
  dissimilarity: ArrayLike<number>;
  crop: ArrayLike<number>;
}

interface Bucket {
  size: [number, number];
  pairs: number;
  /** similarity, dissimilarity (h·w each), then the crop (h·w·3), summed over both faces of each pair. */
  sums: Float64Array;
}

/** A bucket of a model's error kind: `model-a/false match`; of a fairness group: `model-a/by-group/gender=F/F/false match`. */
export const bucketKey = (model: string, kind: Group, group?: string) => (group === undefined ? `${model}/${kind}` : `${model}/by-group/${group}/${kind}`);

/**
 * What a run's fairness-group buckets follow: its --by attributes and --compare groups as text
 * ('' for none, null when merged shards followed different ones).
 */
export interface BucketLens {
  by: string | null;
  compare: string | null;
}

/** Running sums per bucket, and how many explained pairs (rows of the maps files) they hold. */
export class RunningMeans {
  private readonly buckets = new Map<string, Bucket>();
  explained = 0;
  /**
   * The lens the group buckets follow, fixed by the first explained pair (lens.ts); undefined in
   * files from before it was recorded.
   */
  follows?: BucketLens;

  add(key: string, size: [number, number], faces: readonly FaceSample[]): void {
    const plane = size[0] * size[1];
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { size, pairs: 0, sums: new Float64Array(5 * plane) }));
    bucket.pairs++;
    for (const f of faces) {
      const s = bucket.sums;
      for (let p = 0; p < plane; p++) {
        s[p] += f.similarity[p];
        s[plane + p] += f.dissimilarity[p];
      }
      for (let p = 0; p < 3 * plane; p++) s[2 * plane + p] += f.crop[p];
    }
  }

  /** The bucket's mean maps (combined = similarity − dissimilarity) and mean face over both faces of its pairs. */
  mean(key: string): GroupMean | undefined {
    const b = this.buckets.get(key);
    if (!b) return undefined;
    const plane = b.size[0] * b.size[1];
    const n = 2 * b.pairs;
    const similarity = Float32Array.from(b.sums.subarray(0, plane), (v) => v / n);
    const dissimilarity = Float32Array.from(b.sums.subarray(plane, 2 * plane), (v) => v / n);
    return {
      pairs: b.pairs,
      maps: { similarity, dissimilarity, combined: similarity.map((v, p) => v - dissimilarity[p]) },
      face: Uint8Array.from(b.sums.subarray(2 * plane), (v) => Math.round(v / n)),
    };
  }

  /** Adds another run's sums (a shard's, when merging); a lens part the two follow differently is followed by neither. */
  addAll(other: RunningMeans): void {
    if (other.explained > 0) {
      const [mine, theirs] = [this.follows, other.follows];
      if (this.explained === 0) this.follows = theirs && { ...theirs };
      else if (mine && theirs) this.follows = { by: mine.by === theirs.by ? mine.by : null, compare: mine.compare === theirs.compare ? mine.compare : null };
    }
    for (const [key, b] of other.buckets) {
      const mine = this.buckets.get(key);
      if (!mine) this.buckets.set(key, { size: b.size, pairs: b.pairs, sums: Float64Array.from(b.sums) });
      else {
        mine.pairs += b.pairs;
        b.sums.forEach((v, p) => (mine.sums[p] += v));
      }
    }
    this.explained += other.explained;
  }

  /** running-means.bin: a little-endian uint32 length, that much JSON ({explained, follows, buckets}), then every bucket's float64 sums. */
  save(out: string): void {
    const entries = [...this.buckets.entries()];
    const head = { version: 1, explained: this.explained, ...(this.follows ? { follows: this.follows } : {}), buckets: entries.map(([key, b]) => ({ key, size: b.size, pairs: b.pairs })) };
    const json = Buffer.from(JSON.stringify(head));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(json.length);
    // Float64 data after a 4-byte length and the JSON: copied out, as its offset need not be aligned.
    writeFileAtomic(path.join(out, MEANS_FILE), Buffer.concat([length, json, ...entries.map(([, b]) => Buffer.from(b.sums.buffer, b.sums.byteOffset, b.sums.byteLength))]));
  }

  static read(out: string): RunningMeans {
    const means = new RunningMeans();
    const file = path.join(out, MEANS_FILE);
    if (!fs.existsSync(file)) return means;
    const bytes = fs.readFileSync(file);
    const length = bytes.readUInt32LE(0);
    const head = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as { explained: number; follows?: BucketLens; buckets: { key: string; size: [number, number]; pairs: number }[] };
    let offset = 4 + length;
    for (const b of head.buckets) {
      const count = 5 * b.size[0] * b.size[1];
      const sums = new Float64Array(Uint8Array.from(bytes.subarray(offset, offset + 8 * count)).buffer);
      offset += 8 * count;
      means.buckets.set(b.key, { size: b.size, pairs: b.pairs, sums });
    }
    means.explained = head.explained;
    if (head.follows) means.follows = head.follows;
    return means;
  }
}

/** Writes `<dir>/<name>.npy` and `.png`; returns their paths relative to `out`. */
export async function writeMap(out: string, dir: string, name: string, map: Float32Array, [h, w]: [number, number], png: Uint8Array): Promise<MapFiles> {
  fs.mkdirSync(path.join(out, dir), { recursive: true });
  const files = { npy: path.join(dir, `${name}.npy`), png: path.join(dir, `${name}.png`) };
  writeFileAtomic(path.join(out, files.npy), npyBytes(map, [h, w]));
  writeFileAtomic(path.join(out, files.png), await encodePng(w, h, 3, png));
  return files;
}

export async function writeDifference(out: string, dir: string, name: string, difference: Float32Array, size: [number, number]): Promise<MapFiles> {
  return writeMap(out, dir, name, difference, size, overlayOnGrey(difference, maxAbs(difference)));
}

export const maxAbs = (map: Float32Array) => map.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** A signed map on the combined (diverging) scale, ±max, over neutral grey. */
export function overlayOnGrey(map: Float32Array, max: number): Uint8Array {
  return overlay(map, 'combined', [-max, max], OVERLAY_OPACITY, new Uint8Array(map.length * 3).fill(128));
}

export const subtract = (x: Float32Array, y: Float32Array) => x.map((v, p) => v - y[p]);

/**
 * Writes every model's group aggregates and FNM − TM map into aggregate/<model key>/ and fills
 * them into the model summaries; with two models on one frame, also the per-group differences
 * A − B into aggregate/a_minus_b/, which it returns.
 */
export async function writeAggregates(out: string, models: ModelSummary[], means: RunningMeans, comparable: boolean): Promise<GroupDifference[]> {
  const groupMeans: Partial<Record<Group, GroupMean>>[] = [];
  for (const model of models) {
    const dir = path.join(AGGREGATE_DIR, model.key);
    // Mean maps lie on the model's aligned frame: the template's regions.
    const [h, w] = model.inputSize;
    const labels = regionLabels(templateLandmarks(w, h), w, h);
    const mine: Partial<Record<Group, GroupMean>> = {};
    for (const group of GROUPS) {
      const mean = means.mean(bucketKey(model.key, group));
      if (!mean) continue;
      mine[group] = mean;
      model.aggregates.push({ group, pairs: mean.pairs, maps: await writeMeanMaps(out, dir, slug(group), mean, model.inputSize), regions: regionSums(mean.maps, labels) });
    }
    const [fnm, tm] = [mine['false non-match'], mine['true match']];
    if (fnm && tm) {
      model.fnmMinusTm = await writeDifference(out, dir, 'fnm_minus_tm_combined', subtract(fnm.maps.combined, tm.maps.combined), model.inputSize);
      const difference = Object.fromEntries(MAP_KINDS.map((k) => [k, subtract(fnm.maps[k], tm.maps[k])])) as MeanMaps;
      model.fnmMinusTmRegions = regionSums(difference, labels);
    }
    groupMeans.push(mine);
  }
  if (!comparable) return [];
  const differences: GroupDifference[] = [];
  for (const group of GROUPS) {
    const [a, b] = [groupMeans[0][group], groupMeans[1][group]];
    if (!a || !b) continue;
    const maps = {} as Record<MapKind, MapFiles>;
    for (const kind of MAP_KINDS) {
      maps[kind] = await writeDifference(out, path.join(AGGREGATE_DIR, 'a_minus_b'), `${slug(group)}_${kind}`, subtract(a.maps[kind], b.maps[kind]), models[0].inputSize);
    }
    differences.push({ group, pairs: [a.pairs, b.pairs], maps });
  }
  return differences;
}

/** A group's three mean maps as `<name>_<kind>.npy` and `.png` (over the group's mean face). */
export async function writeMeanMaps(out: string, dir: string, name: string, mean: GroupMean, size: [number, number]): Promise<Record<MapKind, MapFiles>> {
  const ranges = mapRanges(mean.maps);
  const maps = {} as Record<MapKind, MapFiles>;
  for (const kind of MAP_KINDS) {
    const png = overlay(mean.maps[kind], kind, ranges[kind], OVERLAY_OPACITY, mean.face);
    maps[kind] = await writeMap(out, dir, `${name}_${kind}`, mean.maps[kind], size, png);
  }
  return maps;
}
