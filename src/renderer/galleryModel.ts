// The gallery's pure view logic: where its images are, how a card says why its pair failed, and
// which rows of the virtual grid are on screen (sorting, filtering and paging: shared/galleryPages.ts).
// No DOM here.
import type { GalleryData, GallerySummary } from '../shared/galleryPages';
import { THUMB_FACE } from '../shared/pairListSummary';

/** The URI of a file of the output folder, or undefined when the data does not carry it. */
export function fileUri(files: GalleryData['files'], relative: string): string | undefined {
  const parts = relative.split(/[\\/]/).filter(Boolean);
  if ('base' in files) return `${files.base.replace(/\/$/, '')}/${parts.map(encodeURIComponent).join('/')}`;
  return files.data[parts.join('/')];
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

/** Layout of the virtual grid: every card has the same size, so a row's position is its number × height. */
export interface GridLayout {
  cardWidth: number;
  rowHeight: number;
}

/** Thumbnail rows: one per model, plus the A − B row when both models share a frame. */
export function thumbRows(summary: GallerySummary): number {
  return summary.models.length + (summary.comparison?.mapsComparable ? 1 : 0);
}

/** Text lines under a card's thumbnail. */
const CARD_LINES = 3;
const LINE_HEIGHT = 18;
const CARD_PADDING = 12;

export function gridLayout(summary: GallerySummary): GridLayout {
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
