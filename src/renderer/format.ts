// How the views write numbers and names for people.
import { type Range, rangeNote } from '../shared/colour';
import { type ExplanationPayload, MAP_KINDS, type MapKind } from '../shared/result';

/** Map values (raw gradient magnitudes, often tiny): three significant digits. */
export function formatMapValue(v: number): string {
  return Number.isNaN(v) ? 'n/a' : v.toExponential(2);
}

/** Scores, thresholds, sums: four decimals. */
export function formatScore(v: number): string {
  return v.toFixed(4);
}

export function formatSigned(v: number): string {
  return `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(4)}`;
}

/** Rates: a percentage with two decimals. */
export function formatPercent(v: number): string {
  return `${(100 * v).toFixed(2)} %`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A short name for an image given as a path (either separator) or a data URI. */
export function displayName(path: string): string {
  if (path.startsWith('data:')) return 'image (data URI)';
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

export function decisionText(p: Pick<ExplanationPayload, 'decision' | 'margin'>): string {
  const where = p.margin >= 0 ? 'above' : 'below';
  return `${p.decision === 'match' ? 'Match' : 'No match'} (${formatSigned(p.margin)} ${where} the threshold)`;
}

/**
 * A map value as a share of its colour range, measured from the scale's neutral end (0 of a
 * sequential map's [lo, hi], the centre of the combined map's [−r, r]); beyond 100 % it is drawn
 * saturated.
 */
export function formatShare(kind: MapKind, v: number, [lo, hi]: Range): string {
  if (Number.isNaN(v) || !(hi > lo)) return 'n/a';
  const share = kind === 'combined' ? (2 * (v - lo)) / (hi - lo) - 1 : (v - lo) / (hi - lo);
  const percent = Math.round(100 * share);
  return `${kind === 'combined' && percent > 0 ? '+' : ''}${percent} %`;
}

/**
 * The hover read-out of one face at crop pixel (x, y): with the colour ranges, each value as a
 * share of its range with the raw value beside it; without, the raw values.
 */
export function readoutText(x: number, y: number, values: Record<MapKind, number> | null, ranges?: Record<MapKind, Range>): string {
  if (!values) return `(${x}, ${y}): outside the map`;
  const value = (k: MapKind) => (ranges ? `${formatShare(k, values[k], ranges[k])} (${formatMapValue(values[k])})` : formatMapValue(values[k]));
  return `(${x}, ${y}): ${MAP_KINDS.map((k) => `${k} ${value(k)}`).join(', ')}`;
}

/** What a legend says about its range: shared or not, where it is clipped, smoothing. */
export function legendNote(kind: MapKind, percentile: number, smoothing: number): string {
  const notes = [kind === 'combined' ? '' : 'shared by similarity and dissimilarity', rangeNote(percentile), smoothing > 0 ? `smoothed for display (σ ${smoothing} px)` : ''];
  return notes.filter(Boolean).join(' · ');
}

