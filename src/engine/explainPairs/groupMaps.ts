// Mean maps per group of the fairness lens: for each --by group and error kind, the mean
// similarity, dissimilarity and combined maps of its explained pairs (both faces pooled) and their
// sums per face region (template regions), from the running means the run kept per group
// (aggregate.ts), written under aggregate/<model>/by-group/<group index>/. A lens given only after
// the pairs were explained has rates per group but no such maps (lens.ts).
import * as path from 'path';
import { regionLabels, regionSums, templateLandmarks } from '../../shared/regions';
import { GROUPS, type GroupTable, type ModelEntry } from '../../shared/pairListSummary';
import { AGGREGATE_DIR, type RunningMeans, bucketKey, writeMeanMaps } from './aggregate';
import { slug } from './summary';

export const BY_GROUP_DIR = 'by-group';

/** Fills each group's `aggregates` in the table, writing their files into `out`. */
export async function writeGroupAggregates(out: string, models: readonly ModelEntry[], table: GroupTable, means: RunningMeans): Promise<void> {
  for (const [m, model] of models.entries()) {
    const [h, w] = model.inputSize;
    const labels = regionLabels(templateLandmarks(w, h), w, h);
    for (const [g, group] of table.models[m].groups.entries()) {
      const dir = path.join(AGGREGATE_DIR, model.key, BY_GROUP_DIR, String(g));
      group.aggregates = [];
      for (const kind of GROUPS) {
        const mean = means.mean(bucketKey(model.key, kind, group.name));
        if (!mean) continue;
        group.aggregates.push({ group: kind, pairs: mean.pairs, maps: await writeMeanMaps(out, dir, slug(kind), mean, model.inputSize), regions: regionSums(mean.maps, labels) });
      }
    }
  }
}
