// Five-point face alignment to the ArcFace template, and the way back: projecting a map made
// on the aligned crop onto the original photo.
//
// Coordinates are pixel-index coordinates: the centre of pixel (column i, row j) is (i, j).
// Landmarks, transforms, warps and projections all use this convention (as OpenCV does).
import type { Affine } from '../result';
import type { RgbImage } from '../image';
import { halvedImage, levelForStep } from '../halvings';

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

/**
 * The aligned crop: output pixel (u, v) takes the photo's colour at transform⁻¹(u, v), sampled
 * bilinearly. Photo → crop is the transform given. Samples outside the photo are black (0), as
 * in insightface's norm_crop (OpenCV's constant border), so a face at the photo's edge looks
 * the way the recognition models saw such faces in training. Unlike norm_crop, a crop that
 * shrinks the photo 2× or more samples a halving of it (halvings.ts), so a face filling a phone
 * photo does not alias; at LFW's sizes the two agree.
 */
export function warpAffine(img: RgbImage, transform: Affine, outWidth: number, outHeight: number): RgbImage {
  const t = invertAffine(transform);
  const level = levelForStep(1 / Math.sqrt(Math.abs(transform[0] * transform[4] - transform[1] * transform[3])), Math.max(img.width, img.height));
  const { width, height, data } = halvedImage(img, level);
  // Crop → photo pixel index, then photo → level pixel index: (x + 0.5) / 2^level − 0.5.
  const k = 2 ** level;
  const inv = [t[0] / k, t[1] / k, (t[2] + 0.5) / k - 0.5, t[3] / k, t[4] / k, (t[5] + 0.5) / k - 0.5];
  const out = new Uint8Array(outWidth * outHeight * 3);
  for (let v = 0; v < outHeight; v++) {
    for (let u = 0; u < outWidth; u++) {
      const x = inv[0] * u + inv[1] * v + inv[2];
      const y = inv[3] * u + inv[4] * v + inv[5];
      const x0 = Math.floor(x), y0 = Math.floor(y);
      const fx = x - x0, fy = y - y0;
      const o = (v * outWidth + u) * 3;
      for (let c = 0; c < 3; c++) {
        const p00 = pixel(data, width, height, x0, y0, c);
        const p10 = pixel(data, width, height, x0 + 1, y0, c);
        const p01 = pixel(data, width, height, x0, y0 + 1, c);
        const p11 = pixel(data, width, height, x0 + 1, y0 + 1, c);
        const value = (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
        out[o + c] = Math.round(value);
      }
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

function pixel(data: Uint8Array, width: number, height: number, x: number, y: number, c: number): number {
  return x < 0 || y < 0 || x >= width || y >= height ? 0 : data[(y * width + x) * 3 + c];
}

/**
 * Projects a map of the aligned crop (mapWidth×mapHeight, row-major) onto the photo: photo
 * pixel p gets the map sampled bilinearly at transform(p). Photo pixels whose image falls
 * outside the crop (beyond half a pixel from its border) get NaN, meaning "not explained".
 */
export function projectMapToPhoto(
  map: Float32Array,
  mapWidth: number,
  mapHeight: number,
  transform: Affine,
  photoWidth: number,
  photoHeight: number,
): Float32Array {
  if (map.length !== mapWidth * mapHeight) {
    throw new Error(`projectMapToPhoto: map has ${map.length} values, expected ${mapWidth}×${mapHeight}`);
  }
  const out = new Float32Array(photoWidth * photoHeight);
  const [a, b, c, d, e, f] = transform;
  for (let y = 0; y < photoHeight; y++) {
    for (let x = 0; x < photoWidth; x++) {
      const u = a * x + b * y + c;
      const v = d * x + e * y + f;
      if (u < -0.5 || v < -0.5 || u > mapWidth - 0.5 || v > mapHeight - 0.5) {
        out[y * photoWidth + x] = NaN;
        continue;
      }
      // Within half a pixel of the border the nearest row or column is repeated.
      const uc = Math.min(Math.max(u, 0), mapWidth - 1), vc = Math.min(Math.max(v, 0), mapHeight - 1);
      const u0 = Math.min(Math.floor(uc), Math.max(mapWidth - 2, 0));
      const v0 = Math.min(Math.floor(vc), Math.max(mapHeight - 2, 0));
      const u1 = Math.min(u0 + 1, mapWidth - 1), v1 = Math.min(v0 + 1, mapHeight - 1);
      const fu = uc - u0, fv = vc - v0;
      const top = map[v0 * mapWidth + u0] * (1 - fu) + map[v0 * mapWidth + u1] * fu;
      const bottom = map[v1 * mapWidth + u0] * (1 - fu) + map[v1 * mapWidth + u1] * fu;
      out[y * photoWidth + x] = top * (1 - fv) + bottom * fv;
    }
  }
  return out;
}
