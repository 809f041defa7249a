// The fairness lens: error rates per group of pair attributes (`explain-pairs --by`), with 95 %
// Wilson intervals, each group's own EER threshold, and the worst/best ratios FR fairness reports
// quote (NIST FRVT demographic effects, RFW, BFW).
import type { PairAttribute } from '../pairList';
import type { GroupStats, GroupTable, ModelEntry, ModelGroups, PairListRecord, Rate, RateRatio, ThresholdRates } from '../../shared/pairListSummary';
import { equalErrorRate } from '../verification';
import { wilson } from '../../shared/rates';
import { scoreStats } from './summary';

/** Fewer genuine or impostor pairs than this and a group is not compared. */
export const MIN_GROUP = 30;

/** FMR (impostor s ≥ t) and FNMR (genuine s < t), as the run's decisions. */
function ratesAt(genuine: readonly number[], impostor: readonly number[], threshold: number): ThresholdRates {
  return {
    threshold,
    fmr: wilson(impostor.filter((s) => s >= threshold).length, impostor.length),
    fnmr: wilson(genuine.filter((s) => s < threshold).length, genuine.length),
  };
}

/** A pair's group under `by`: its name, and whether a per-image attribute differs between the sides. */
export function groupOf(attributes: Record<string, PairAttribute>, by: readonly string[]): { name: string; crossGroup: boolean } {
  let crossGroup = false;
  const parts = by.map((n) => {
    const v = attributes[n];
    if (typeof v === 'string') return `${n}=${v}`;
    if (v[0] !== v[1]) crossGroup = true;
    // F/M and M/F are one group.
    return `${n}=${[...v].sort().join('/')}`;
  });
  return { name: parts.join(', '), crossGroup };
}

function ratio(groups: readonly GroupStats[], rate: (g: GroupStats) => Rate): RateRatio | undefined {
  if (groups.length < 2) return undefined;
  const sorted = [...groups].sort((p, q) => rate(p).rate - rate(q).rate);
  const [best, worst] = [sorted[0], sorted[sorted.length - 1]];
  return { worst: worst.name, best: best.name, ratio: rate(best).rate > 0 ? rate(worst).rate / rate(best).rate : null };
}

function modelGroups(model: ModelEntry, which: number, records: readonly PairListRecord[], attributes: ReadonlyMap<number, Record<string, PairAttribute>>, by: readonly string[], minGroup: number): ModelGroups {
  const members = new Map<string, { crossGroup: boolean; genuine: number[]; impostor: number[] }>();
  for (const r of records) {
    const attrs = attributes.get(r.index);
    if (!r.outcomes || !r.label || !attrs) continue;
    const { name, crossGroup } = groupOf(attrs, by);
    const g = members.get(name) ?? { crossGroup, genuine: [], impostor: [] };
    members.set(name, g);
    (r.label === 'same' ? g.genuine : g.impostor).push(r.outcomes[which].score);
  }
  const groups: GroupStats[] = [...members.entries()].map(([name, { crossGroup, genuine, impostor }]) => ({
    name,
    crossGroup,
    genuine: genuine.length,
    impostor: impostor.length,
    tooSmall: genuine.length < minGroup || impostor.length < minGroup,
    global: ratesAt(genuine, impostor, model.threshold),
    ...(genuine.length && impostor.length ? { own: ownThreshold(genuine, impostor) } : {}),
    scores: { ...(genuine.length ? { same: scoreStats(genuine) } : {}), ...(impostor.length ? { different: scoreStats(impostor) } : {}) },
  }));
  groups.sort((p, q) => Number(p.crossGroup) - Number(q.crossGroup) || p.name.localeCompare(q.name));
  const impostors = (cross: boolean) => {
    const of = groups.filter((g) => g.crossGroup === cross);
    return wilson(of.reduce((n, g) => n + g.global.fmr.errors, 0), of.reduce((n, g) => n + g.impostor, 0));
  };
  const compared = groups.filter((g) => !g.crossGroup && !g.tooSmall);
  const fmrRatio = ratio(compared, (g) => g.global.fmr);
  const fnmrRatio = ratio(compared, (g) => g.global.fnmr);
  return {
    key: model.key,
    threshold: model.threshold,
    groups,
    impostors: { withinGroup: impostors(false), crossGroup: impostors(true) },
    ...(fmrRatio ? { fmrRatio } : {}),
    ...(fnmrRatio ? { fnmrRatio } : {}),
  };
}

function ownThreshold(genuine: readonly number[], impostor: readonly number[]): ThresholdRates & { eer: number } {
  const { threshold, eer } = equalErrorRate(genuine, impostor);
  return { ...ratesAt(genuine, impostor, threshold), eer };
}

/** The group table of a run: labelled, scored pairs grouped by the `by` attributes, per model. */
export function groupTable(
  models: readonly ModelEntry[],
  records: readonly PairListRecord[],
  attributes: ReadonlyMap<number, Record<string, PairAttribute>>,
  by: readonly string[],
  minGroup = MIN_GROUP,
): GroupTable {
  return { by: [...by], minGroup, models: models.map((m, which) => modelGroups(m, which, records, attributes, by, minGroup)) };
}
