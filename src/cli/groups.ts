// The fairness lens's group table as CLI lines (explain-pairs --by, --compare).
import * as path from 'path';
import type { CompareRequest } from '../engine/explainPairs/attributes';
import { headlineKinds, kindDifferenceInWords, tooSmallNote } from '../engine/explainPairs/groupsReport';
import type { GroupTable, Rate, RateRatio } from '../shared/pairListSummary';
import { UsageError } from '../shared/errors';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
/** A rate with its 95 % interval and counts: `1.20% [0.80%, 1.90%] (12/1000)`. */
export const rateText = (r: Rate) => (r.pairs ? `${pct(r.rate)} [${pct(r.low)}, ${pct(r.high)}] (${r.errors}/${r.pairs})` : '–');
const ratio = (name: string, r: RateRatio | undefined) =>
  !r ? `${name} max/min: – (fewer than two groups large enough to compare)` : `${name} max/min: ${r.ratio === null ? '– (best rate is 0)' : r.ratio.toFixed(2)} (worst ${r.worst}, best ${r.best})`;

export function groupLines(table: GroupTable): string[] {
  const lines = [table.mapsNote, table.compare?.mapsNote].filter((n) => n !== undefined).map((note) => `warning: ${note}`);
  for (const m of table.models) {
    lines.push(`${m.key} by ${table.by.join(',')} at t = ${m.threshold.toFixed(4)} (95% Wilson intervals; groups under ${table.minGroup} genuine or impostor pairs are too small to compare):`);
    const width = Math.max(...m.groups.map((g) => g.name.length));
    for (const g of m.groups) {
      const own = g.own ? `; own EER t = ${g.own.threshold.toFixed(4)}: FMR ${rateText(g.own.fmr)}, FNMR ${rateText(g.own.fnmr)}` : '';
      const notes = [g.crossGroup ? 'across groups' : '', g.tooSmall ? 'too small' : ''].filter(Boolean).join(', ');
      lines.push(`  ${g.name.padEnd(width)}  FMR ${rateText(g.global.fmr)}  FNMR ${rateText(g.global.fnmr)}${own}${notes ? `  (${notes})` : ''}`);
    }
    lines.push(`  impostor pairs within groups: FMR ${rateText(m.impostors.withinGroup)}; across groups: FMR ${rateText(m.impostors.crossGroup)}`);
    lines.push(`  ${ratio('FMR', m.fmrRatio)}; ${ratio('FNMR', m.fnmrRatio)}`);
    const c = table.compare?.models.find((k) => k.key === m.key);
    if (!c) continue;
    const { x, y } = table.compare!;
    lines.push(`  ${x} − ${y}, mean maps per error kind (in ${path.join('aggregate', m.key, 'compare')}):`);
    for (const note of [tooSmallNote(c.x, table.minGroup), tooSmallNote(c.y, table.minGroup)].filter(Boolean)) lines.push(`    warning: ${note}`);
    for (const k of headlineKinds(c.kinds)) lines.push(`    ${k.group}: ${kindDifferenceInWords(k, x, y)}`);
    if (!c.kinds.length && !table.compare!.mapsNote) lines.push('    no error kind has explained pairs in both groups');
  }
  return lines;
}

/** `--compare ATTR=X,ATTR=Y`: two values of one attribute. */
export function parseCompare(spec: string): CompareRequest {
  const sides = spec.split(',').map((side) => /^\s*([^=\s]+)\s*=\s*(\S.*?)\s*$/.exec(side));
  if (sides.length !== 2 || sides.some((s) => !s)) throw new UsageError(`--compare needs two groups ATTR=X,ATTR=Y (e.g. gender=F/F,gender=M/M), got "${spec}"`);
  const [[, attribute, x], [, other, y]] = sides as RegExpExecArray[];
  if (attribute !== other) throw new UsageError(`--compare compares two groups of one attribute, got ${attribute} and ${other}`);
  return { attribute, x, y };
}
