// How the views write numbers and names for people.
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

/** The hover read-out of one face at crop pixel (x, y). */
export function readoutText(x: number, y: number, values: Record<MapKind, number> | null): string {
  if (!values) return `(${x}, ${y}): outside the map`;
  return `(${x}, ${y}): ${MAP_KINDS.map((k) => `${k} ${formatMapValue(values[k])}`).join(', ')}`;
}

