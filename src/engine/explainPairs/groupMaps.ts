// Mean maps per group of the fairness lens: for each --by group and error kind, the mean
// similarity, dissimilarity and combined maps of its explained pairs (both faces pooled) and their
// sums per face region (template regions), written as the
// aggregates per error kind are (aggregate.ts), under aggregate/<model>/by-group/<group index>/.
import * as path from 'path';
import { mapRanges, overlay } from '../../shared/colour';
import { OVERLAY_OPACITY } from '../output';
import { regionLabels, regionSums, templateLandmarks } from '../../shared/regions';
import { MAP_KINDS, type MapKind } from '../../shared/result';
import type { PairAttribute } from '../pairList';
import { GROUPS, type GroupTable, type MapFiles, type ModelEntry, type PairListRecord } from '../../shared/pairListSummary';
import { AGGREGATE_DIR, groupMean, writeMap } from './aggregate';
import { groupOf } from './fairness';
import { slug } from './summary';

/** Fills each group's `aggregates` in the table, writing their files into `out`. */
export async function writeGroupAggregates(
  out: string,
  models: readonly ModelEntry[],
  table: GroupTable,
  records: readonly PairListRecord[],
  attributes: ReadonlyMap<number, Record<string, PairAttribute>>,
): Promise<void> {
  const nameOf = new Map(records.flatMap((r) => (attributes.has(r.index) ? [[r.index, groupOf(attributes.get(r.index)!, table.by).name] as const] : [])));
  for (const [m, model] of models.entries()) {
    const [h, w] = model.inputSize;
    const labels = regionLabels(templateLandmarks(w, h), w, h);
    for (const [g, group] of table.models[m].groups.entries()) {
      const dir = path.join(AGGREGATE_DIR, model.key, 'by-group', String(g));
      group.aggregates = [];
      for (const kind of GROUPS) {
        const members = records.filter((r) => !r.scoredOnly && r.outcomes?.[m].errorKind === kind && nameOf.get(r.index) === group.name);
        if (members.length === 0) continue;
        const mean = await groupMean(out, model.key, members, model.inputSize);
        const ranges = mapRanges(mean.maps);
        const maps = {} as Record<MapKind, MapFiles>;
        for (const map of MAP_KINDS) {
          const png = overlay(mean.maps[map], map, ranges[map], OVERLAY_OPACITY, mean.face);
          maps[map] = await writeMap(out, dir, `${slug(kind)}_${map}`, mean.maps[map], model.inputSize, png);
        }
        group.aggregates.push({ group: kind, pairs: members.length, maps, regions: regionSums(mean.maps, labels) });
      }
    }
  }
}
