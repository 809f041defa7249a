// Writing an explained pair: result.json, the maps as .npy, PNG overlays and a self-contained report.
import * as fs from 'fs';
import * as path from 'path';
import { legendStops, overlay, rangeNote } from '../shared/colour';
import { encodeMap, float32FromBytes, type MapForm } from '../shared/mapCodec';
import type { ExplainedPair } from './pair';
import { projectMapToPhoto } from './face/align';
import { OutputError, prepareOutputDir } from './files';
import { encodePng, resizeRgb, type RgbImage } from './image';
import { npyBytes } from './npy';
import { regionSummary } from '../shared/regions';
import { type Affine, type EncodedMap, type ExplanationPayload, MAP_KINDS, type MapData, type MapKind, type RegionSum, SIDES } from '../shared/result';

/** Opacity of the maps in the written overlays. */
export const OVERLAY_OPACITY = 0.9;

/**
 * Longest side of the photo overlays: enough to see the maps on the photo, without writing a
 * phone photo's full size three times per face (9 MP: ~1 s and ~8 MB each).
 */
export const PHOTO_OVERLAY_MAX_SIDE = 1024;

/** The photo reduced to at most PHOTO_OVERLAY_MAX_SIDE px, and the photo → crop transform of the reduced photo. */
export async function overlayPhoto(photo: RgbImage, transform: Affine): Promise<{ photo: RgbImage; transform: Affine }> {
  const longest = Math.max(photo.width, photo.height);
  if (longest <= PHOTO_OVERLAY_MAX_SIDE) return { photo, transform };
  const width = Math.max(1, Math.round((photo.width * PHOTO_OVERLAY_MAX_SIDE) / longest));
  const height = Math.max(1, Math.round((photo.height * PHOTO_OVERLAY_MAX_SIDE) / longest));
  // Reduced pixel (x', y') is the photo's ((x' + 0.5)·sx − 0.5, (y' + 0.5)·sy − 0.5).
  const sx = photo.width / width, sy = photo.height / height;
  const ox = 0.5 * sx - 0.5, oy = 0.5 * sy - 0.5;
  const [a, b, c, d, e, f] = transform;
  return {
    photo: await resizeRgb(photo, width, height),
    transform: [a * sx, b * sy, a * ox + b * oy + c, d * sx, e * sy, d * ox + e * oy + f],
  };
}

/** Reads a float32 .npy file written by npyBytes: its values and shape. */
export function readNpy(file: string): { data: Float32Array; shape: number[] } {
  const bytes = fs.readFileSync(file);
  const header = bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString('latin1');
  const shape = /'shape': \(([^)]*)\)/.exec(header);
  if (bytes.subarray(0, 6).toString('latin1') !== '\x93NUMPY' || !header.includes("'descr': '<f4'") || !shape) {
    throw new OutputError(`${file}: not a little-endian float32 .npy file`);
  }
  const data = float32FromBytes(bytes.subarray(10 + header.length));
  return { data, shape: shape[1].split(',').filter((v) => v.trim()).map(Number) };
}

/** The explanation MIME payload: result.json plus the aligned crops and the maps (base64 unless another form is asked for). */
export function toPayload(pair: ExplainedPair): Promise<ExplanationPayload<EncodedMap>>;
export function toPayload<M extends MapData>(pair: ExplainedPair, form: MapForm<M>): Promise<ExplanationPayload<M>>;
export async function toPayload(pair: ExplainedPair, form: MapForm<MapData> = encodeMap): Promise<ExplanationPayload> {
  const [h, w] = pair.result.model.inputSize;
  const images = {} as ExplanationPayload['images'];
  const maps = {} as ExplanationPayload['maps'];
  for (const [i, side] of SIDES.entries()) {
    const crop = pair.faces[i].crop;
    images[side] = `data:image/png;base64,${(await encodePng(crop.width, crop.height, 3, crop.data)).toString('base64')}`;
    maps[side] = Object.fromEntries(MAP_KINDS.map((k) => [k, form(pair.maps[i][k], [h, w])])) as Record<MapKind, MapData>;
  }
  return { ...pair.result, images, maps };
}

/**
 * Writes every output file of one pair into `dir` and returns their names; with `overlays: false`
 * only result.json, the aligned crops and the .npy maps (what a viewer needs to redraw the pair).
 */
export async function writeExplanation(dir: string, pair: ExplainedPair, { overlays = true } = {}): Promise<string[]> {
  prepareOutputDir(dir);
  const written: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    fs.writeFileSync(path.join(dir, name), data);
    written.push(name);
  };
  const { result } = pair;
  const [h, w] = result.model.inputSize;
  write('result.json', JSON.stringify(result, null, 2) + '\n');
  const pngs: Record<string, string> = {};
  for (const [i, side] of SIDES.entries()) {
    const { crop, photo, info } = pair.faces[i];
    const onPhoto = overlays && info.transform ? await overlayPhoto(photo, info.transform) : undefined;
    const cropPng = await encodePng(w, h, 3, crop.data);
    write(`${side}_aligned.png`, cropPng);
    pngs[`${side}_aligned`] = cropPng.toString('base64');
    for (const kind of MAP_KINDS) {
      const map = pair.maps[i][kind];
      const range = result.ranges[side][kind];
      write(`${side}_${kind}.npy`, npyBytes(map, [h, w]));
      if (!overlays) continue;
      const png = await encodePng(w, h, 3, overlay(map, kind, range, OVERLAY_OPACITY, crop.data));
      write(`${side}_${kind}.png`, png);
      pngs[`${side}_${kind}`] = png.toString('base64');
      if (onPhoto) {
        const { photo: shown, transform } = onPhoto;
        const projected = projectMapToPhoto(map, w, h, transform, shown.width, shown.height);
        write(`${side}_${kind}_photo.png`, await encodePng(shown.width, shown.height, 3, overlay(projected, kind, range, OVERLAY_OPACITY, shown.data)));
      }
    }
  }
  if (overlays) write('report.html', reportHtml(pair, pngs));
  return written;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number, digits = 4) => v.toFixed(digits);

function legend(kind: MapKind, [lo, hi]: [number, number], percentile: number): string {
  const notes = [kind === 'combined' ? '' : 'shared by similarity and dissimilarity', rangeNote(percentile)].filter(Boolean).join('; ');
  return `<div class="legend"><span>${lo.toExponential(2)}</span><i style="background:linear-gradient(to right,${legendStops(kind).join(',')})"></i><span>${hi.toExponential(2)}</span></div><small>${notes}</small>`;
}

/** The maps summed over face regions: each region's share of the image's similarity and dissimilarity, and its combined sum. */
function regionTable(regions: readonly RegionSum[], fromTemplate: boolean): string {
  const total = (kind: 'similarity' | 'dissimilarity') => regions.reduce((s, r) => s + r[kind], 0) || 1;
  const [s, d] = [total('similarity'), total('dissimilarity')];
  const rows = regions
    .map((r) => `<tr><td>${r.name}</td><td>${r.pixels}</td><td>${((100 * r.similarity) / s).toFixed(1)} %</td><td>${((100 * r.dissimilarity) / d).toFixed(1)} %</td><td class="${r.combined >= 0 ? 'match' : 'nomatch'}">${r.combined.toExponential(2)}</td></tr>`)
    .join('');
  return `<table class="regions"><caption>Face regions (${fromTemplate ? "the aligned template's" : "from the face's 68 landmarks"}; left/right as seen): ${regionSummary(regions)}</caption><tr><th>region</th><th>pixels</th><th>supports (share of similarity)</th><th>opposes (share of dissimilarity)</th><th>combined sum</th></tr>${rows}</table>`;
}

/** A self-contained HTML page (images inline) summarising one explanation. */
export function reportHtml(pair: ExplainedPair, pngs: Record<string, string>): string {
  const r = pair.result;
  const top = r.arguments
    .map((v, n) => ({ v, n }))
    .sort((p, q) => Math.abs(q.v) - Math.abs(p.v))
    .slice(0, 16);
  const maxArg = Math.max(...top.map((t) => Math.abs(t.v)), 1e-12);
  const bars = top
    .map(
      ({ v, n }) =>
        `<tr><td>dim ${n}</td><td><b class="${v >= r.split.beta ? 'sup' : 'opp'}" style="width:${((100 * Math.abs(v)) / maxArg).toFixed(1)}%"></b></td><td>${fmt(v, 5)}</td></tr>`,
    )
    .join('');
  const faces = SIDES.map((side) => {
    const info = r[side];
    const cells = MAP_KINDS.map(
      (kind) => `<figure><img alt="${side} ${kind}" src="data:image/png;base64,${pngs[`${side}_${kind}`]}"><figcaption>${kind}</figcaption>${legend(kind, r.ranges[side][kind], r.rangePercentile ?? 100)}</figure>`,
    ).join('');
    return `<section><h2>${side.toUpperCase()}: ${escapeHtml(path.basename(info.path))}</h2><div class="row"><figure><img alt="${side} aligned" src="data:image/png;base64,${pngs[`${side}_aligned`]}"><figcaption>aligned (${info.alignment})</figcaption></figure>${cells}</div>${info.regions ? regionTable(info.regions, !info.regionLandmarks) : ''}</section>`;
  }).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>xSSAB: ${escapeHtml(path.basename(r.a.path))} vs ${escapeHtml(path.basename(r.b.path))}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
.row{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;text-align:center}img{width:168px;height:168px;image-rendering:pixelated}
.legend{display:flex;align-items:center;gap:4px;font-size:11px}figure small{display:block;max-width:168px;font-size:10px;color:#555}.legend i{display:inline-block;width:80px;height:10px}
table{border-collapse:collapse}td{padding:2px 8px}td:nth-child(2){width:240px}
table.regions{margin-top:8px;font-size:12px}table.regions td,table.regions th{width:auto;text-align:right;padding:1px 8px}table.regions caption{text-align:left}
b{display:block;height:10px}b.sup{background:#1a9850}b.opp{background:#d73027}
.match{color:#1a7a3a}.nomatch{color:#b22}
</style></head><body>
<h1>xSSAB explanation</h1>
<p><b class="${r.decision === 'match' ? 'match' : 'nomatch'}" style="display:inline">${r.decision.toUpperCase()}</b>:
cosine score ${fmt(r.score)} vs threshold ${fmt(r.threshold)} (${r.thresholdSource}), margin ${r.margin >= 0 ? '+' : ''}${fmt(r.margin)}.
Model ${escapeHtml(r.model.name)} on ${escapeHtml(r.ep)}, ${r.timings.totalMs.toFixed(0)} ms.</p>
<p>Supporting dimensions (a<sub>n</sub> ≥ β = ${r.split.beta.toExponential(3)}): ${r.split.supporting.count}, sum ${fmt(r.split.supporting.sum)};
opposing: ${r.split.opposing.count}, sum ${fmt(r.split.opposing.sum)}.</p>
${r.warnings.map((w) => `<p>⚠ ${escapeHtml(w)}</p>`).join('')}
${faces}
<h2>Largest arguments a<sub>n</sub> = ê<sub>A,n</sub>·ê<sub>B,n</sub></h2><table>${bars}</table>
<p>Maps: mean over channels of |∂S/∂x| at the model input; green = supports the match, red = opposes it.</p>
</body></html>
`;
}
