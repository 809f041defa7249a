// The gallery's pure logic: what it shows (a summary and where its images are), the pairs as
// sortable, filterable items, and which rows of the virtual grid are on screen. No DOM here.
import { displayName } from './format';
import { type ErrorKind, type GalleryData, type ModelOutcome, type PairLabel, type PairListSummary, THUMB_FACE } from '../shared/pairListSummary';

/** The URI of a file of the output folder, or undefined when the data does not carry it. */
export function fileUri(files: GalleryData['files'], relative: string): string | undefined {
  const parts = relative.split(/[\\/]/).filter(Boolean);
  if ('base' in files) return `${files.base.replace(/\/$/, '')}/${parts.map(encodeURIComponent).join('/')}`;
  return files.data[parts.join('/')];
}

/** A pair's thumbnail, relative to the output folder (written for explained pairs only). */
export const thumbPath = (dir: string) => `${dir.split(/[\\/]/).filter(Boolean).join('/')}/thumb.png`;

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
  dir: string;
  kind: ItemKind;
  outcome?: ModelOutcome;
  outcomeB?: ModelOutcome;
  failed?: string;
  /** With two models: their decisions differ. */
  disagree: boolean;
}

export function galleryItems(summary: PairListSummary): GalleryItem[] {
  return summary.pairs.map((r) => {
    const [outcome, outcomeB] = r.outcomes ?? [];
    return {
      index: r.index,
      a: r.a,
      b: r.b,
      label: r.label ?? 'unlabelled',
      dir: r.dir,
      kind: outcome ? outcome.errorKind : 'failed',
      ...(outcome ? { outcome } : {}),
      ...(outcomeB ? { outcomeB } : {}),
      ...(r.failed ? { failed: r.failed } : {}),
      disagree: !!outcomeB && outcome.decision !== outcomeB.decision,
    };
  });
}

/**
 * A failure as a card shows it: the reason first, then the file's name. The engine writes
 * "<path>: <reason>", and on a narrow card a long path left no room for the reason.
 */
export function failureLine(failed: string): string {
  const m = /^(.*?[^\s:]\.\w{2,5}): (.+)$/s.exec(failed);
  if (!m) return failed;
  const name = m[1].split(/[\\/]/).pop();
  return `${m[2]} (${name})`;
}

export type SortKey = 'score' | 'margin' | 'kind' | 'label' | 'index';
export const SORT_KEYS: readonly SortKey[] = ['score', 'margin', 'kind', 'label', 'index'];

export interface GalleryQuery {
  sort: SortKey;
  descending: boolean;
  kind: ItemKind | 'all';
  label: LabelChoice | 'all';
  /** Case-insensitive part of either file name. */
  text: string;
}

export const DEFAULT_QUERY: GalleryQuery = { sort: 'index', descending: false, kind: 'all', label: 'all', text: '' };

const sortValue: Record<SortKey, (item: GalleryItem) => number | undefined> = {
  score: (item) => item.outcome?.score,
  margin: (item) => item.outcome?.margin,
  kind: (item) => ITEM_KINDS.indexOf(item.kind),
  label: (item) => LABELS.indexOf(item.label),
  index: (item) => item.index,
};

/** The items the query keeps, in its order; ties in list order, pairs without a score last. */
export function queryItems(items: readonly GalleryItem[], query: GalleryQuery): GalleryItem[] {
  const text = query.text.trim().toLowerCase();
  const kept = items.filter(
    (item) =>
      (query.kind === 'all' || item.kind === query.kind) &&
      (query.label === 'all' || item.label === query.label) &&
      (!text || displayName(item.a).toLowerCase().includes(text) || displayName(item.b).toLowerCase().includes(text)),
  );
  const value = sortValue[query.sort];
  const sign = query.descending ? -1 : 1;
  return kept.sort((p, q) => {
    const [u, v] = [value(p), value(q)];
    if (u === undefined || v === undefined) return (u === undefined ? 1 : 0) - (v === undefined ? 1 : 0) || p.index - q.index;
    return sign * (u - v) || p.index - q.index;
  });
}

/** Layout of the virtual grid: every card has the same size, so a row's position is its number × height. */
export interface GridLayout {
  cardWidth: number;
  rowHeight: number;
}

/** Thumbnail rows: one per model, plus the A − B row when both models share a frame. */
export function thumbRows(summary: PairListSummary): number {
  return summary.models.length + (summary.comparison?.mapsComparable ? 1 : 0);
}

/** Text lines under a card's thumbnail. */
const CARD_LINES = 3;
const LINE_HEIGHT = 18;
const CARD_PADDING = 12;

export function gridLayout(summary: PairListSummary): GridLayout {
  return {
    cardWidth: 2 * THUMB_FACE + 2 * CARD_PADDING,
    rowHeight: thumbRows(summary) * THUMB_FACE + CARD_LINES * LINE_HEIGHT + 2 * CARD_PADDING,
  };
}

export const columnsFor = (width: number, cardWidth: number) => Math.max(1, Math.floor(width / cardWidth));

/** Rows [first, end) to render: those in the viewport, plus `overscan` rows on either side. */
export function visibleRows(scrollTop: number, viewportHeight: number, rowHeight: number, rowCount: number, overscan = 2): { first: number; end: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(rowCount, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, end: Math.max(first, end) };
}
