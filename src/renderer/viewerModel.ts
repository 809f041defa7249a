// The viewer's model: the pure logic under the explanation view (no DOM): decoding the
// transported maps, the values under the cursor, the strongest arguments, map colours, and the
// geometry between the crop, the photo and the canvases.
//
// Coordinates follow the engine's convention: the centre of pixel (column i, row j) is (i, j), in
// both the aligned crop and the photo; a result's `transform` maps photo → crop.
import { gaussianBlur } from '../shared/blur';
import { colourOf, DEFAULT_RANGE_PERCENTILE, mapRanges, overlayWeight, type Range } from '../shared/colour';
import { invertAffine, type Point } from '../shared/alignment';
import { decodeMap } from '../shared/mapCodec';
import { regionLabels, templateLandmarks } from '../shared/regions';
import { type Affine, type ImageInfo, MAP_KINDS, type MapData, type MapKind } from '../shared/result';

const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

/** The three maps of one face decoded for display, with their size (the engine's FaceMaps has none). */
export interface DecodedFaceMaps {
  width: number;
  height: number;
  values: Record<MapKind, Float32Array>;
}

export function decodeFaceMaps(maps: Record<MapKind, MapData>): DecodedFaceMaps {
  const [height, width] = maps.combined.shape;
  const values = {} as Record<MapKind, Float32Array>;
  for (const kind of MAP_KINDS) {
    const [h, w] = maps[kind].shape;
    if (h !== height || w !== width) throw new Error(`the ${kind} map is ${h}×${w}, the combined map ${height}×${width}`);
    values[kind] = decodeMap(maps[kind]);
  }
  return { width, height, values };
}

/** The three map values at pixel (x, y); null outside the map or between pixels. */
export function valuesAt(maps: DecodedFaceMaps, x: number, y: number): Record<MapKind, number> | null {
  if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= maps.width || y >= maps.height) return null;
  const i = y * maps.width + x;
  return { combined: maps.values.combined[i], similarity: maps.values.similarity[i], dissimilarity: maps.values.dissimilarity[i] };
}

export interface Argument {
  dim: number;
  value: number;
}

/**
 * The `count` largest supporting arguments (a_n ≥ β, largest first) and the `count` largest
 * opposing ones (a_n < β, most negative first), ties by dimension.
 */
export function topArguments(args: readonly number[], beta: number, count: number): { supporting: Argument[]; opposing: Argument[] } {
  const all = args.map((value, dim) => ({ dim, value }));
  const supporting = all.filter((a) => a.value >= beta).sort((p, q) => q.value - p.value || p.dim - q.dim);
  const opposing = all.filter((a) => a.value < beta).sort((p, q) => p.value - q.value || p.dim - q.dim);
  return { supporting: supporting.slice(0, count), opposing: opposing.slice(0, count) };
}

/** The pixel under a client position, for an element showing a width×height image; null outside. */
export function clientToPixel(
  rect: { left: number; top: number; width: number; height: number },
  clientX: number,
  clientY: number,
  width: number,
  height: number,
): Point | null {
  if (!(rect.width > 0 && rect.height > 0)) return null;
  const x = Math.floor(((clientX - rect.left) / rect.width) * width);
  const y = Math.floor(((clientY - rect.top) / rect.height) * height);
  return x >= 0 && y >= 0 && x < width && y < height ? [x, y] : null;
}

/**
 * RGBA pixels of a map: the colour of each value on its scale, with alpha = the value's overlay
 * weight. Drawn over the face at opacity o, this gives colour.ts `overlay(…, o, …)`.
 */
export function mapRgba(values: ArrayLike<number>, kind: MapKind, range: Range): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length * 4);
  for (let p = 0; p < values.length; p++) {
    if (Number.isNaN(values[p])) continue; // transparent
    out.set(colourOf(kind, values[p], range), p * 4);
    out[p * 4 + 3] = Math.round(255 * overlayWeight(kind, values[p], range));
  }
  return out;
}

/** Photo → crop transform of a face, when the viewer can project its maps onto the photo. */
export function photoTransform(info: ImageInfo): Affine | undefined {
  return info.transform ?? (info.alignment === 'crop' ? IDENTITY : undefined);
}

/**
 * The canvas matrix (ctx.setTransform order a, b, c, d, e, f) that draws a crop-sized canvas onto
 * a photo-sized canvas. Canvas coordinates put pixel centres at +0.5, hence the shifts around
 * the inverse of the photo → crop transform.
 */
export function cropToPhotoCanvasMatrix(transform: Affine): [number, number, number, number, number, number] {
  const [a, b, c, d, e, f] = invertAffine(transform);
  return [a, d, b, e, c + 0.5 - 0.5 * (a + b), f + 0.5 - 0.5 * (d + e)];
}

/** How a face's maps are shown: the contrast (the range's percentile, 100 = the maximum) and the display-only smoothing σ in crop pixels. */
export interface Display {
  percentile: number;
  smoothing: number;
}

export const SMOOTHING_MAX = 8;

/**
 * The values and colour ranges a face's maps are drawn with. As recorded (the explanation's own
 * ranges) unless the contrast differs from the recorded percentile or smoothing is on; smoothed
 * maps get their ranges from the smoothed values.
 */
export function displayedMaps(
  maps: DecodedFaceMaps,
  recorded: Record<MapKind, Range>,
  recordedPercentile: number | undefined,
  display: Display,
): { values: Record<MapKind, Float32Array>; ranges: Record<MapKind, Range> } {
  const smooth = display.smoothing > 0;
  if (!smooth && display.percentile === (recordedPercentile ?? 100)) return { values: maps.values, ranges: recorded };
  const values = smooth
    ? (Object.fromEntries(MAP_KINDS.map((k) => [k, gaussianBlur(maps.values[k], maps.width, maps.height, display.smoothing)])) as Record<MapKind, Float32Array>)
    : maps.values;
  return { values, ranges: mapRanges(values, display.percentile) };
}

export const DEFAULT_DISPLAY: Display = { percentile: DEFAULT_RANGE_PERCENTILE, smoothing: 0 };

/** The face region of every crop pixel, as the engine summed them (regions.ts): from the face's landmarks, else the template's. */
export function faceRegionLabels(info: ImageInfo, width: number, height: number): Uint8Array {
  return regionLabels(info.regionLandmarks ?? templateLandmarks(width, height), width, height);
}

/**
 * RGBA pixels outlining one region: its pixels that touch another region or the crop's border,
 * in `colour`, the rest transparent.
 */
export function regionOutline(labels: Uint8Array, region: number, width: number, height: number, colour: [number, number, number]): Uint8ClampedArray {
  const out = new Uint8ClampedArray(labels.length * 4);
  const other = (x: number, y: number) => x < 0 || y < 0 || x >= width || y >= height || labels[y * width + x] !== region;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (labels[y * width + x] !== region) continue;
      if (!(other(x - 1, y) || other(x + 1, y) || other(x, y - 1) || other(x, y + 1))) continue;
      out.set([...colour, 255], (y * width + x) * 4);
    }
  }
  return out;
}

/** A rectangle of the photo shown, [x, y, width, height] in photo pixels (edge coordinates). */
export type View = [number, number, number, number];

/** Margin around the explained face when the photo view zooms to it, as a share of the box's size on each side. */
export const ZOOM_MARGIN = 0.5;

/** The explained face's box widened by ZOOM_MARGIN on each side, within the photo. */
export function zoomView(box: readonly [number, number, number, number], width: number, height: number): View {
  const [x, y, w, h] = box;
  const x0 = Math.max(0, x - ZOOM_MARGIN * w), y0 = Math.max(0, y - ZOOM_MARGIN * h);
  const x1 = Math.min(width, x + w + ZOOM_MARGIN * w), y1 = Math.min(height, y + h + ZOOM_MARGIN * h);
  return [x0, y0, x1 - x0, y1 - y0];
}

/**
 * CSS of a square thumbnail `size` px wide of a face box, taken from the photo as a background
 * image: the box's longer side fills the thumbnail, centred.
 */
export function thumbnailStyle(box: readonly [number, number, number, number], width: number, height: number, size: number): { backgroundSize: string; backgroundPosition: string } {
  const side = Math.max(box[2], box[3]);
  const scale = size / side;
  const [cx, cy] = [box[0] + box[2] / 2, box[1] + box[3] / 2];
  const px = (v: number) => `${Math.round(v * 100) / 100}px`;
  return { backgroundSize: `${px(width * scale)} ${px(height * scale)}`, backgroundPosition: `${px(-(cx - side / 2) * scale)} ${px(-(cy - side / 2) * scale)}` };
}
