// Which pairs of a scored list are explained (`--explain`), and the threshold at a given false
// match rate (`--at-fmr`).
import { GROUPS, type ErrorKind } from '../../shared/pairListSummary';
import { Random } from '../random';

/** Pairs sampled per group (true/false match/non-match, unlabelled) for the aggregates. */
export const DEFAULT_SAMPLE = 50;

export type ExplainSelection = { kind: 'all' } | { kind: 'none' } | { kind: 'errors'; sample: number } | { kind: 'sample'; sample: number };

/** Parses `all | errors | none | sample:N`; undefined when it is none of them. */
export function parseSelection(spec: string): ExplainSelection | undefined {
  if (spec === 'all' || spec === 'none') return { kind: spec };
  if (spec === 'errors') return { kind: 'errors', sample: DEFAULT_SAMPLE };
  const m = /^sample:(\d+)$/.exec(spec);
  return m && Number(m[1]) >= 1 ? { kind: 'sample', sample: Number(m[1]) } : undefined;
}

export const selectionSpec = (s: ExplainSelection): string => (s.kind === 'sample' ? `sample:${s.sample}` : s.kind);

/**
 * The lowest threshold at which the impostor scores give an FMR of at most `fmr`: with the n
 * scores sorted from the highest, k = ⌊fmr·n⌋ of them are accepted (score ≥ t), so t lies just
 * above the (k+1)-th highest. Ties at that score are all rejected (the FMR is then below `fmr`).
 */
export function thresholdAtFmr(impostor: readonly number[], fmr: number): number {
  if (impostor.length === 0) throw new RangeError('no impostor scores to set a threshold at an FMR from');
  const sorted = [...impostor].sort((a, b) => b - a);
  // The small slack keeps 0.2·10 from becoming 1.9999…
  const k = Math.floor(fmr * sorted.length + 1e-9);
  if (k >= sorted.length) return sorted[sorted.length - 1];
  return nextUp(sorted[k]);
}

/** The smallest double greater than x. */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] += x > 0 ? 1n : -1n;
  return new Float64Array(bits.buffer)[0];
}

export interface ScoredPair {
  index: number;
  /** Each model's error kind; undefined when the pair could not be scored. */
  kinds?: ErrorKind[];
}

/**
 * The pairs to explain. `errors`: every false match and false non-match of any model, plus a
 * sample of each group of model A for the aggregates; `sample:N`: the sample alone. The sample is
 * drawn with a fixed seed, so a resumed or repeated run selects the same pairs.
 */
export function selectPairs(pairs: readonly ScoredPair[], selection: ExplainSelection, seed = 0): Set<number> {
  const scored = pairs.filter((p) => p.kinds);
  if (selection.kind === 'all') return new Set(scored.map((p) => p.index));
  const chosen = new Set<number>();
  if (selection.kind === 'none') return chosen;
  if (selection.kind === 'errors') {
    for (const p of scored) if (p.kinds!.some((k) => k === 'false match' || k === 'false non-match')) chosen.add(p.index);
  }
  const random = new Random(seed);
  for (const group of [...GROUPS, 'unlabelled'] as ErrorKind[]) {
    const members = scored.filter((p) => p.kinds![0] === group).map((p) => p.index);
    // A partial Fisher–Yates shuffle: the first `sample` places.
    for (let i = 0; i < Math.min(selection.sample, members.length); i++) {
      const j = random.int(i, members.length - 1);
      [members[i], members[j]] = [members[j], members[i]];
      chosen.add(members[i]);
    }
  }
  return chosen;
}
