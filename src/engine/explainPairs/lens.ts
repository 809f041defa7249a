// The fairness lens of a run (explain-pairs --by): its settings and every pair's attributes, kept
// in groups.json beside the summary, so that `merge` builds the same group table from its shards
// as one run over the whole list does. Group rates come from the records, whatever lens a run is
// given; the groups' mean maps come from running means, so they exist only for the lens the run
// had from its first explained pair (a resume with another --by or --compare gets rates, and says
// why there are no maps).
import * as fs from 'fs';
import * as path from 'path';
import type { PairAttribute } from '../pairList';
import { type GroupCompare, compareSpec } from './attributes';
import { readJsonFile, writeFileAtomic } from '../files';
import type { GroupTable, ModelEntry, PairListRecord } from '../../shared/pairListSummary';
import { MIN_GROUP, groupTable } from './fairness';
import { writeGroupAggregates } from './groupMaps';
import { writeComparison } from './compare';
import { AGGREGATE_DIR, type BucketLens, type RunningMeans } from './aggregate';
import { COMPARE_DIR } from './compare';
import { BY_GROUP_DIR } from './groupMaps';

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
  return fs.existsSync(file) ? readJsonFile<LensFile>(file) : undefined;
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

const lensText = (lens: GroupLens | undefined): BucketLens => ({ by: lens?.by.join(',') ?? '', compare: lens?.compare ? compareSpec(lens.compare) : '' });

/** Which mean maps of the lens the running means hold for every explained pair: per --by group, per --compare group. */
export interface LensMaps {
  groups: boolean;
  compare: boolean;
}

/**
 * The lens maps a run (re)started with `lens` can keep: a run with no pair explained yet (or
 * running means from before this was recorded) follows `lens` from now on; otherwise only the
 * parts of `lens` the means have followed from the start.
 */
export function followLens(means: RunningMeans, lens: GroupLens | undefined): LensMaps {
  if (means.explained === 0 || !means.follows) means.follows = lensText(lens);
  return lensMaps(means, lens);
}

export function lensMaps(means: RunningMeans, lens: GroupLens | undefined): LensMaps {
  const [now, then] = [lensText(lens), means.follows ?? lensText(lens)];
  return { groups: now.by === then.by, compare: now.compare === then.compare };
}

/** Why a part of the lens has no mean maps, in words (the rates per group count every pair all the same). */
function missingMapsNote(part: 'groups' | 'compare', lens: GroupLens, follows: BucketLens | undefined): string {
  const given = part === 'groups' ? `--by ${lens.by.join(',')}` : `--compare ${compareSpec(lens.compare!)}`;
  const then = part === 'groups' ? follows?.by : follows?.compare;
  const before = then ? `under ${part === 'groups' ? `--by ${then}` : `--compare ${then}`}` : then === null ? 'by shards with different lenses' : `before ${given} was given`;
  return `no ${part === 'groups' ? 'per-group mean maps' : '--compare maps'}: pairs of this run were explained ${before}; run into a new --out folder with ${given} from the start for them`;
}

/** groups.json of the lens (removed without one): written when a run starts, so that a resume can be given the same lens. */
export function saveLens(out: string, lens: GroupLens | undefined): void {
  const file = path.join(out, LENS_FILE);
  if (lens) writeFileAtomic(file, JSON.stringify(lensFile(lens)) + '\n');
  else fs.rmSync(file, { force: true });
}

/**
 * The run's group table with its per-group aggregates and --compare differences (written into
 * `out`, replacing those of an earlier lens); without a lens, no table. groups.json is the
 * caller's (saveLens): a run writes it when it starts.
 */
export async function writeGroups(
  out: string,
  models: readonly ModelEntry[],
  records: readonly PairListRecord[],
  lens: GroupLens | undefined,
  means: RunningMeans,
): Promise<GroupTable | undefined> {
  // Only files of this lens stay: the running means still hold an earlier lens's sums.
  for (const m of models) for (const dir of [BY_GROUP_DIR, COMPARE_DIR]) fs.rmSync(path.join(out, AGGREGATE_DIR, m.key, dir), { recursive: true, force: true });
  if (!lens) return undefined;
  const table = groupTable(models, records, lens.attributes, lens.by, lens.minGroup);
  const maps = lensMaps(means, lens);
  if (maps.groups) await writeGroupAggregates(out, models, table, means);
  else {
    for (const m of table.models) for (const g of m.groups) g.aggregates = [];
    table.mapsNote = missingMapsNote('groups', lens, means.follows);
  }
  if (lens.compare) {
    table.compare = await writeComparison(out, models, records, lens.attributes, lens.compare, table.minGroup, maps.compare ? means : undefined);
    if (!maps.compare) table.compare.mapsNote = missingMapsNote('compare', lens, means.follows);
  }
  return table;
}
