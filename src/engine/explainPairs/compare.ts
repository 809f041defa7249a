// `explain-pairs --compare ATTR=X,ATTR=Y`: per model and error kind, the mean maps of group X's
// explained pairs minus those of group Y's (both faces pooled, as every aggregate), with the
// difference summed per face region, under aggregate/<model>/compare/. The groups' means are running
// means the run kept (aggregate.ts): --compare is given when the pairs are explained.
import * as path from 'path';
import { regionLabels, regionSums, templateLandmarks } from '../../shared/regions';
import { MAP_KINDS, type MapKind } from '../../shared/result';
import type { PairAttribute } from '../pairList';
import { GROUPS, type CompareSide, type GroupComparison, type KindDifference, type MapFiles, type ModelEntry, type PairListRecord } from '../../shared/pairListSummary';
import { AGGREGATE_DIR, type RunningMeans, bucketKey, subtract, writeDifference } from './aggregate';
import type { GroupCompare } from './attributes';
import { groupOf } from './fairness';
import { slug } from './summary';

export const COMPARE_DIR = 'compare';

/** The running means' bucket of a --compare group (`gender=F/F`), apart from the --by groups. */
export const compareBucket = (name: string) => `${COMPARE_DIR}/${name}`;

export async function writeComparison(
  out: string,
  models: readonly ModelEntry[],
  records: readonly PairListRecord[],
  attributes: ReadonlyMap<number, Record<string, PairAttribute>>,
  compare: GroupCompare,
  minGroup: number,
  /** undefined: the run's means do not follow this comparison; the groups' counts only. */
  means: RunningMeans | undefined,
): Promise<GroupComparison> {
  const groupOfRecord = (r: PairListRecord) => {
    const attrs = attributes.get(r.index);
    return attrs && groupOf(attrs, [compare.attribute]).name;
  };
  const members = (name: string) => records.filter((r) => r.outcomes && r.label && groupOfRecord(r) === name);
  const [xs, ys] = [members(compare.x), members(compare.y)];
  const side = (name: string, of: PairListRecord[]): CompareSide => {
    const genuine = of.filter((r) => r.label === 'same').length;
    const impostor = of.length - genuine;
    return { name, genuine, impostor, tooSmall: genuine < minGroup || impostor < minGroup };
  };
  // The sides' counts are the same for every model: its scores do not change who is labelled what.
  const [sx, sy] = [side(compare.x, xs), side(compare.y, ys)];
  const result: GroupComparison = { ...compare, models: [] };
  for (const model of models) {
    if (!means) {
      result.models.push({ key: model.key, x: sx, y: sy, kinds: [] });
      continue;
    }
    const [h, w] = model.inputSize;
    const labels = regionLabels(templateLandmarks(w, h), w, h);
    const dir = path.join(AGGREGATE_DIR, model.key, COMPARE_DIR);
    const kinds: KindDifference[] = [];
    for (const kind of GROUPS) {
      const [mx, my] = [compare.x, compare.y].map((name) => means.mean(bucketKey(model.key, kind, compareBucket(name))));
      if (!mx || !my) continue;
      const difference = Object.fromEntries(MAP_KINDS.map((k) => [k, subtract(mx.maps[k], my.maps[k])])) as Record<MapKind, Float32Array>;
      const maps = {} as Record<MapKind, MapFiles>;
      for (const k of MAP_KINDS) maps[k] = await writeDifference(out, dir, `${slug(kind)}_${k}`, difference[k], model.inputSize);
      kinds.push({ group: kind, pairs: [mx.pairs, my.pairs], maps, regions: regionSums(difference, labels) });
    }
    result.models.push({ key: model.key, x: sx, y: sy, kinds });
  }
  return result;
}
