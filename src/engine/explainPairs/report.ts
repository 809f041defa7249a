// report.html of an explained pair list: the headline FNM − TM map, counts and rates, score
// histograms per label (vega-lite, as the Patch-LFW report), the errors farthest from the threshold
// with their thumbnails (data URIs) and the aggregate maps (linked by relative path). Its size does
// not grow with the list: every pair is in pairs.jsonl, not in the page.
import * as path from 'path';
import { legendStops } from '../../shared/colour';
import { vegaLiteSvg } from '../plots';
import { MAP_KINDS, type RegionSum } from '../../shared/result';
import { writeFileAtomic } from '../files';
import { SCORE_BINS } from './summary';
import { compareHeadline, differenceInWords, groupsSection, rate } from './groupsReport';
import { wilson } from '../../shared/rates';
import type { ErrorEntry, MapFiles, ModelSummary, PairListRecord, PairListSummary } from '../../shared/pairListSummary';

/** The run's pairs by index, and the data URIs of the thumbnails the report shows. */
interface ReportPairs {
  byIndex: ReadonlyMap<number, PairListRecord>;
  thumbs: ReadonlyMap<number, string>;
}

/** Rows of each error list shown in the report (summary.json holds them all), each with a thumbnail of about 10 KB. */
export const SHOWN_ERRORS = 50;

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
const url = (file: string) => file.split(path.sep).map(encodeURIComponent).join('/');

/** Score histograms of one model, one colour per label, with the threshold as a rule. */
function histogram(model: ModelSummary): Promise<string> {
  const width = (SCORE_BINS.max - SCORE_BINS.min) / SCORE_BINS.count;
  const values = Object.entries(model.scores).flatMap(([label, stats]) =>
    stats.histogram.map((count, i) => ({ label, start: SCORE_BINS.min + i * width, end: SCORE_BINS.min + (i + 1) * width, count })),
  );
  return vegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Scores per label (${model.name}, t = ${model.threshold.toFixed(4)})`,
    width: 520,
    height: 240,
    background: 'white',
    layer: [
      {
        data: { values },
        mark: { type: 'bar', opacity: 0.6 },
        encoding: {
          x: { field: 'start', type: 'quantitative', title: 'cosine score', scale: { domain: [SCORE_BINS.min, SCORE_BINS.max] } },
          x2: { field: 'end' },
          y: { field: 'count', type: 'quantitative', title: 'pairs', stack: null },
          color: { field: 'label', type: 'nominal', title: 'label' },
        },
      },
      { data: { values: [{ t: model.threshold }] }, mark: { type: 'rule', strokeDash: [4, 3], color: 'black' }, encoding: { x: { field: 't', type: 'quantitative' } } },
    ],
  });
}

function figure(files: MapFiles, caption: string): string {
  return `<figure><img alt="${escapeHtml(caption)}" src="${url(files.png)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

const legend = (kind: 'similarity' | 'dissimilarity' | 'combined', lo: string, hi: string) =>
  `<div class="legend"><span>${lo}</span><i style="background:linear-gradient(to right,${legendStops(kind).join(',')})"></i><span>${hi}</span></div>`;

/** A pair's thumbnail; a pair that was scored but not explained has none. */
const thumb = (pairs: ReportPairs, p: PairListRecord) => {
  const uri = pairs.thumbs.get(p.index);
  return uri ? `<img class="thumb" alt="pair ${p.index}" src="${uri}">` : 'not explained';
};

function errorTable(pairs: ReportPairs, title: string, errors: readonly ErrorEntry[]): string {
  const rows = errors.slice(0, SHOWN_ERRORS).map((e) => {
    const p = pairs.byIndex.get(e.index)!;
    return `<tr><td>${thumb(pairs, p)}</td><td>${e.index}</td><td>${escapeHtml(path.basename(p.a))}</td><td>${escapeHtml(path.basename(p.b))}</td><td>${e.score.toFixed(4)}</td><td>${e.margin >= 0 ? '+' : ''}${e.margin.toFixed(4)}</td></tr>`;
  });
  const more = errors.length > SHOWN_ERRORS ? `<p>… ${errors.length - SHOWN_ERRORS} more in summary.json.</p>` : '';
  return `<h3>${title} (${errors.length})</h3>${errors.length ? `<table><tr><th>pair</th><th>#</th><th>A</th><th>B</th><th>score</th><th>margin</th></tr>${rows.join('')}</table>${more}` : '<p>none</p>'}`;
}

async function modelSection(pairs: ReportPairs, model: ModelSummary): Promise<string> {
  const counts = Object.values(model.counts).map((n) => `<td>${n}</td>`).join('');
  const aggregates = model.aggregates
    .map((g) => `<div class="row"><b class="group">${g.group}<br>${g.pairs} pair(s)</b>${MAP_KINDS.map((k) => figure(g.maps[k], k)).join('')}</div>`)
    .join('');
  return `<section><h2>${model.key}: ${escapeHtml(model.name)}</h2>
<p>Threshold ${model.threshold.toFixed(4)} (${model.thresholdSource}) · FMR ${rate(wilson(model.counts['false match'], model.impostor))} of the impostor pairs · FNMR ${rate(wilson(model.counts['false non-match'], model.genuine))} of the genuine pairs (brackets: 95 % Wilson intervals, then errors/pairs)</p>
<table><tr>${Object.keys(model.counts).map((k) => `<th>${k}</th>`).join('')}</tr><tr>${counts}</tr></table>
${await histogram(model)}
${errorTable(pairs, 'False matches, farthest from the threshold first', model.falseMatches)}
${errorTable(pairs, 'False non-matches, farthest from the threshold first', model.falseNonMatches)}
<h3>Mean maps per group (both faces of each pair pooled, over the group's mean aligned face)</h3>${aggregates || '<p>no labelled pairs</p>'}
${regionTable(model)}
</section>`;
}

/**
 * The groups' mean maps summed over the template's face regions: per region and group the
 * combined sum (supporting minus opposing), and the FNM − TM difference, the headline in numbers.
 */
function regionTable(model: ModelSummary): string {
  const groups = model.aggregates.filter((g) => g.regions);
  if (!groups.length) return '';
  const names = groups[0].regions!.map((r) => r.name);
  const cell = (v: number) => `<td class="${v >= 0 ? 'sup' : 'opp'}">${v.toExponential(2)}</td>`;
  const diff = model.fnmMinusTmRegions;
  const rows = names.map((name, i) => `<tr><td>${name}</td>${groups.map((g) => cell(g.regions![i].combined)).join('')}${diff ? cell(diff[i].combined) : ''}</tr>`).join('');
  return `<h3>Face regions: sum of the mean combined map per group (template regions; left/right as seen)</h3>
<table class="regions"><tr><th>region</th>${groups.map((g) => `<th>${g.group}</th>`).join('')}${diff ? '<th>FNM − TM</th>' : ''}</tr>${rows}</table>`;
}

/** The headline in words: the regions where false non-matches lose or gain the most against true matches. */
export const headlineInWords = (regions: readonly RegionSum[]) => differenceInWords(regions, 'true matches', 'false non-matches');

function headline(summary: PairListSummary): string {
  const maps = summary.models.filter((m) => m.fnmMinusTm);
  if (!maps.length) return '<p>No headline map: it needs both true matches and false non-matches.</p>';
  return `<section class="headline"><h2>Where false non-matches differ from true matches</h2>
<div class="row">${maps.map((m) => figure(m.fnmMinusTm!, `${m.key}: mean combined map over FNM − over TM`)).join('')}</div>
${maps.filter((m) => m.fnmMinusTmRegions).map((m) => `<p>${maps.length > 1 ? `${m.key}: ` : ''}${headlineInWords(m.fnmMinusTmRegions!)}</p>`).join('')}
${legend('combined', 'less similarity in FNM', 'more similarity in FNM')}</section>`;
}

function comparison(summary: PairListSummary, pairs: ReportPairs): string {
  const c = summary.comparison;
  if (!c) return '';
  const rows = c.disagreements.slice(0, SHOWN_ERRORS).map((i) => {
    const p = pairs.byIndex.get(i)!;
    const [a, b] = p.outcomes!;
    return `<tr><td>${thumb(pairs, p)}</td><td>${i}</td><td>${p.label ?? '–'}</td><td>${a.decision} (${a.score.toFixed(4)})</td><td>${b.decision} (${b.score.toFixed(4)})</td></tr>`;
  });
  const differences = c.aggregates
    .map((g) => `<div class="row"><b class="group">${g.group}<br>${g.pairs[0]} / ${g.pairs[1]} pair(s)</b>${MAP_KINDS.map((k) => figure(g.maps[k], `${k}: A − B`)).join('')}</div>`)
    .join('');
  return `<section><h2>Model A against model B</h2>
<h3>Pairs where the decisions disagree (${c.disagreements.length})</h3>
${rows.length ? `<table><tr><th>pair (rows: A, B, A − B)</th><th>#</th><th>label</th><th>model A</th><th>model B</th></tr>${rows.join('')}</table>` : '<p>none</p>'}
${c.mapsComparable ? `<h3>Mean maps, model A − model B, per group</h3>${differences || '<p>no group has pairs under both models</p>'}${legend('combined', 'B higher', 'A higher')}` : `<p>⚠ ${escapeHtml(c.note ?? '')}</p>`}
</section>`;
}

export async function writeReport(out: string, summary: PairListSummary, records: readonly PairListRecord[], thumbnail: (r: PairListRecord) => Promise<Buffer | undefined>): Promise<void> {
  const byIndex = new Map(records.map((r) => [r.index, r]));
  const shown = [summary.comparison?.disagreements ?? [], ...summary.models.flatMap((m) => [m.falseMatches, m.falseNonMatches].map((l) => l.map((e) => e.index)))];
  const thumbs = new Map<number, string>();
  for (const index of new Set(shown.flatMap((list) => list.slice(0, SHOWN_ERRORS)))) {
    const png = await thumbnail(byIndex.get(index)!);
    if (png) thumbs.set(index, `data:image/png;base64,${png.toString('base64')}`);
  }
  const pairs = { byIndex, thumbs };
  const sections = [];
  for (const model of summary.models) sections.push(await modelSection(pairs, model));
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xSSAB pair list report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
table.regions td{text-align:right;font-variant-numeric:tabular-nums}td.sup{color:#14622a}td.opp{color:#a11d12}
.row{display:flex;flex-wrap:wrap;gap:12px;align-items:center}figure{margin:0;text-align:center}figure img{width:168px;height:168px;image-rendering:pixelated}
.headline figure img{width:280px;height:280px}.group{width:110px}.thumb{height:64px;image-rendering:pixelated}
.small{color:#888}.legend{display:flex;align-items:center;gap:6px;font-size:12px}.legend i{display:inline-block;width:160px;height:10px}</style>
</head><body>
<h1>xSSAB: explained pair list</h1>
<p>${escapeHtml(summary.list)}${summary.lfwRoot ? ` (LFW at ${escapeHtml(summary.lfwRoot)})` : ''}${summary.shard.count > 1 ? ` · shard ${summary.shard.index}/${summary.shard.count}` : ''} ·
${summary.total} pairs scored, ${summary.explained} explained${summary.failed ? `, ${summary.failed} failed (see summary.json)` : ''}</p>
${compareHeadline(summary.groups, figure, (low, high) => legend('combined', low, high))}
${headline(summary)}
${await groupsSection(summary.groups, figure)}
${comparison(summary, pairs)}
${sections.join('\n')}
<p>Maps: mean over channels of |∂S/∂x| on the aligned frame; green = supports the match, red = opposes it. Data: summary.json, pairs.jsonl with images.jsonl (every pair), &lt;model&gt;.maps.npy and thumbs.bin (explained pairs), aggregate/.</p>
</body></html>
`;
  writeFileAtomic(path.join(out, 'report.html'), html);
}
