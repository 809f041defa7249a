// Halvings of an image, for warps that shrink it a lot. No Node modules: the viewers share
// the alignment code that uses them.
import type { RgbImage } from './image';

const halvings = new WeakMap<RgbImage, RgbImage[]>();

/**
 * Level `level` of an image's halvings: blocks of 2^level × 2^level pixels averaged (its
 * pixel-index coordinate is (x + 0.5) / 2^level − 0.5 of the image's). Levels are made on first
 * use and kept with the image, so the detector and the aligner share them for one photo.
 */
export function halvedImage(img: RgbImage, level: number): RgbImage {
  let levels = halvings.get(img);
  if (!levels) halvings.set(img, (levels = [img]));
  while (levels.length <= level) levels.push(halve(levels[levels.length - 1]));
  return levels[level];
}

/**
 * The coarsest level whose pixels are no further apart than samples taken `step` pixels apart:
 * bilinear samples of it do not alias, however much a warp shrinks the image. No coarser than
 * the level of one pixel for an image whose longest side is `side`, whatever the step.
 */
export function levelForStep(step: number, side: number): number {
  return step >= 2 ? Math.min(Math.floor(Math.log2(step)), Math.ceil(Math.log2(Math.max(side, 1)))) : 0;
}

/** Each pixel the mean of a 2×2 block; a last odd row or column averages the pixels it has. */
function halve(img: RgbImage): RgbImage {
  const width = Math.ceil(img.width / 2), height = Math.ceil(img.height / 2);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const rows = 2 * y + 1 < img.height ? 2 : 1;
    for (let x = 0; x < width; x++) {
      const cols = 2 * x + 1 < img.width ? 2 : 1;
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) sum += img.data[((2 * y + j) * img.width + 2 * x + i) * 3 + c];
        data[(y * width + x) * 3 + c] = Math.round(sum / (rows * cols));
      }
    }
  }
  return { width, height, data };
}
