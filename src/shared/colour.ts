// Colour conventions of the maps (spec section 3), shared by the PNG writer and the browser viewer:
// similarity on a sequential green scale, dissimilarity on a sequential red scale (the two maps of
// one image share one range), the combined map on a red–yellow–green scale centred at 0.
import { rgb } from 'd3-color';
import { interpolateGreens, interpolateRdYlGn, interpolateReds } from 'd3-scale-chromatic';
import type { MapKind } from './result';

export type Range = [number, number];

const LUT_SIZE = 256;

function lookupTable(interpolate: (t: number) => string): Uint8Array {
  const lut = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const c = rgb(interpolate(i / (LUT_SIZE - 1)));
    lut.set([Math.round(c.r), Math.round(c.g), Math.round(c.b)], i * 3);
  }
  return lut;
}

const TABLES: Record<MapKind, Uint8Array> = {
  similarity: lookupTable(interpolateGreens),
  dissimilarity: lookupTable(interpolateReds),
  combined: lookupTable(interpolateRdYlGn),
};

/** The default colour range: the 99th percentile of |values|, so a handful of peak pixels do not set it. */
export const DEFAULT_RANGE_PERCENTILE = 99;

/**
 * The p-th percentile (0..100) of |v| over all non-NaN values of the given maps, linearly
 * interpolated between ranks as numpy's default does; 100 is the maximum, 0 for no values.
 */
export function absPercentile(maps: readonly ArrayLike<number>[], p: number): number {
  const total = maps.reduce((n, m) => n + m.length, 0);
  const all = new Float32Array(total);
  let n = 0;
  for (const m of maps) {
    for (let i = 0; i < m.length; i++) if (!Number.isNaN(m[i])) all[n++] = Math.abs(m[i]);
  }
  if (n === 0) return 0;
  const sorted = all.subarray(0, n).sort();
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (n - 1);
  const i = Math.floor(rank);
  return i + 1 < n ? sorted[i] + (sorted[i + 1] - sorted[i]) * (rank - i) : sorted[i];
}

/**
 * Colour ranges of one image's maps at the p-th percentile of |values| (values beyond are
 * saturated): similarity and dissimilarity share [0, r] with r taken over both maps; the
 * combined map is symmetric, [−r, r].
 */
export function mapRanges(maps: Record<MapKind, ArrayLike<number>>, percentile = DEFAULT_RANGE_PERCENTILE): Record<MapKind, Range> {
  const shared = absPercentile([maps.similarity, maps.dissimilarity], percentile);
  const c = absPercentile([maps.combined], percentile);
  return { similarity: [0, shared], dissimilarity: [0, shared], combined: [-c, c] };
}

/** How a legend says where its range ends: "clipped at the 99th percentile", or "maximum". */
export function rangeNote(percentile: number): string {
  if (percentile >= 100) return 'range: the maximum';
  const n = Math.round(percentile * 10) / 10;
  const suffix = n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th';
  return `clipped at the ${n}${suffix} percentile`;
}

/** WCAG 2 contrast ratio of two #rrggbb colours, 1…21. */
export function contrastRatio(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Position of a value on its scale, 0..1 (0.5 for an empty range). */
export function scalePosition(value: number, [lo, hi]: Range): number {
  if (!(hi > lo)) return 0.5;
  return Math.min(Math.max((value - lo) / (hi - lo), 0), 1);
}

/** The colour of a value on the scale of a map kind. */
export function colourOf(kind: MapKind, value: number, range: Range): [number, number, number] {
  const i = Math.round(scalePosition(value, range) * (LUT_SIZE - 1)) * 3;
  const t = TABLES[kind];
  return [t[i], t[i + 1], t[i + 2]];
}

/** CSS colour stops of a scale, for legends. */
export function legendStops(kind: MapKind, count = 9): string[] {
  return Array.from({ length: count }, (_, k) => {
    const [r, g, b] = colourOf(kind, k / (count - 1), [0, 1]);
    return `rgb(${r}, ${g}, ${b})`;
  });
}

/**
 * How strongly a value shows over the face: the square root of its share of the scale
 * (sequential maps) or of its distance from the centre (combined map). Weak attributions leave
 * the face visible; the root keeps mid-range values visible next to the heavy-tailed maxima
 * of raw gradient maps.
 */
export function overlayWeight(kind: MapKind, value: number, range: Range): number {
  const t = scalePosition(value, range);
  return Math.sqrt(kind === 'combined' ? Math.abs(2 * t - 1) : t);
}

/**
 * Blends a coloured map over an RGB image of the same size, at `opacity` times the value's
 * weight. Where the map is NaN (outside the explained region) the image shows unchanged.
 */
export function overlay(map: ArrayLike<number>, kind: MapKind, range: Range, opacity: number, image: Uint8Array): Uint8Array {
  const out = Uint8Array.from(image);
  for (let p = 0; p < map.length; p++) {
    if (Number.isNaN(map[p])) continue;
    const c = colourOf(kind, map[p], range);
    const alpha = opacity * overlayWeight(kind, map[p], range);
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round(c[k] * alpha + image[p * 3 + k] * (1 - alpha));
  }
  return out;
}
