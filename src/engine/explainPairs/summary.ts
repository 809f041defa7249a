// An explained pair list as plain data: the per-pair records (pairs.jsonl) and summary.json, which
// the report, the gallery panel and the notebook renderer read. No Node or DOM imports here.
import type { PairLabel } from '../pairList';
import type { MapKind } from '../result';
import { errorRates } from '../verification';

export type ErrorKind = 'true match' | 'true non-match' | 'false match' | 'false non-match' | 'unlabelled';
/** The groups of labelled pairs whose maps are averaged. */
export const GROUPS = ['true match', 'true non-match', 'false match', 'false non-match'] as const;
export type Group = (typeof GROUPS)[number];

/** `false non-match` → `false-non-match`, for file names. */
export const slug = (name: string) => name.replace(/ /g, '-');

export function errorKind(label: PairLabel | undefined, match: boolean): ErrorKind {
  if (!label) return 'unlabelled';
  if (label === 'same') return match ? 'true match' : 'false non-match';
  return match ? 'false match' : 'true non-match';
}

/** One model's verdict on a pair. */
export interface ModelOutcome {
  score: number;
  decision: 'match' | 'no match';
  /** score − threshold */
  margin: number;
  errorKind: ErrorKind;
}

/** One line of pairs.jsonl. */
export interface PairListRecord {
  /** Position in the pair list, from 0. */
  index: number;
  a: string;
  b: string;
  label?: PairLabel;
  /** Folder of the pair's files, relative to the output folder. */
  dir: string;
  /** One per model, [A] or [A, B]; absent when the pair could not be explained. */
  outcomes?: ModelOutcome[];
  /** Why the pair was not explained (no face found, unreadable image). */
  failed?: string;
}

/** A model of the run, as stored in the run settings. */
export interface ModelEntry {
  /** `model-a` or `model-b`: the folder of its files in each pair folder and in aggregate/. */
  key: 'model-a' | 'model-b';
  name: string;
  path: string;
  sha256: string;
  inputSize: [number, number];
  threshold: number;
  thresholdSource: 'model card' | 'user' | 'default';
}

/** Files of an output folder: the run's settings (a run to resume) and the summary. */
export const SETTINGS_FILE = 'explain-pairs.json';
export const SUMMARY_FILE = 'summary.json';

/** Side of one face in a pair's thumb.png, in pixels (the gallery lays its grid out by it). */
export const THUMB_FACE = 64;

/** Histogram bins of the scores, shared by every label and model so they can be compared. */
export const SCORE_BINS = { min: -1, max: 1, count: 40 } as const;

export interface ScoreStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Counts per bin of SCORE_BINS; scores outside [min, max] go to the end bins. */
  histogram: number[];
}

/** A misclassified pair; `margin` is score − threshold, so |margin| is its distance from it. */
export interface ErrorEntry {
  index: number;
  score: number;
  margin: number;
}

/** Relative paths of an aggregate map's files. */
export interface MapFiles {
  npy: string;
  png: string;
}

export interface GroupAggregate {
  group: Group;
  pairs: number;
  maps: Record<MapKind, MapFiles>;
}

export interface GroupDifference {
  group: Group;
  /** Pairs in the group for model A and for model B. */
  pairs: [number, number];
  maps: Record<MapKind, MapFiles>;
}

export interface ModelSummary extends ModelEntry {
  counts: Record<ErrorKind, number>;
  /** Over labelled pairs, at the threshold. */
  fmr: number;
  fnmr: number;
  genuine: number;
  impostor: number;
  scores: Partial<Record<PairLabel | 'unlabelled', ScoreStats>>;
  /** Sorted by distance from the threshold, largest first. */
  falseMatches: ErrorEntry[];
  falseNonMatches: ErrorEntry[];
  /** Mean maps per group (groups without pairs are left out). */
  aggregates: GroupAggregate[];
  /** Mean combined map over false non-matches minus that over true matches (both groups needed). */
  fnmMinusTm?: MapFiles;
}

export interface PairListSummary {
  version: 1;
  list: string;
  lfwRoot?: string;
  shard: { index: number; count: number };
  /** Pairs of this shard of the list, explained or not. */
  total: number;
  explained: number;
  failed: number;
  /** Maps: mean over channels of |∂S/∂x| on each model's aligned frame; aggregates pool both faces of a pair. */
  models: ModelSummary[];
  /** Two models: pairs whose decisions differ, and the map differences A − B (when the frames agree). */
  comparison?: {
    disagreements: number[];
    /** False when the models' input sizes differ: then no map differences are written. */
    mapsComparable: boolean;
    note?: string;
    /** Per group: mean map of model A minus that of model B, each over its own group's pairs. */
    aggregates: GroupDifference[];
  };
  /** Every record: with two models the disagreements first, then in list order. */
  pairs: PairListRecord[];
}

/**
 * The notebook form of an explained pair list (application/vnd.xssab.pairlist+json): the summary,
 * and PNG data URIs of the aggregate maps and of the thumbnails of up to MIME_THUMBNAILS pairs
 * (errors and disagreements first), keyed by their paths relative to the output folder with `/`.
 * Pairs beyond that show without a thumbnail, which keeps outputs of long lists small.
 */
export interface PairListOutput {
  summary: PairListSummary;
  files: { data: Record<string, string> };
}

/** Thumbnails in a PairListOutput (about 10 KB each). */
export const MIME_THUMBNAILS = 500;

/** Which pairs' thumbnails a PairListOutput carries: disagreements, then errors by distance from the threshold, then list order. */
export function thumbnailPairs(summary: PairListSummary, limit = MIME_THUMBNAILS): number[] {
  const explained = new Set(summary.pairs.filter((p) => p.outcomes).map((p) => p.index));
  const errors = summary.models.flatMap((m) => [...m.falseMatches, ...m.falseNonMatches].sort((p, q) => Math.abs(q.margin) - Math.abs(p.margin)).map((e) => e.index));
  const order = [...(summary.comparison?.disagreements ?? []), ...errors, ...summary.pairs.map((p) => p.index).sort((a, b) => a - b)];
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
