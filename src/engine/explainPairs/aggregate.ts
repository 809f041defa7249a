// Aggregate maps of an explained pair list: per model and group (true/false matches and
// non-matches), the mean similarity, dissimilarity and combined maps on the model's aligned frame,
// pooling both faces of every pair. They are read back from the per-pair .npy files, so a resumed
// run aggregates exactly what an uninterrupted one does.
//
// PNGs: a group's mean maps over the MEAN aligned face of the group (each map on its own range,
// as in a single explanation); signed differences (FNM − TM, model A − model B) on the diverging
// combined scale, ±max|Δ|, over neutral grey, since they belong to no single face.
import * as fs from 'fs';
import * as path from 'path';
import { mapRanges, overlay } from '../../shared/colour';
import { decodeImage, encodePng } from '../image';
import { npyBytes } from '../npy';
import { OVERLAY_OPACITY, readNpy } from '../output';
import { regionLabels, regionSums, templateLandmarks } from '../../shared/regions';
import { MAP_KINDS, type MapKind } from '../../shared/result';
import { writeFileAtomic } from '../files';
import { slug } from './summary';
import { GROUPS, type Group, type GroupDifference, type MapFiles, type ModelSummary, type PairListRecord } from '../../shared/pairListSummary';

export const AGGREGATE_DIR = 'aggregate';

type MeanMaps = Record<MapKind, Float32Array>;

interface GroupMean {
  pairs: number;
  maps: MeanMaps;
  face: Uint8Array;
}

/** Mean maps and mean crop over both faces of the pairs, read from their files. */
export async function groupMean(out: string, key: string, records: readonly PairListRecord[], [h, w]: [number, number]): Promise<GroupMean> {
  const sums = Object.fromEntries(MAP_KINDS.map((k) => [k, new Float64Array(h * w)])) as Record<MapKind, Float64Array>;
  const face = new Float64Array(h * w * 3);
  for (const r of records) {
    for (const side of ['a', 'b']) {
      const dir = path.join(out, r.dir, key);
      for (const kind of MAP_KINDS) readNpy(path.join(dir, `${side}_${kind}.npy`)).data.forEach((v, p) => (sums[kind][p] += v));
      (await decodeImage(path.join(dir, `${side}_aligned.png`))).data.forEach((v, p) => (face[p] += v));
    }
  }
  const n = 2 * records.length;
  return {
    pairs: records.length,
    maps: Object.fromEntries(MAP_KINDS.map((k) => [k, Float32Array.from(sums[k], (v) => v / n)])) as MeanMaps,
    face: Uint8Array.from(face, (v) => Math.round(v / n)),
  };
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
export async function writeAggregates(out: string, models: ModelSummary[], records: readonly PairListRecord[], comparable: boolean): Promise<GroupDifference[]> {
  const means: Partial<Record<Group, GroupMean>>[] = [];
  for (const [m, model] of models.entries()) {
    const dir = path.join(AGGREGATE_DIR, model.key);
    // Mean maps lie on the model's aligned frame: the template's regions.
    const [h, w] = model.inputSize;
    const labels = regionLabels(templateLandmarks(w, h), w, h);
    const mine: Partial<Record<Group, GroupMean>> = {};
    for (const group of GROUPS) {
      const members = records.filter((r) => !r.scoredOnly && r.outcomes?.[m].errorKind === group);
      if (members.length === 0) continue;
      const mean = (mine[group] = await groupMean(out, model.key, members, model.inputSize));
      const ranges = mapRanges(mean.maps);
      const maps = {} as Record<MapKind, MapFiles>;
      for (const kind of MAP_KINDS) {
        const png = overlay(mean.maps[kind], kind, ranges[kind], OVERLAY_OPACITY, mean.face);
        maps[kind] = await writeMap(out, dir, `${slug(group)}_${kind}`, mean.maps[kind], model.inputSize, png);
      }
      model.aggregates.push({ group, pairs: members.length, maps, regions: regionSums(mean.maps, labels) });
    }
    const [fnm, tm] = [mine['false non-match'], mine['true match']];
    if (fnm && tm) {
      model.fnmMinusTm = await writeDifference(out, dir, 'fnm_minus_tm_combined', subtract(fnm.maps.combined, tm.maps.combined), model.inputSize);
      const difference = Object.fromEntries(MAP_KINDS.map((k) => [k, subtract(fnm.maps[k], tm.maps[k])])) as MeanMaps;
      model.fnmMinusTmRegions = regionSums(difference, labels);
    }
    means.push(mine);
  }
  if (!comparable) return [];
  const differences: GroupDifference[] = [];
  for (const group of GROUPS) {
    const [a, b] = [means[0][group], means[1][group]];
    if (!a || !b) continue;
    const maps = {} as Record<MapKind, MapFiles>;
    for (const kind of MAP_KINDS) {
      maps[kind] = await writeDifference(out, path.join(AGGREGATE_DIR, 'a_minus_b'), `${slug(group)}_${kind}`, subtract(a.maps[kind], b.maps[kind]), models[0].inputSize);
    }
    differences.push({ group, pairs: [a.pairs, b.pairs], maps });
  }
  return differences;
}
