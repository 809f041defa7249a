// The fairness lens's group table as CLI lines (explain-pairs --by).
import type { GroupTable, Rate, RateRatio } from '../shared/pairListSummary';

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const rate = (r: Rate) => (r.pairs ? `${pct(r.rate)} [${pct(r.low)}, ${pct(r.high)}] (${r.errors}/${r.pairs})` : '–');
const ratio = (name: string, r: RateRatio | undefined) =>
  !r ? `${name} max/min: – (fewer than two groups large enough to compare)` : `${name} max/min: ${r.ratio === null ? '– (best rate is 0)' : r.ratio.toFixed(2)} (worst ${r.worst}, best ${r.best})`;

export function groupLines(table: GroupTable): string[] {
  const lines: string[] = [];
  for (const m of table.models) {
    lines.push(`${m.key} by ${table.by.join(',')} at t = ${m.threshold.toFixed(4)} (95% Wilson intervals; groups under ${table.minGroup} genuine or impostor pairs are too small to compare):`);
    const width = Math.max(...m.groups.map((g) => g.name.length));
    for (const g of m.groups) {
      const own = g.own ? `; own EER t = ${g.own.threshold.toFixed(4)}: FMR ${pct(g.own.fmr.rate)}, FNMR ${pct(g.own.fnmr.rate)}` : '';
      const notes = [g.crossGroup ? 'across groups' : '', g.tooSmall ? 'too small' : ''].filter(Boolean).join(', ');
      lines.push(`  ${g.name.padEnd(width)}  FMR ${rate(g.global.fmr)}  FNMR ${rate(g.global.fnmr)}${own}${notes ? `  (${notes})` : ''}`);
    }
    lines.push(`  impostor pairs within groups: FMR ${rate(m.impostors.withinGroup)}; across groups: FMR ${rate(m.impostors.crossGroup)}`);
    lines.push(`  ${ratio('FMR', m.fmrRatio)}; ${ratio('FNMR', m.fnmrRatio)}`);
  }
  return lines;
}
