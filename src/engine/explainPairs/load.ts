// Reading an explained pair list back for the gallery: its pairs one page at a time (the extension
// host keeps the records and the gallery webview receives a page with its thumbnails), the
// notebook's bounded output, and how one pair is explained again, live, as the run explained it.
import * as fs from 'fs';
import * as path from 'path';
import { readJsonFile } from '../files';
import { ALL_GROUPS, DEFAULT_QUERY, type GalleryData, type GalleryItem, type GalleryPage, type GalleryQuery, ItemPager, MAX_PAGE, PAGE_SIZE, type PageOfItems, type PairListOutput, galleryItem, gallerySummary } from '../../shared/galleryPages';
import type { MapFiles, ModelEntry, PairListRecord, PairListSummary } from '../../shared/pairListSummary';
import type { ExplanationResult } from '../../shared/result';
import { groupOf } from './fairness';
import type { GroupLens } from './lens';
import { ExplainPairsError, type RunSettings } from './store';
import { SUMMARY_FILE } from './summary';

export function readSummary(out: string): PairListSummary {
  const file = path.join(out, SUMMARY_FILE);
  if (!fs.existsSync(file)) throw new ExplainPairsError(`${out}: no ${SUMMARY_FILE}, not an explain-pairs output folder`);
  return readJsonFile<PairListSummary>(file);
}

/** What the gallery reads of a run (the run store's API). */
export interface PagedRun {
  /** The output folder. */
  readonly out: string;
  readonly summary: PairListSummary;
  records(): PairListRecord[];
  /** PNG bytes of an explained pair's thumbnail. */
  thumbnail(record: PairListRecord): Promise<Buffer | undefined>;
}

const pngUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

/** The group of the pair with a list index in the run's group table (from its fairness lens), if any. */
export type PairGroups = (index: number) => string | undefined;

/** The groups of a run's pairs under its lens (explain-pairs --by); none without one. */
export function lensGroups(lens: GroupLens | undefined): PairGroups {
  if (!lens) return () => undefined;
  return (index) => {
    const attributes = lens.attributes.get(index);
    return attributes && lens.by.every((n) => n in attributes) ? groupOf(attributes, lens.by).name : undefined;
  };
}

/** The gallery's items of records. */
export const runItems = (records: readonly PairListRecord[], groups: PairGroups): GalleryItem[] => records.map((r) => galleryItem(r, groups(r.index)));

async function thumbnails(run: PagedRun, records: readonly PairListRecord[]): Promise<Record<number, string>> {
  const thumbs: Record<number, string> = {};
  for (const r of records) {
    if (!r.outcomes || r.scoredOnly) continue;
    const png = await run.thumbnail(r);
    if (png) thumbs[r.index] = pngUri(png);
  }
  return thumbs;
}

const isListOrder = (q: GalleryQuery) => q.sort === 'index' && !q.descending && q.kind === 'all' && q.label === 'all' && q.group === ALL_GROUPS && !q.text.trim();

/**
 * A run's pairs, sorted, filtered and paged: the records are read once, the webview gets pages.
 * The first page (list order, nothing filtered) is cut from the records as they are; the items
 * a query sorts and filters are made on the first query that needs them.
 */
export class RunPages {
  /** In list order. */
  private readonly records: PairListRecord[];
  private pager?: ItemPager;

  constructor(
    private readonly run: PagedRun,
    private readonly groups: PairGroups = () => undefined,
  ) {
    this.records = run.records();
  }

  record(index: number): PairListRecord | undefined {
    // Binary search: a shard's or a resumed run's indices need not be consecutive.
    let [lo, hi] = [0, this.records.length - 1];
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.records[mid].index;
      if (at === index) return this.records[mid];
      if (at < index) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Pairs [offset, offset + limit) of what the query keeps (at most MAX_PAGE), with their thumbnails. */
  async page(query: GalleryQuery, offset: number, limit: number): Promise<GalleryPage> {
    const count = Math.max(0, Math.min(limit, MAX_PAGE));
    let page: PageOfItems;
    if (isListOrder(query)) {
      const start = Math.min(offset, this.records.length);
      page = { offset: start, total: this.records.length, all: this.records.length, items: runItems(this.records.slice(start, start + count), this.groups) };
    } else {
      this.pager ??= new ItemPager(runItems(this.records, this.groups));
      page = this.pager.page(query, offset, count);
    }
    return { ...page, query, thumbs: await thumbnails(this.run, page.items.map((i) => this.record(i.index)!)) };
  }
}

/** What the gallery panel receives first: the summary without its per-pair lists, and the first page. */
export async function galleryData(summary: PairListSummary, pages: RunPages, files: GalleryData['files']): Promise<GalleryData> {
  return { summary: gallerySummary(summary), page: await pages.page(DEFAULT_QUERY, 0, PAGE_SIZE), files };
}

/** Pairs in a notebook output (with a thumbnail each when explained, ~10 KB). */
export const NOTEBOOK_PAIRS = 500;

/**
 * The pairs a notebook output carries: disagreements between the models, then errors by distance
 * from the threshold (largest first), then the others in list order.
 */
export function notebookPairs(records: readonly PairListRecord[], limit = NOTEBOOK_PAIRS): PairListRecord[] {
  const rank = (r: PairListRecord) => {
    const o = r.outcomes ?? [];
    if (o.length === 2 && o[0].decision !== o[1].decision) return 0;
    return o.some((x) => x.errorKind.startsWith('false')) ? 1 : 2;
  };
  const distance = (r: PairListRecord) => Math.max(0, ...(r.outcomes ?? []).filter((o) => o.errorKind.startsWith('false')).map((o) => Math.abs(o.margin)));
  const keyed = records.map((r) => ({ r, rank: rank(r), distance: distance(r) }));
  keyed.sort((p, q) => p.rank - q.rank || (p.rank === 1 ? q.distance - p.distance : 0) || p.r.index - q.r.index);
  return keyed.slice(0, limit).map((k) => k.r);
}

/**
 * Relative paths of the run's aggregate map images the gallery shows: the headline, the error
 * kinds' means, A − B, and of the fairness lens the combined maps alone (groups can be many).
 */
function aggregatePngs(summary: PairListSummary): string[] {
  const maps = (files: Record<string, MapFiles>) => Object.values(files).map((f) => f.png);
  const lens = summary.groups;
  return [
    ...summary.models.flatMap((m) => [...(m.fnmMinusTm ? [m.fnmMinusTm.png] : []), ...m.aggregates.flatMap((g) => maps(g.maps))]),
    ...(summary.comparison?.aggregates ?? []).flatMap((g) => maps(g.maps)),
    ...(lens?.models ?? []).flatMap((m) => m.groups.flatMap((g) => (g.aggregates ?? []).map((a) => a.maps.combined.png))),
    ...(lens?.compare?.models ?? []).flatMap((m) => m.kinds.map((k) => k.maps.combined.png)),
  ];
}

/** The notebook form of an explained pair list (see PairListOutput): one bounded page, whatever the run's length. */
export async function pairListOutput(run: PagedRun, groups: PairGroups = () => undefined, limit = NOTEBOOK_PAIRS): Promise<PairListOutput> {
  const records = run.records();
  const carried = notebookPairs(records, limit);
  const items = runItems(carried, groups);
  const data: Record<string, string> = {};
  for (const file of aggregatePngs(run.summary)) data[file.split(/[\\/]/).join('/')] = pngUri(fs.readFileSync(path.join(run.out, file)));
  return {
    summary: gallerySummary(run.summary),
    page: { query: DEFAULT_QUERY, offset: 0, total: items.length, all: items.length, items, thumbs: await thumbnails(run, carried) },
    files: { data },
    run: { out: run.out, pairs: records.length },
  };
}

/** How a pair of a run is explained again as the run did: the run's model file and threshold. */
export interface RunExplanation {
  model: ModelEntry;
  a: string;
  b: string;
  threshold: number;
}

export function runExplanation(settings: RunSettings, record: PairListRecord, key: ModelEntry['key']): RunExplanation {
  const model = settings.models.find((m) => m.key === key);
  if (!model) throw new ExplainPairsError(`this run has no ${key}`);
  if (record.failed) throw new ExplainPairsError(`pair ${record.index} could not be explained: ${record.failed}`);
  return { model, a: record.a, b: record.b, threshold: model.threshold };
}

/**
 * A pair explained live, as the run's: the threshold's true source (the engine calls a threshold
 * it is given the user's), and a warning when the model file no longer holds the run's model.
 */
export function asRunResult<R extends ExplanationResult>(result: R, model: ModelEntry): R {
  const changed = result.model.sha256 !== model.sha256;
  return {
    ...result,
    thresholdSource: model.thresholdSource,
    ...(changed ? { warnings: [...result.warnings, `${model.path} is no longer the model of this run (its content changed): the score may differ from the gallery's.`] } : {}),
  };
}
