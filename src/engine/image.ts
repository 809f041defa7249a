// Image decoding and encoding with sharp. Every photo enters the engine as 8-bit sRGB RGB,
// upright (EXIF orientation applied), so the detector, the aligner and the viewers agree on
// pixel coordinates.
import { promises as fs } from 'fs';
import sharp from 'sharp';
import { UserError } from '../shared/errors';

/** An 8-bit RGB image, channels interleaved, rows top to bottom. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Largest photo decoded (64 megapixels): protects against decompression bombs. */
export const MAX_INPUT_PIXELS = 64 * 1024 * 1024;

export class ImageError extends UserError {}

/**
 * Decodes a JPEG, PNG, WebP, GIF, TIFF or AVIF file (or buffer) to RGB. Greyscale, palette,
 * 16-bit and CMYK inputs are converted to 8-bit sRGB; transparency is flattened onto white.
 */
export async function decodeImage(input: string | Buffer, maxPixels = MAX_INPUT_PIXELS): Promise<RgbImage> {
  const label = typeof input === 'string' ? input : '<buffer>';
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  if (bytes.length === 0) throw new ImageError(`${label}: not an image (the file is empty)`);

  const metadata = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch((e: unknown) => {
      // A recognised format whose header cannot be read is damaged, not foreign.
      const message = firstLine(e);
      if (/unsupported image format/i.test(message)) {
        throw new ImageError(`${label}: not an image (unsupported or unrecognised format)`);
      }
      throw new ImageError(`${label}: truncated or corrupt image (${message})`);
    });
  const pixels = (metadata.width ?? 0) * (metadata.height ?? 0);
  if (pixels > maxPixels) {
    throw new ImageError(
      `${label}: image has ${pixels} pixels, over the limit of ${maxPixels} ` +
        `(${metadata.width}×${metadata.height}; a guard against decompression bombs)`,
    );
  }

  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'truncated' })
      .rotate() // applies the EXIF orientation, then drops the tag
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (e) {
    throw new ImageError(`${label}: truncated or corrupt image (${firstLine(e)})`);
  }
}

async function readFile(path: string): Promise<Buffer> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(`${path}: file not found`);
    if (code === 'EISDIR') throw new ImageError(`${path}: is a directory, not an image`);
    throw new ImageError(`${path}: cannot read the file (${firstLine(e)})`);
  }
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

/** Encodes raw 8-bit pixels (1 grey, 3 RGB or 4 RGBA channels, interleaved) as PNG. */
export async function encodePng(width: number, height: number, channels: 1 | 3 | 4, data: Uint8Array, options: { palette?: boolean } = {}): Promise<Buffer> {
  return sharp(data, { raw: { width, height, channels } }).png({ palette: options.palette ?? false }).toBuffer();
}

/** Resizes an RGB image to exactly width×height (aspect ratio not kept), antialiased when shrinking. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * The image as writing it to a JPEG of this quality and reading it back gives it (sharp's
 * libjpeg: baseline, 4:2:0 chroma subsampling, as OpenCV's imwrite; the bits may still differ).
 */
export async function jpegRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  const jpeg = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
  const data = await sharp(jpeg).raw().toBuffer();
  return { width: img.width, height: img.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
