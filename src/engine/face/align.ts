// Five-point face alignment to the ArcFace template (the transform maths is in
// shared/alignment.ts), and the way back: projecting a map made on the aligned crop onto the
// original photo.
//
// Coordinates are pixel-index coordinates: the centre of pixel (column i, row j) is (i, j).
// Landmarks, transforms, warps and projections all use this convention (as OpenCV does).
import { invertAffine } from '../../shared/alignment';
import type { Affine } from '../../shared/result';
import type { RgbImage } from '../image';
import { halvedImage, levelForStep } from '../halvings';

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
