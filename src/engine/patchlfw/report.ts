// DPR results: curves, areas under them, their difference to the random order, timings, and the
// files of a report (results.json, results.csv, scores.csv, fmr/fnmr plots, report.html).
import * as path from 'path';
import sharp from 'sharp';
import { errorRates } from '../verification';
import { vegaLiteSvg } from '../plots';
import { writeFileAtomic } from '../files';
import { mergeShardRecords } from '../runFiles';
import { type PairRecord, RECORDS_FILE, RUN_FILE, type RunSettings, type Strategy, LEVELS } from './dpr';
import { LfwError } from './lfw';
import { paramsText } from '../methods/registry';
import { REFERENCE_JPEG_QUALITY } from './reference';

export interface CurvePoint {
  /** Replaced share in percent (0 = the patched pairs as built). */
  level: number;
  fmr: number;
  fnmr: number;
  impostorsAccepted: number;
  genuineRejected: number;
}

export interface Curve {
  /** `none` for the random order, which uses no map. */
  method: string;
  strategy: Strategy;
  points: CurvePoint[];
  /** Trapezoid area over p ∈ [0, 0.95] (p as a fraction). */
  aucFmr: number;
  aucFnmr: number;
  /** Area minus the random order's area: negative = falls faster than random. */
  deltaFmr: number;
  deltaFnmr: number;
}

export interface DprSummary {
  settings: RunSettings;
  genuine: number;
  impostor: number;
  curves: Curve[];
  /** Mean time of each method's map per pair, in ms. */
  msPerPair: Record<string, number>;
}

/** Trapezoid area of values given at `levels` percent, with p as a fraction. */
export function areaUnder(levels: readonly number[], values: readonly number[]): number {
  let area = 0;
  for (let i = 1; i < levels.length; i++) area += ((levels[i] - levels[i - 1]) / 100) * ((values[i] + values[i - 1]) / 2);
  return area;
}

export function summarise(settings: RunSettings, records: readonly PairRecord[]): DprSummary {
  const levels = [0, ...LEVELS];
  const genuine = records.filter((r) => r.label === 'same');
  const impostor = records.filter((r) => r.label === 'different');
  const curve = (method: Curve['method'], strategy: Strategy, scores: (r: PairRecord) => number[]): Omit<Curve, 'deltaFmr' | 'deltaFnmr'> => {
    const points = levels.map((level, l) => {
      const at = (r: PairRecord) => (l === 0 ? r.patched : scores(r)[l - 1]);
      const rates = errorRates(genuine.map(at), impostor.map(at), settings.threshold);
      return { level, ...rates, impostorsAccepted: Math.round(rates.fmr * impostor.length), genuineRejected: Math.round(rates.fnmr * genuine.length) };
    });
    return { method, strategy, points, aucFmr: areaUnder(levels, points.map((p) => p.fmr)), aucFnmr: areaUnder(levels, points.map((p) => p.fnmr)) };
  };
  const random = curve('none', 'random', (r) => r.random);
  const curves = [
    ...settings.methods.map(({ name }) => curve(name, 'best_worst', (r) => r.methods[name].bestWorst)),
    random,
  ].map((c) => ({ ...c, deltaFmr: c.aucFmr - random.aucFmr, deltaFnmr: c.aucFnmr - random.aucFnmr }));
  const msPerPair = Object.fromEntries(
    settings.methods.map(({ name }) => [name, records.reduce((s, r) => s + r.methods[name].ms, 0) / Math.max(records.length, 1)]),
  );
  return { settings, genuine: genuine.length, impostor: impostor.length, curves, msPerPair };
}

const series = (c: Curve) => `${c.method === 'none' ? 'random order' : `${c.method} best_worst`}`;

/** A line chart of one rate against the replaced share, one line per method and strategy. */
async function plot(summary: DprSummary, rate: 'fmr' | 'fnmr'): Promise<string> {
  const values = summary.curves.flatMap((c) => c.points.map((p) => ({ level: p.level, value: p[rate], series: series(c) })));
  return vegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${rate.toUpperCase()} against the replaced share (${summary.settings.model.name}, t = ${summary.settings.threshold.toFixed(4)})`,
    width: 520,
    height: 320,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'level', type: 'quantitative', title: 'replaced share of the patched image (%)', scale: { domain: [0, 95] } },
      y: { field: 'value', type: 'quantitative', title: rate.toUpperCase(), scale: { domain: [0, 1] } },
      color: { field: 'series', type: 'nominal', title: 'method and strategy' },
      strokeDash: { condition: { test: "datum.series === 'random order'", value: [6, 4] }, value: [1, 0] },
    },
  });
}

function csv(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => r.join(',')).join('\n') + '\n';
}

const fixed = (v: number) => v.toFixed(4);

/** Writes results.json, results.csv, scores.csv, fmr/fnmr .svg and .png, and report.html. */
export async function writeReport(out: string, settings: RunSettings, records: readonly PairRecord[]): Promise<DprSummary> {
  const summary = summarise(settings, records);
  writeFileAtomic(path.join(out, 'results.json'), JSON.stringify(summary, null, 1) + '\n');
  const n = { same: summary.genuine, different: summary.impostor };
  writeFileAtomic(
    path.join(out, 'results.csv'),
    csv([
      ['method', 'strategy', 'level', 'FMR', 'FNMR', 'impostors_accepted', 'impostors', 'genuine_rejected', 'genuine'],
      ...summary.curves.flatMap((c) =>
        c.points.map((p) => [c.method, c.strategy, p.level, fixed(p.fmr), fixed(p.fnmr), p.impostorsAccepted, n.different, p.genuineRejected, n.same]),
      ),
    ]),
  );
  writeFileAtomic(
    path.join(out, 'scores.csv'),
    csv([
      ['index', 'label', 'method', 'strategy', 'level', 'score'],
      ...records.flatMap((r) => [
        [r.index, r.label, 'none', 'unpatched', 0, fixed(r.original)],
        [r.index, r.label, 'none', 'patched', 0, fixed(r.patched)],
        ...r.random.map((s, l) => [r.index, r.label, 'none', 'random', LEVELS[l], fixed(s)]),
        ...settings.methods.flatMap(({ name }) => r.methods[name].bestWorst.map((s, l) => [r.index, r.label, name, 'best_worst', LEVELS[l], fixed(s)])),
      ]),
    ]),
  );
  const svgs: Record<string, string> = {};
  for (const rate of ['fmr', 'fnmr'] as const) {
    svgs[rate] = await plot(summary, rate);
    writeFileAtomic(path.join(out, `${rate}.svg`), svgs[rate]);
    writeFileAtomic(path.join(out, `${rate}.png`), await sharp(Buffer.from(svgs[rate]), { density: 144 }).png().toBuffer());
  }
  writeFileAtomic(path.join(out, 'report.html'), reportHtml(summary, svgs));
  return summary;
}

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;

/** The summary table as Markdown (for the README and the console). */
export function summaryTable(summary: DprSummary): string {
  const rows = summary.curves.map((c) => {
    const ms = c.method === 'none' ? '–' : (summary.msPerPair[c.method] ?? 0).toFixed(0);
    const delta = (v: number) => (c.method === 'none' ? '–' : signed(v));
    const setting = summary.settings.methods.find((m) => m.name === c.method);
    const params = setting ? paramsText(setting) || '–' : randomOrderText(summary.settings);
    return `| ${c.method === 'none' ? '(no map)' : c.method} | ${params} | ${c.strategy} | ${fixed(c.aucFmr)} | ${delta(c.deltaFmr)} | ${fixed(c.aucFnmr)} | ${delta(c.deltaFnmr)} | ${ms} |`;
  });
  return [
    '| method | parameters | strategy | AUC FMR | Δ to random | AUC FNMR | Δ to random | map time per pair (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The random order's parameters: its seed, and with the reference's arithmetic that it is one numpy permutation. */
const randomOrderText = (s: RunSettings) => (s.referenceCompat ? `numpy seed=${s.seed}, one order for all pairs` : `seed=${s.seed}`);

/** Which arithmetic a run used, in words. */
export function arithmeticText(s: RunSettings): string {
  return s.referenceCompat
    ? `the reference code's (--reference-compat): levels np.arange(0.05, 1, 0.05), int() pixel counts, strict comparisons against the bound, one numpy permutation (seed ${s.seed}) as every pair's random order, the patched, replaced and partner faces scored after JPEG round trips at quality ${REFERENCE_JPEG_QUALITY}`
    : `the spec's: exactly round(p·H·W) pixels per level, ties by pixel index, one random order per pair (seed ${s.seed})`;
}

/** Per method of this run: does its best_worst curve fall below the random order on each rate (spec §5.6)? */
export function verdicts(summary: DprSummary): string[] {
  const below = (d: number) => (d < 0 ? 'below random' : 'not below random');
  return summary.curves
    .filter((c) => c.method !== 'none')
    .map((c) => `${c.method}: FMR ${below(c.deltaFmr)} (Δ ${signed(c.deltaFmr)}), FNMR ${below(c.deltaFnmr)} (Δ ${signed(c.deltaFnmr)})`);
}

/**
 * The measured finding on the bundled model, stated in every report so a run is read against it
 * (README, Patch-Samples, has the measurements).
 */
export const FNMR_FINDING =
  'Measured (README, Patch-Samples): with the bundled model, xSSAB\'s combined map falls below random on FMR (AUC 0.0023 against 0.0055) ' +
  'but not on FNMR (0.5125 against 0.4875; on all 771 offline pairs 0.644 against 0.606): for this model the similarity and dissimilarity ' +
  'maps are alike (pixel correlation 0.60), so their difference does not find the planted patches. With another model (faceplugin\'s ' +
  'fr_feature, 771 pairs) it passes both (FMR 0.0086 against 0.0133, FNMR 0.5801 against 0.6090): the FNMR result depends on the model. ' +
  'smoothgrad-xssab, SmoothGrad over xSSAB (not the paper\'s method), passes both on Patch-Samples with the bundled model (FMR 0.0039, FNMR 0.3906).';

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

function reportHtml(summary: DprSummary, svgs: Record<string, string>): string {
  const s = summary.settings;
  const table = summaryTable(summary)
    .split('\n')
    .filter((_, i) => i !== 1)
    .map((line, i) => {
      const cells = line.split('|').slice(1, -1).map((c) => escapeHtml(c.trim()));
      const tag = i === 0 ? 'th' : 'td';
      return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DPR report</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:nth-child(2),td:nth-child(3){text-align:left}.plots{display:flex;flex-wrap:wrap;gap:1em}</style>
</head><body>
<h1>Decision-based Patch Replacement</h1>
<p>Model ${escapeHtml(s.model.name)} · threshold ${s.threshold.toFixed(4)} (${escapeHtml(s.thresholdSource)}${s.eer === undefined ? '' : `, EER ${(s.eer * 100).toFixed(2)}%`}) ·
${summary.genuine} genuine and ${summary.impostor} impostor pairs · methods ${escapeHtml(s.methods.map((m) => (paramsText(m) ? `${m.name} (${paramsText(m)})` : m.name)).join(', '))} · random order seed ${s.seed}
${s.shard.count > 1 ? ` · shard ${s.shard.index}/${s.shard.count}` : ''}</p>
<p>Arithmetic: ${escapeHtml(arithmeticText(s))}.</p>
<p>Area under each curve over p ∈ [0, 0.95] (trapezoid, p as a fraction) and its difference to the random order: a map that points at the regions behind the decision falls faster than random (negative Δ).</p>
<table>
${table}
</table>
<div class="plots">${svgs.fmr}${svgs.fnmr}</div>
<h2>Reading it</h2>
<ul>${verdicts(summary).map((v) => `<li>${escapeHtml(v)}</li>`).join('')}</ul>
<p>${escapeHtml(FNMR_FINDING)}</p>
<p>Data: results.json, results.csv (per method, strategy and level), scores.csv (per pair).</p>
</body></html>
`;
}

/**
 * Joins the outputs of `--shard i/n` runs into one run in `out` and writes its report (of the pairs
 * found: genuine + impostor < settings.pairs tells that shards are missing or unfinished).
 */
export async function mergeShards(out: string, shardDirs: readonly string[]): Promise<DprSummary> {
  const { settings, records } = mergeShardRecords<RunSettings, PairRecord>(out, shardDirs, {
    settingsFile: RUN_FILE,
    recordsFile: RECORDS_FILE,
    error: (message) => new LfwError(message),
  });
  return writeReport(out, settings, records);
}
