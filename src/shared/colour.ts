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

function extent(values: ArrayLike<number>): Range {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** Legend ranges of one image's maps: similarity and dissimilarity share min..max, combined is ±max|C|. */
export function mapRanges(maps: Record<MapKind, ArrayLike<number>>): Record<MapKind, Range> {
  const [s, d] = [extent(maps.similarity), extent(maps.dissimilarity)];
  const shared: Range = [Math.min(s[0], d[0]), Math.max(s[1], d[1])];
  const [lo, hi] = extent(maps.combined);
  const m = Math.max(Math.abs(lo), Math.abs(hi));
  return { similarity: shared, dissimilarity: [...shared], combined: [-m, m] };
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
