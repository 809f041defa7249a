// The fairness lens's section of report.html: per model the group table (rates with their 95 %
// Wilson intervals, own-EER rates, too-small marks), the max/min ratios, within- against
// cross-group impostors, and one plot of the per-group rates with their intervals.
import { vegaLiteSvg } from '../plots';
import { joinSides } from '../../shared/regions';
import type { RegionSum } from '../../shared/result';
import type { CompareSide, GroupTable, KindDifference, MapFiles, ModelGroups, Rate, RateRatio } from '../../shared/pairListSummary';

/** The report's figure of a map file with its caption. */
type Figure = (files: MapFiles, caption: string) => string;
/** The report's legend of the combined (diverging) scale, with the words at its two ends. */
type Legend = (low: string, high: string) => string;

/**
 * A difference of mean maps in words: the regions where `subject` has the least support against
 * `against` (negative combined sums, up to three) and the most (up to two).
 */
export function differenceInWords(regions: readonly RegionSum[], against: string, subject: string): string {
  const joined = joinSides(regions).sort((p, q) => p.combined - q.combined);
  const words = (list: RegionSum[]) => list.map((r) => `${r.name} (${r.combined >= 0 ? '+' : ''}${r.combined.toExponential(1)})`).join(', ');
  const less = joined.filter((r) => r.combined < 0).slice(0, 3);
  const more = joined.filter((r) => r.combined > 0).reverse().slice(0, 2);
  return `Against ${against}, ${subject} have less support at ${less.length ? words(less) : 'no region'}${more.length ? `, more at ${words(more)}` : ''}.`;
}

/** `--compare`, one error kind in words: x's pairs of the kind against y's. */
export const kindDifferenceInWords = (k: KindDifference, x: string, y: string) => differenceInWords(k.regions, `the ${k.group}es of ${y} (${k.pairs[1]})`, `those of ${x} (${k.pairs[0]})`);

/** A compared group too small to compare, in words; '' otherwise. */
export const tooSmallNote = (side: CompareSide, minGroup: number) =>
  side.tooSmall ? `${side.name} is too small to compare (${side.genuine} genuine, ${side.impostor} impostor pairs; under ${minGroup})` : '';

/** Errors first: the order the --compare headline gives the kinds in. */
const HEADLINE_ORDER = ['false non-match', 'false match', 'true match', 'true non-match'];
export const headlineKinds = (kinds: readonly KindDifference[]) => [...kinds].sort((p, q) => HEADLINE_ORDER.indexOf(p.group) - HEADLINE_ORDER.indexOf(q.group));

/** The report's headline with --compare: per model and error kind, group x's mean combined map minus group y's, and the same in words. */
export function compareHeadline(table: GroupTable | undefined, figure: Figure, legend: Legend): string {
  const c = table?.compare;
  if (!c) return '';
  const x = escapeHtml(c.x);
  const y = escapeHtml(c.y);
  const models = c.models.map((m) => {
    const notes = [tooSmallNote(m.x, table.minGroup), tooSmallNote(m.y, table.minGroup)].filter(Boolean);
    const kinds = headlineKinds(m.kinds);
    const body = kinds.length
      ? `<div class="row">${kinds.map((k) => figure(k.maps.combined, `${m.key}: ${k.group}, ${c.x} − ${c.y}`)).join('')}</div>
${kinds.map((k) => `<p><b>${k.group}</b>: ${escapeHtml(kindDifferenceInWords(k, c.x, c.y))}</p>`).join('')}`
      : c.mapsNote
        ? ''
        : `<p>No error kind has explained pairs in both groups.</p>`;
    return `${c.models.length > 1 ? `<h3>${m.key}</h3>` : ''}${notes.map(warning).join('')}${body}`;
  });
  return `<section class="headline"><h2>Where ${x} differs from ${y}, per error kind</h2>
<p>Mean combined map of ${x}'s explained pairs of each kind minus that of ${y}'s (both faces pooled); similarity, dissimilarity and combined differences and their region sums are in summary.json (<code>groups.compare</code>) and aggregate/&lt;model&gt;/compare/.</p>
${warning(c.mapsNote)}${models.join('\n')}
${legend(`less similarity in ${x}`, `more similarity in ${x}`)}</section>`;
}

/** A note (a group too small, mean maps missing) as the report's warning line. */
const warning = (note: string | undefined) => (note ? `<p class="small">⚠ ${escapeHtml(note)}.</p>` : '');

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
/** A rate with its 95 % interval and counts. */
export const rate = (r: Rate) => (r.pairs ? `${pct(r.rate)} <small>[${pct(r.low)}, ${pct(r.high)}] ${r.errors}/${r.pairs}</small>` : '–');
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
    .map((g) => `<div class="row"><b class="group${g.tooSmall ? ' small' : ''}">${escapeHtml(g.name)}${g.tooSmall ? '<br>too small to compare' : ''}</b>${g.aggregates!.map((a) => figure(a.maps.combined, `${a.group} (${a.pairs}): combined`)).join('')}</div>`)
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
<p>Labelled, scored pairs grouped by their attributes (the maps: their explained pairs); brackets: 95 % Wilson intervals, then errors/pairs. Ratios compare groups within one attribute value (not across groups) with at least ${table.minGroup} genuine and ${table.minGroup} impostor pairs. Score histograms per group are in summary.json (<code>groups</code>).</p>
${warning(table.mapsNote)}${models.join('\n')}</section>`;
}
