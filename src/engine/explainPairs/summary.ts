// Building an explained pair list's summary (its data types are in shared/pairListSummary.ts).
import type { ErrorKind, ModelEntry, ModelSummary, PairLabel, PairListRecord, PairListSummary, ScoreStats } from '../../shared/pairListSummary';
import { GROUPS } from '../../shared/pairListSummary';
import { errorRates } from '../verification';

/** `false non-match` → `false-non-match`, for file names. */
export const slug = (name: string) => name.replace(/ /g, '-');

export function errorKind(label: PairLabel | undefined, match: boolean): ErrorKind {
  if (!label) return 'unlabelled';
  if (label === 'same') return match ? 'true match' : 'false non-match';
  return match ? 'false match' : 'true non-match';
}

/** Files of an output folder: the run's settings (a run to resume) and the summary. */
export const SETTINGS_FILE = 'explain-pairs.json';
export const SUMMARY_FILE = 'summary.json';

/** Histogram bins of the scores, shared by every label and model so they can be compared. */
export const SCORE_BINS = { min: -1, max: 1, count: 40 } as const;

/** Thumbnails in a PairListOutput (about 10 KB each). */
export const MIME_THUMBNAILS = 500;

/** Which pairs' thumbnails a PairListOutput carries: disagreements, then errors by distance from the threshold, then list order. */
export function thumbnailPairs(summary: PairListSummary, records: readonly PairListRecord[], limit = MIME_THUMBNAILS): number[] {
  const explained = new Set(records.filter((p) => p.stored).map((p) => p.index));
  const errors = summary.models.flatMap((m) => [...m.falseMatches, ...m.falseNonMatches].sort((p, q) => Math.abs(q.margin) - Math.abs(p.margin)).map((e) => e.index));
  const order = [...(summary.comparison?.disagreements ?? []), ...errors, ...records.map((p) => p.index)];
  return [...new Set(order.filter((i) => explained.has(i)))].slice(0, limit);
}

export function scoreStats(scores: readonly number[]): ScoreStats {
  const { min, max, count } = SCORE_BINS;
  const histogram = new Array<number>(count).fill(0);
  for (const s of scores) histogram[Math.min(count - 1, Math.max(0, Math.floor(((s - min) / (max - min)) * count)))]++;
  const mean = scores.reduce((a, s) => a + s, 0) / scores.length;
  const std = Math.sqrt(scores.reduce((a, s) => a + (s - mean) ** 2, 0) / scores.length);
  return { count: scores.length, mean, std, min: Math.min(...scores), max: Math.max(...scores), histogram };
}

/** Counts, rates, score statistics and error lists of one model (aggregates are filled in later). */
export function summariseModel(model: ModelEntry, which: number, records: readonly PairListRecord[]): ModelSummary {
  const explained = records.filter((r) => r.outcomes);
  const outcome = (r: PairListRecord) => r.outcomes![which];
  const counts = Object.fromEntries([...GROUPS, 'unlabelled'].map((k) => [k, 0])) as Record<ErrorKind, number>;
  for (const r of explained) counts[outcome(r).errorKind]++;
  const scoresOf = (label: PairLabel | undefined) => explained.filter((r) => r.label === label).map((r) => outcome(r).score);
  const [genuine, impostor] = [scoresOf('same'), scoresOf('different')];
  const scores: ModelSummary['scores'] = {};
  for (const [key, values] of [['same', genuine], ['different', impostor], ['unlabelled', scoresOf(undefined)]] as const) {
    if (values.length) scores[key] = scoreStats(values);
  }
  const errors = (kind: ErrorKind) =>
    explained
      .filter((r) => outcome(r).errorKind === kind)
      .map((r) => ({ index: r.index, score: outcome(r).score, margin: outcome(r).margin }))
      .sort((p, q) => Math.abs(q.margin) - Math.abs(p.margin) || p.index - q.index);
  return {
    ...model,
    counts,
    ...errorRates(genuine, impostor, model.threshold),
    genuine: genuine.length,
    impostor: impostor.length,
    scores,
    falseMatches: errors('false match'),
    falseNonMatches: errors('false non-match'),
    aggregates: [],
  };
}

/** Indices of the pairs whose two decisions differ. */
export function disagreements(records: readonly PairListRecord[]): number[] {
  return records.filter((r) => r.outcomes && r.outcomes.length === 2 && r.outcomes[0].decision !== r.outcomes[1].decision).map((r) => r.index);
}
