// An explained pair list as plain data: the per-pair records (pairs.jsonl) and summary.json, which
// the report, the gallery panel and the notebook renderer read. No Node or DOM imports here.
import type { MapKind, RegionSum } from './result';

export type PairLabel = 'same' | 'different';

export type ErrorKind = 'true match' | 'true non-match' | 'false match' | 'false non-match' | 'unlabelled';
/** The groups of labelled pairs whose maps are averaged. */
export const GROUPS = ['true match', 'true non-match', 'false match', 'false non-match'] as const;
export type Group = (typeof GROUPS)[number];

/** One model's verdict on a pair. */
export interface ModelOutcome {
  score: number;
  decision: 'match' | 'no match';
  /** score − threshold */
  margin: number;
  errorKind: ErrorKind;
  /** Explained pairs: their maps' sums per face region. */
  regions?: PairRegions;
}

/** Per face (a, b): each face region's sums of the similarity and dissimilarity maps (the combined sum is their difference). */
export type PairRegions = [Record<string, [number, number]>, Record<string, [number, number]>];

/** One pair of a run, as the run's store reads it (explainPairs/store.ts). */
export interface PairListRecord {
  /** Position in the pair list, from 0. */
  index: number;
  a: string;
  b: string;
  label?: PairLabel;
  /** One per model, [A] or [A, B]; absent when the pair could not be explained. */
  outcomes?: ModelOutcome[];
  /** Why the pair was not explained (no face found, unreadable image). */
  failed?: string;
  /** Scored from the cached embeddings but not explained (--explain): no files, no thumbnail. */
  scoredOnly?: true;
  /** Explained: its row in the run's maps files, its thumbnail's [offset, length] in thumbs.bin, each model's map scale (power of two). */
  stored?: { row: number; thumb: [number, number]; scale: number[] };
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
  thresholdSource: 'model card' | 'user' | 'default' | 'at FMR';
  /** With `at FMR`: the false match rate asked for. */
  atFmr?: number;
}

/** Side of one face in a pair's thumb.png, in pixels (the gallery lays its grid out by it). */
export const THUMB_FACE = 64;

export interface ScoreStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Counts per bin of SCORE_BINS (explainPairs/summary.ts); scores outside [min, max] go to the end bins. */
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
  /** The group's mean maps summed over the face regions of the aligned template (regions.ts). */
  regions?: RegionSum[];
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
  /** Per face region: the FNM group's mean-map sums minus the TM group's (both groups needed). */
  fnmMinusTmRegions?: RegionSum[];
  /** Mean combined map over false non-matches minus that over true matches (both groups needed). */
  fnmMinusTm?: MapFiles;
}

/** An error rate with its 95 % Wilson score interval. */
export interface Rate {
  errors: number;
  pairs: number;
  rate: number;
  low: number;
  high: number;
}

/** FMR and FNMR of a group at one threshold. */
export interface ThresholdRates {
  threshold: number;
  fmr: Rate;
  fnmr: Rate;
}

/** One group of the fairness lens: the labelled, scored pairs with the same values of the --by attributes. */
export interface GroupStats {
  /** `gender=F/F`, or `gender=F/F, age_band=20-30` with several attributes. */
  name: string;
  /** The two sides differ in a per-image attribute (`gender=F/M`): kept out of the ratios. */
  crossGroup: boolean;
  genuine: number;
  impostor: number;
  /** Fewer genuine or impostor pairs than the table's minGroup: not compared. */
  tooSmall: boolean;
  /** At the model's threshold. */
  global: ThresholdRates;
  /** At the group's own equal-error-rate threshold (needs genuine and impostor pairs). */
  own?: ThresholdRates & { eer: number };
  scores: Partial<Record<PairLabel, ScoreStats>>;
  /** Mean maps of the group's explained pairs per error kind (kinds without them left out). */
  aggregates?: GroupAggregate[];
}

/** Worst over best group rate at the model's threshold; `ratio` is null when the best rate is 0. */
export interface RateRatio {
  worst: string;
  best: string;
  ratio: number | null;
}

export interface ModelGroups {
  key: ModelEntry['key'];
  threshold: number;
  /** Within-group groups first, then the cross-group ones, each by name. */
  groups: GroupStats[];
  /** FMR of all impostor pairs within a group, and of all across groups. */
  impostors: { withinGroup: Rate; crossGroup: Rate };
  /** Over the within-group groups that are not too small; absent with fewer than two of them. */
  fmrRatio?: RateRatio;
  fnmrRatio?: RateRatio;
}

/** One side of `--compare`: the labelled, scored pairs with that value of the compared attribute. */
export interface CompareSide {
  /** As the group table names groups: `gender=F/F`. */
  name: string;
  genuine: number;
  impostor: number;
  /** Fewer genuine or impostor pairs than the table's minGroup. */
  tooSmall: boolean;
}

/** One error kind of `--compare`: the mean maps of x's explained pairs of the kind minus y's. */
export interface KindDifference {
  group: Group;
  /** Explained pairs of the kind in x and in y. */
  pairs: [number, number];
  maps: Record<MapKind, MapFiles>;
  /** The difference maps summed over the template's face regions. */
  regions: RegionSum[];
}

export interface ModelComparison {
  key: ModelEntry['key'];
  x: CompareSide;
  y: CompareSide;
  /** The kinds with explained pairs in both groups. */
  kinds: KindDifference[];
}

/** `explain-pairs --compare ATTR=X,ATTR=Y`: per model and error kind, group x's mean maps minus group y's. */
export interface GroupComparison {
  attribute: string;
  x: string;
  y: string;
  models: ModelComparison[];
  /** Why there are no difference maps (the run's pairs were explained under another --compare). */
  mapsNote?: string;
}

/** The fairness lens (`explain-pairs --by`): per model, the error rates of each group. */
export interface GroupTable {
  by: string[];
  minGroup: number;
  models: ModelGroups[];
  /** With --compare. */
  compare?: GroupComparison;
  /** Why there are no per-group mean maps (the run's pairs were explained under another --by). */
  mapsNote?: string;
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
  /** With --by: error rates per group of the pairs' attributes. */
  groups?: GroupTable;
}
