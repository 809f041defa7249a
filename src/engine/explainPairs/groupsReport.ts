// The fairness lens's section of report.html: per model the group table (rates with their 95 %
// Wilson intervals, own-EER rates, too-small marks), the max/min ratios, within- against
// cross-group impostors, and one plot of the per-group rates with their intervals.
import { vegaLiteSvg } from '../plots';
import type { GroupTable, MapFiles, ModelGroups, Rate, RateRatio } from '../../shared/pairListSummary';

/** The report's figure of a map file with its caption. */
type Figure = (files: MapFiles, caption: string) => string;

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const rate = (r: Rate) => (r.pairs ? `${pct(r.rate)} <small>[${pct(r.low)}, ${pct(r.high)}] ${r.errors}/${r.pairs}</small>` : '–');
const ratio = (r: RateRatio | undefined) =>
  !r ? '– (fewer than two groups large enough to compare)' : `${r.ratio === null ? '– (the best rate is 0)' : r.ratio.toFixed(2)} (worst ${escapeHtml(r.worst)}, best ${escapeHtml(r.best)})`;

/** Per-group FMR and FNMR at the model's threshold as points with their intervals, groups too small left out. */
function ratesPlot(m: ModelGroups): Promise<string> {
  const values = m.groups
    .filter((g) => !g.tooSmall)
    .flatMap((g) => (['fmr', 'fnmr'] as const).filter((k) => g.global[k].pairs).map((k) => ({ group: g.name, rate: k.toUpperCase(), value: g.global[k].rate, low: g.global[k].low, high: g.global[k].high })));
  return vegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Error rates per group at t = ${m.threshold.toFixed(4)}, with 95 % Wilson intervals`,
    background: 'white',
    data: { values },
    facet: { column: { field: 'rate', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: { step: 22 },
      layer: [
        { mark: { type: 'rule' }, encoding: { y: { field: 'group', type: 'nominal', title: null }, x: { field: 'low', type: 'quantitative', title: 'rate', scale: { domain: [0, 1] } }, x2: { field: 'high' } } },
        { mark: { type: 'point', filled: true }, encoding: { y: { field: 'group', type: 'nominal' }, x: { field: 'value', type: 'quantitative' } } },
      ],
    },
  });
}

async function modelTable(m: ModelGroups, minGroup: number, figure: Figure): Promise<string> {
  const rows = m.groups.map((g) => {
    const notes = [g.crossGroup ? 'across groups' : '', g.tooSmall ? `too small to compare (under ${minGroup})` : ''].filter(Boolean).join('; ');
    const own = g.own ? `<td>${g.own.threshold.toFixed(4)}</td><td>${rate(g.own.fmr)}</td><td>${rate(g.own.fnmr)}</td>` : '<td colspan="3">– (needs genuine and impostor pairs)</td>';
    return `<tr${g.tooSmall ? ' class="small"' : ''}><td>${escapeHtml(g.name)}</td><td>${g.genuine}</td><td>${g.impostor}</td><td>${rate(g.global.fmr)}</td><td>${rate(g.global.fnmr)}</td>${own}<td>${notes}</td></tr>`;
  });
  const plotted = m.groups.some((g) => !g.tooSmall);
  const maps = m.groups
    .filter((g) => g.aggregates?.length)
    .map((g) => `<div class="row"><b class="group">${escapeHtml(g.name)}</b>${g.aggregates!.map((a) => figure(a.maps.combined, `${a.group} (${a.pairs}): combined`)).join('')}</div>`)
    .join('');
  return `<h3>${m.key}</h3>
<table><tr><th>group</th><th>genuine</th><th>impostor</th><th>FMR at t = ${m.threshold.toFixed(4)}</th><th>FNMR at t</th><th>own EER threshold</th><th>FMR there</th><th>FNMR there</th><th></th></tr>${rows.join('')}</table>
<p>FMR max/min: ${ratio(m.fmrRatio)} · FNMR max/min: ${ratio(m.fnmrRatio)}</p>
<p>Impostor pairs within groups: FMR ${rate(m.impostors.withinGroup)} · across groups: FMR ${rate(m.impostors.crossGroup)}</p>
${plotted ? await ratesPlot(m) : `<p>No plot: every group is too small to compare (under ${minGroup} genuine or impostor pairs).</p>`}
${maps ? `<h4>Mean combined map per group and kind (all three maps in summary.json, aggregate/${m.key}/by-group/)</h4>${maps}` : ''}`;
}

export async function groupsSection(table: GroupTable | undefined, figure: Figure): Promise<string> {
  if (!table) return '';
  const models = [];
  for (const m of table.models) models.push(await modelTable(m, table.minGroup, figure));
  return `<section><h2>Error rates by ${escapeHtml(table.by.join(', '))}</h2>
<p>Labelled, explained pairs grouped by their attributes; brackets: 95 % Wilson intervals, then errors/pairs. Ratios compare groups within one attribute value (not across groups) with at least ${table.minGroup} genuine and ${table.minGroup} impostor pairs. Score histograms per group are in summary.json (<code>groups</code>).</p>
${models.join('\n')}</section>`;
}
