// The fairness lens of a run (explain-pairs --by): its settings and every pair's attributes, kept
// in groups.json beside the summary, so that `merge` builds the same group table from its shards
// as one run over the whole list does.
import * as fs from 'fs';
import * as path from 'path';
import type { PairAttribute } from '../pairList';
import type { GroupCompare } from './attributes';
import { writeFileAtomic } from '../files';
import type { GroupTable, ModelEntry, PairListRecord } from '../../shared/pairListSummary';
import { MIN_GROUP, groupTable } from './fairness';
import { writeGroupAggregates } from './groupMaps';
import { writeComparison } from './compare';
import type { RunningMeans } from './aggregate';

export const LENS_FILE = 'groups.json';

export interface GroupLens {
  /** Attributes of every pair of the list, by list index. */
  attributes: ReadonlyMap<number, Record<string, PairAttribute>>;
  by: readonly string[];
  minGroup?: number;
  compare?: GroupCompare;
}

/**
 * groups.json: attribute values are named once in `values`; `pairs[i]` gives, for list index i,
 * the index into `values` of each attribute in `names`.
 */
interface LensFile {
  version: 1;
  by: string[];
  minGroup: number;
  compare?: GroupCompare;
  names: string[];
  values: PairAttribute[];
  pairs: number[][];
}

function lensFile(lens: GroupLens): LensFile {
  const all = [...lens.attributes.values()];
  const names = Object.keys(all[0] ?? {}).filter((n) => all.every((a) => n in a));
  const values: PairAttribute[] = [];
  const code = new Map<string, number>();
  const codeOf = (v: PairAttribute) => {
    const key = JSON.stringify(v);
    if (!code.has(key)) code.set(key, values.push(v) - 1);
    return code.get(key)!;
  };
  const indices = [...lens.attributes.keys()].sort((p, q) => p - q);
  return {
    version: 1,
    by: [...lens.by],
    minGroup: lens.minGroup ?? MIN_GROUP,
    ...(lens.compare ? { compare: lens.compare } : {}),
    names,
    values,
    pairs: indices.map((i) => names.map((n) => codeOf(lens.attributes.get(i)![n]))),
  };
}

function readLensFile(dir: string): LensFile | undefined {
  const file = path.join(dir, LENS_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as LensFile) : undefined;
}

function fromFile(f: LensFile): GroupLens {
  const attributes = new Map(f.pairs.map((codes, i) => [i, Object.fromEntries(f.names.map((n, k) => [n, f.values[codes[k]]]))]));
  return { attributes, by: f.by, minGroup: f.minGroup, ...(f.compare ? { compare: f.compare } : {}) };
}

/** The lens a run folder keeps (undefined when it was not run with --by): the gallery groups its cards by it. */
export function readLens(dir: string): GroupLens | undefined {
  const f = readLensFile(dir);
  return f && fromFile(f);
}

/** The lens the shards of a run share (undefined when none was run with --by); shards with other lenses are refused. */
export function shardsLens(shardDirs: readonly string[], error: (message: string) => Error): GroupLens | undefined {
  if (!shardDirs.length) return undefined;
  const files = shardDirs.map((dir) => [dir, readLensFile(dir)] as const);
  const [firstDir, first] = files[0];
  for (const [dir, f] of files.slice(1)) {
    if (JSON.stringify(f) !== JSON.stringify(first)) {
      const what = (x: LensFile | undefined) => (x ? `--by ${x.by.join(',')}` : 'no --by');
      const detail = what(f) === what(first) ? 'other attributes, --min-group or --compare' : `${what(f)}, ${firstDir} ${what(first)}`;
      throw error(`${dir}: its fairness lens (${LENS_FILE}) differs from ${firstDir}'s (${detail}); run every shard with the same --by settings`);
    }
  }
  return first && fromFile(first);
}

/**
 * The run's group table with its per-group aggregates and --compare differences (written into
 * `out`), and groups.json;
 * without a lens, no table, and a groups.json an earlier run left is removed.
 */
export async function writeGroups(
  out: string,
  models: readonly ModelEntry[],
  records: readonly PairListRecord[],
  lens: GroupLens | undefined,
  means: RunningMeans,
): Promise<GroupTable | undefined> {
  const file = path.join(out, LENS_FILE);
  if (!lens) {
    fs.rmSync(file, { force: true });
    return undefined;
  }
  const table = groupTable(models, records, lens.attributes, lens.by, lens.minGroup);
  await writeGroupAggregates(out, models, table, means);
  if (lens.compare) table.compare = await writeComparison(out, models, records, lens.attributes, lens.compare, table.minGroup, means);
  writeFileAtomic(file, JSON.stringify(lensFile(lens)) + '\n');
  return table;
}
