// The gallery's pairs as sortable, filterable items and their pages. The extension host keeps a
// run's records and answers the gallery webview's page requests with this (the webview never holds
// every record); the notebook renderer pages the pairs an output carries the same way. Pure: no
// DOM, no Node.
import type { ErrorKind, ModelOutcome, ModelSummary, PairLabel, PairListRecord, PairListSummary } from './pairListSummary';

export type ItemKind = ErrorKind | 'failed';
/** Errors first: the order of the kind filter and of sorting by kind. */
export const ITEM_KINDS: readonly ItemKind[] = ['false non-match', 'false match', 'true match', 'true non-match', 'unlabelled', 'failed'];
export type LabelChoice = PairLabel | 'unlabelled';
export const LABELS: readonly LabelChoice[] = ['same', 'different', 'unlabelled'];

/** One pair as the gallery shows it; the outcome is model A's, `outcomeB` model B's. */
export interface GalleryItem {
  index: number;
  a: string;
  b: string;
  label: LabelChoice;
  kind: ItemKind;
  outcome?: ModelOutcome;
  outcomeB?: ModelOutcome;
  failed?: string;
  /** Scored from the embeddings, not explained: no thumbnail (opening it explains it). */
  scoredOnly?: true;
  /** With two models: their decisions differ. */
  disagree: boolean;
  /** The pair's group of the run's group table (`gender=F/F`), when the run has one. */
  group?: string;
}

/** `groupOf`: the group of a record in the run's group table, if any. */
export function galleryItem(r: PairListRecord, group?: string): GalleryItem {
  const [outcome, outcomeB] = r.outcomes ?? [];
  return {
    index: r.index,
    a: r.a,
    b: r.b,
    label: r.label ?? 'unlabelled',
    kind: outcome ? outcome.errorKind : 'failed',
    ...(outcome ? { outcome } : {}),
    ...(outcomeB ? { outcomeB } : {}),
    ...(r.failed ? { failed: r.failed } : {}),
    ...(r.scoredOnly ? { scoredOnly: true as const } : {}),
    disagree: !!outcomeB && outcome.decision !== outcomeB.decision,
    ...(group !== undefined ? { group } : {}),
  };
}

/** The last part of a path: what the text filter matches and cards show. */
export function fileName(path: string): string {
  if (path.startsWith('data:')) return 'image (data URI)';
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

export type SortKey = 'score' | 'margin' | 'kind' | 'label' | 'group' | 'index';
export const SORT_KEYS: readonly SortKey[] = ['score', 'margin', 'kind', 'label', 'group', 'index'];

export interface GalleryQuery {
  sort: SortKey;
  descending: boolean;
  kind: ItemKind | 'all';
  label: LabelChoice | 'all';
  /** A group of the run's group table, or all pairs. */
  group: string;
  /** Case-insensitive part of either file name. */
  text: string;
}

/** `group` of a query that keeps every group. */
export const ALL_GROUPS = '';

export const DEFAULT_QUERY: GalleryQuery = { sort: 'index', descending: false, kind: 'all', label: 'all', group: ALL_GROUPS, text: '' };

/** Pairs per page of the webview's requests, and most pairs one request may ask for. */
export const PAGE_SIZE = 60;
export const MAX_PAGE = 500;

type SortValue = (item: GalleryItem) => number | string | undefined;
const sortValue: Record<SortKey, SortValue> = {
  score: (item) => item.outcome?.score,
  margin: (item) => item.outcome?.margin,
  kind: (item) => ITEM_KINDS.indexOf(item.kind),
  label: (item) => LABELS.indexOf(item.label),
  group: (item) => item.group,
  index: (item) => item.index,
};

const compareValues = (u: number | string, v: number | string) => (typeof u === 'number' && typeof v === 'number' ? u - v : String(u).localeCompare(String(v)));

/** The items the query keeps, in its order; ties in list order, pairs without the sorted value last. */
export function queryItems(items: readonly GalleryItem[], query: GalleryQuery): GalleryItem[] {
  const text = query.text.trim().toLowerCase();
  const kept = items.filter(
    (item) =>
      (query.kind === 'all' || item.kind === query.kind) &&
      (query.label === 'all' || item.label === query.label) &&
      (query.group === ALL_GROUPS || item.group === query.group) &&
      (!text || fileName(item.a).toLowerCase().includes(text) || fileName(item.b).toLowerCase().includes(text)),
  );
  const value = sortValue[query.sort];
  const sign = query.descending ? -1 : 1;
  // Each item's value once: a 100,000-pair sort calls the comparator ~1.7 million times.
  const keyed = kept.map((item) => ({ item, value: value(item) }));
  keyed.sort((p, q) => {
    const [u, v] = [p.value, q.value];
    if (u === undefined || v === undefined) return (u === undefined ? 1 : 0) - (v === undefined ? 1 : 0) || p.item.index - q.item.index;
    return sign * compareValues(u, v) || p.item.index - q.item.index;
  });
  return keyed.map((k) => k.item);
}

/** Pairs [offset, offset + items.length) of the `total` a query keeps, of `all` pairs. */
export interface PageOfItems {
  offset: number;
  total: number;
  all: number;
  items: GalleryItem[];
}

/**
 * Pages of a list of items. The order of the last query is kept, so scrolling through one query's
 * pages sorts once.
 */
export class ItemPager {
  private last?: { key: string; listed: GalleryItem[] };

  constructor(private readonly items: readonly GalleryItem[]) {}

  get size(): number {
    return this.items.length;
  }

  page(query: GalleryQuery, offset: number, limit: number): PageOfItems {
    const key = JSON.stringify([query.sort, query.descending, query.kind, query.label, query.group, query.text.trim().toLowerCase()]);
    if (this.last?.key !== key) this.last = { key, listed: queryItems(this.items, query) };
    const { listed } = this.last;
    const start = Math.min(offset, listed.length);
    return { offset: start, total: listed.length, all: this.items.length, items: listed.slice(start, start + Math.max(0, limit)) };
  }
}

/** A page as the gallery receives it: its pairs, and PNG data URIs of their thumbnails by pair index. */
export interface GalleryPage extends PageOfItems {
  query: GalleryQuery;
  thumbs: Record<number, string>;
}

/**
 * What the gallery shows of a run's summary: everything but the lists that grow with the run
 * (per-pair records, error lists, disagreements, which it counts), so that what the gallery
 * receives stays bounded whatever the run's length.
 */
export interface GallerySummary extends Pick<PairListSummary, 'list' | 'lfwRoot' | 'total' | 'explained' | 'failed' | 'groups'> {
  models: Omit<ModelSummary, 'falseMatches' | 'falseNonMatches'>[];
  comparison?: Omit<NonNullable<PairListSummary['comparison']>, 'disagreements'> & { disagreements: number };
}

export function gallerySummary(s: PairListSummary): GallerySummary {
  return {
    list: s.list,
    ...(s.lfwRoot ? { lfwRoot: s.lfwRoot } : {}),
    total: s.total,
    explained: s.explained,
    failed: s.failed,
    models: s.models.map(({ falseMatches: _fm, falseNonMatches: _fnm, ...m }) => m),
    ...(s.comparison ? { comparison: { ...s.comparison, disagreements: s.comparison.disagreements.length } } : {}),
    ...(s.groups ? { groups: s.groups } : {}),
  };
}

/**
 * What the gallery shows: a run's summary, its first page of pairs, and its aggregate maps named
 * by their paths relative to the output folder. In the webview panel `base` is the output folder's
 * webview URI (later pages come from the host); a notebook output carries the maps as data URIs.
 */
export interface GalleryData {
  summary: GallerySummary;
  page: GalleryPage;
  files: { base: string } | { data: Record<string, string> };
  /** A notebook output, which carries some of the run's pairs: the run folder and how many pairs it holds. */
  run?: { out: string; pairs: number };
}

/**
 * The notebook form of an explained pair list (application/vnd.xssab.pairlist+json): the summary,
 * one bounded page of pairs (disagreements and errors first) with their thumbnails, the aggregate
 * maps as PNG data URIs, and the run folder, where the other pairs are.
 */
export interface PairListOutput extends GalleryData {
  files: { data: Record<string, string> };
  run: { out: string; pairs: number };
}
