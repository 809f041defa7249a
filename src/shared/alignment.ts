// Five-point face alignment maths, shared by the engine (which warps the photo) and the viewer
// (which maps points between the photo and the aligned crop).
//
// Coordinates are pixel-index coordinates: the centre of pixel (column i, row j) is (i, j).
// Landmarks, transforms, warps and projections all use this convention (as OpenCV does).
import type { Affine } from './result';

export type Point = [number, number];

/** ArcFace (insightface) 112×112 template: eye centres, nose tip, mouth corners, as seen in the image. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** The template for a model input of width×height (x scaled by width/112, y by height/112). */
export function templateFor(width: number, height: number): Point[] {
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [(x * width) / 112, (y * height) / 112]);
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
 * mapping `src` points onto `dst` points (Umeyama). In 2-D the optimum has a closed form:
 * with centred points, a = Σ(s·d)/Σ|s|² and b = Σ(s×d)/Σ|s|² give x' = a·x − b·y + tx.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  if (src.length !== dst.length || src.length < 2) {
    throw new Error(`similarityTransform needs two equally long point lists of at least 2 points (got ${src.length} and ${dst.length})`);
  }
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0]; sy += src[i][1];
    dx += dst[i][0]; dy += dst[i][1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i][0] - sx, py = src[i][1] - sy;
    const qx = dst[i][0] - dx, qy = dst[i][1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (norm === 0) throw new Error('similarityTransform: all source points coincide');
  const a = dot / norm, b = cross / norm;
  return [a, -b, dx - a * sx + b * sy, b, a, dy - b * sx - a * sy];
}

export function applyAffine(t: Affine, [x, y]: Point): Point {
  return [t[0] * x + t[1] * y + t[2], t[3] * x + t[4] * y + t[5]];
}

export function invertAffine(t: Affine): Affine {
  const [a, b, c, d, e, f] = t;
  const det = a * e - b * d;
  if (det === 0) throw new Error('invertAffine: the transform is singular');
  return [e / det, -b / det, (b * f - c * e) / det, -d / det, a / det, (c * d - a * f) / det];
}
