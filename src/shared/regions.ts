// Named face regions of an aligned crop, and the maps summed over them: which parts of a face
// support or oppose the match, in words. Each pixel belongs to exactly one region (a label
// map), so the regions' sums add up to each map's total. Regions come from the face's 68 iBUG
// landmarks carried into the crop when it was detected, otherwise from a mean landmark shape
// on the aligned template. "Left" and "right" are as seen in the image.
// Browser-safe: the viewer draws the same regions.
import type { MapKind, RegionSum } from './result';

import type { Point } from './alignment';

export const REGION_NAMES = [
  'left eye',
  'right eye',
  'left brow',
  'right brow',
  'nose',
  'mouth',
  'left cheek',
  'right cheek',
  'chin',
  'forehead',
  'rest',
] as const;
export type RegionName = (typeof REGION_NAMES)[number];

/**
 * Mean 68-point shape of the 40 faces of samples/photos on the ArcFace 112×112 frame, each
 * carried through its own five-point alignment (scripts/make-region-template.ts prints it).
 */
const TEMPLATE_68_112: readonly Point[] = [
  [13.0, 49.8], [13.5, 61.0], [14.8, 72.2], [17.5, 83.0], [22.3, 92.7], [29.4, 100.8], [37.9, 107.5], [46.9, 113.0],
  [56.8, 114.7], [66.8, 112.8], [75.7, 107.0], [84.0, 100.1], [90.8, 91.7], [95.4, 81.8], [97.7, 71.1], [98.6, 60.0],
  [98.5, 48.8], [21.7, 42.6], [27.3, 38.9], [34.4, 38.4], [41.7, 40.0], [48.6, 43.2], [62.7, 43.5], [69.3, 40.4],
  [76.5, 38.7], [83.6, 39.1], [89.3, 42.7], [55.8, 52.7], [55.9, 60.1], [56.0, 67.3], [56.1, 74.7], [47.5, 78.6],
  [51.7, 80.2], [56.2, 81.5], [60.7, 80.3], [64.8, 78.7], [30.1, 52.4], [34.8, 50.4], [40.2, 50.6], [44.9, 54.0],
  [39.8, 54.9], [34.4, 54.6], [66.5, 54.1], [71.3, 50.8], [76.7, 50.6], [81.3, 52.5], [77.1, 54.8], [71.7, 55.0],
  [40.7, 89.3], [46.7, 88.1], [52.4, 87.4], [56.2, 88.4], [59.9, 87.5], [65.8, 88.3], [71.9, 89.7], [66.0, 95.2],
  [60.4, 97.7], [56.3, 98.1], [52.1, 97.6], [46.5, 95.0], [43.2, 89.9], [52.4, 90.6], [56.3, 91.2], [60.1, 90.7],
  [69.3, 90.2], [60.1, 92.6], [56.2, 93.0], [52.3, 92.4],
];

/** The template's 68 points for a crop of width×height (scaled as the five-point template is). */
export function templateLandmarks(width: number, height: number): Point[] {
  return TEMPLATE_68_112.map(([x, y]) => [(x * width) / 112, (y * height) / 112]);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The box around some points, widened by padX and padY on each side, as a polygon. */
function paddedBox(points: readonly Point[], padX: number, padY: number): Point[] {
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs) - padX, Math.max(...xs) + padX];
  const [y0, y1] = [Math.min(...ys) - padY, Math.max(...ys) + padY];
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

/**
 * Each region but "rest" as a polygon, in the order they claim pixels: a pixel belongs to the
 * first polygon holding its centre. Paddings are shares of the distance between the eye centres.
 */
function regionPolygons(p: readonly Point[]): [RegionName, Point[]][] {
  const at = (indices: number[]) => indices.map((i) => p[i]);
  const centre = (indices: number[]): Point => {
    const q = at(indices);
    return [q.reduce((s, v) => s + v[0], 0) / q.length, q.reduce((s, v) => s + v[1], 0) / q.length];
  };
  const [le, re] = [centre(range(36, 41)), centre(range(42, 47))];
  const d = Math.hypot(re[0] - le[0], re[1] - le[1]);
  const far = -10 * d; // above the crop's top: the forehead reaches it
  return [
    ['left eye', paddedBox(at(range(36, 41)), 0.12 * d, 0.12 * d)],
    ['right eye', paddedBox(at(range(42, 47)), 0.12 * d, 0.12 * d)],
    ['left brow', paddedBox(at(range(17, 21)), 0.05 * d, 0.08 * d)],
    ['right brow', paddedBox(at(range(22, 26)), 0.05 * d, 0.08 * d)],
    ['nose', paddedBox(at(range(27, 35)), 0.06 * d, 0.04 * d)],
    ['mouth', paddedBox(at(range(48, 59)), 0.08 * d, 0.08 * d)],
    ['left cheek', at([0, 1, 2, 3, 4, 48, 31, 39, 40, 41, 36])],
    ['right cheek', at([16, 15, 14, 13, 12, 54, 35, 42, 47, 46, 45])],
    ['chin', at(range(4, 12))],
    ['forehead', [...at(range(17, 26)), [p[26][0], far], [p[17][0], far]]],
  ];
}

/** Even-odd rule: is (x, y) inside the polygon? */
function inside(poly: readonly Point[], x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

/**
 * The region of every pixel of a width×height crop (row-major, indices into REGION_NAMES),
 * from 68 landmarks in crop pixels: each pixel gets exactly one region.
 */
export function regionLabels(landmarks: readonly Point[], width: number, height: number): Uint8Array {
  if (landmarks.length !== 68) throw new Error(`regionLabels needs 68 landmarks, got ${landmarks.length}`);
  const polygons = regionPolygons(landmarks).map(([name, poly]) => [REGION_NAMES.indexOf(name), poly] as const);
  const rest = REGION_NAMES.indexOf('rest');
  const labels = new Uint8Array(width * height).fill(rest);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const hit = polygons.find(([, poly]) => inside(poly, x, y));
      if (hit) labels[y * width + x] = hit[0];
    }
  }
  return labels;
}

/** The sums of each map over each region (every region listed, in REGION_NAMES order). */
export function regionSums(maps: Record<MapKind, ArrayLike<number>>, labels: Uint8Array): RegionSum[] {
  const sums: RegionSum[] = REGION_NAMES.map((name) => ({ name, similarity: 0, dissimilarity: 0, combined: 0, pixels: 0 }));
  for (let i = 0; i < labels.length; i++) {
    const r = sums[labels[i]];
    r.similarity += maps.similarity[i];
    r.dissimilarity += maps.dissimilarity[i];
    r.combined += maps.combined[i];
    r.pixels++;
  }
  return sums;
}

/** Left and right regions joined ("eyes", "brows", "cheeks"), for summaries in words. */
export function joinSides(regions: readonly RegionSum[]): RegionSum[] {
  const plural: Record<string, string> = { eye: 'eyes', brow: 'brows', cheek: 'cheeks' };
  const joined = new Map<string, RegionSum>();
  for (const r of regions) {
    const side = /^(left|right) (\w+)$/.exec(r.name);
    const name = side ? plural[side[2]] : r.name;
    const j = joined.get(name) ?? { name, similarity: 0, dissimilarity: 0, combined: 0, pixels: 0 };
    j.similarity += r.similarity;
    j.dissimilarity += r.dissimilarity;
    j.combined += r.combined;
    j.pixels += r.pixels;
    joined.set(name, j);
  }
  return [...joined.values()];
}

/**
 * One image's regions in words: the largest shares of its similarity map (what supports the
 * match) and of its dissimilarity map (what opposes it), e.g.
 * "supports: eyes 41 %, nose 22 % · opposes: mouth 35 %".
 */
export function regionSummary(regions: readonly RegionSum[], top = 3): string {
  const joined = joinSides(regions);
  const part = (kind: 'similarity' | 'dissimilarity') => {
    const total = joined.reduce((s, r) => s + r[kind], 0);
    if (!(total > 0)) return 'nothing';
    return [...joined]
      .sort((p, q) => q[kind] - p[kind])
      .slice(0, top)
      .map((r) => `${r.name} ${Math.round((100 * r[kind]) / total)} %`)
      .join(', ');
  };
  return `supports: ${part('similarity')} · opposes: ${part('dissimilarity')}`;
}
