import { strict as assert } from 'assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import sharp from 'sharp';
import { decodeImage, encodePng, ImageError, MAX_INPUT_PIXELS, resizeRgb, type RgbImage } from '../../src/engine/image';
import { halvedImage, levelForStep } from '../../src/engine/halvings';

const SAMPLE = path.join(__dirname, '..', '..', 'samples', 'photos', 'sample1.jpg');

function rgbAt(img: RgbImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 3;
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

function assertClose(actual: number[], expected: number[], tolerance: number, what: string): void {
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(worst <= tolerance, `${what}: got ${actual}, expected ${expected} ± ${tolerance}`);
}

async function rejects(input: string | Buffer, pattern: RegExp): Promise<void> {
  await assert.rejects(decodeImage(input), (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected an ImageError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

/** A PNG file of only a header claiming width×height, as a decompression bomb would. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

describe('image decoding', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'xssab-image-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, bytes: Buffer): string => {
    const p = path.join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('decodes an RGB JPEG photo to interleaved 8-bit RGB', async () => {
    const img = await decodeImage(SAMPLE);
    assert.equal(img.width, 1024);
    assert.equal(img.height, 683);
    assert.equal(img.data.length, 1024 * 683 * 3);
  });

  it('expands greyscale to equal R, G and B', async () => {
    const grey = Buffer.from([0, 50, 128, 255, 7, 200]);
    const png = await sharp(grey, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    const p = file('grey.png', png);
    assert.equal((await sharp(p).metadata()).channels, 1);
    const img = await decodeImage(p);
    assert.deepEqual([img.width, img.height], [3, 2]);
    for (let i = 0; i < 6; i++) assert.deepEqual(rgbAt(img, i % 3, Math.floor(i / 3)), [grey[i], grey[i], grey[i]]);
  });

  it('expands a palette PNG to its exact colours', async () => {
    const colours = [[255, 0, 0], [0, 0, 255], [10, 200, 30], [255, 255, 255]];
    const raw = Buffer.from(colours.flat());
    const png = await sharp(raw, { raw: { width: 2, height: 2, channels: 3 } }).png({ palette: true, dither: 0, colours: 4 }).toBuffer();
    const p = file('palette.png', png);
    assert.equal((await sharp(p).metadata()).isPalette, true);
    const img = await decodeImage(p);
    colours.forEach((c, i) => assert.deepEqual(rgbAt(img, i % 2, Math.floor(i / 2)), c));
  });

  it('reduces 16-bit samples to 8 bits', async () => {
    const values = [0, 257 * 100, 65535, 257 * 37, 257 * 250, 257 * 1];
    const raw = new Uint16Array(values);
    const png = await sharp(raw, { raw: { width: 2, height: 1, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    const p = file('deep.png', png);
    assert.equal((await sharp(p).metadata()).depth, 'ushort');
    const img = await decodeImage(p);
    assert.deepEqual(rgbAt(img, 0, 0), [0, 100, 255]);
    assert.deepEqual(rgbAt(img, 1, 0), [37, 250, 1]);
  });

  it('converts CMYK JPEG to sRGB', async () => {
    const original = await decodeImage(SAMPLE);
    const p = file('cmyk.jpg', await sharp(SAMPLE).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer());
    assert.equal((await sharp(p).metadata()).space, 'cmyk');
    const img = await decodeImage(p);
    assert.deepEqual([img.width, img.height, img.data.length], [original.width, original.height, original.data.length]);
    // sRGB → CMYK (libvips' built-in profile) → sRGB loses what lies outside the CMYK gamut:
    // measured 9.0 levels mean absolute difference on this photo. Reading the CMYK bands as
    // RGB, or ignoring K, would be off by far more.
    let sum = 0;
    for (let i = 0; i < img.data.length; i++) sum += Math.abs(img.data[i] - original.data[i]);
    const meanDifference = sum / img.data.length;
    assert.ok(meanDifference < 15, `mean absolute difference ${meanDifference.toFixed(1)} levels`);
  });

  it('flattens transparency onto white', async () => {
    const rgba = Buffer.from([255, 0, 0, 0, 255, 0, 0, 128, 10, 20, 30, 255]);
    const p = file('alpha.png', await sharp(rgba, { raw: { width: 3, height: 1, channels: 4 } }).png().toBuffer());
    const img = await decodeImage(p);
    assert.deepEqual(rgbAt(img, 0, 0), [255, 255, 255]);
    assertClose(rgbAt(img, 1, 0), [255, 127, 127], 1, 'half-transparent red on white');
    assert.deepEqual(rgbAt(img, 2, 0), [10, 20, 30]);
  });

  it('applies the EXIF orientation', async () => {
    // Stored 40×20: left half red, right half blue. Orientation 6 = rotate 90° clockwise to view,
    // so the viewed image is 20×40 with red on top and blue below.
    const raw = Buffer.alloc(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) raw.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * 40 + x) * 3);
    const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const p = file('rotated.jpg', jpeg);
    assert.equal((await sharp(p).metadata()).orientation, 6);
    const img = await decodeImage(p);
    assert.deepEqual([img.width, img.height], [20, 40]);
    assertClose(rgbAt(img, 10, 8), [255, 0, 0], 8, 'top');
    assertClose(rgbAt(img, 10, 32), [0, 0, 255], 8, 'bottom');
  });

  it('refuses a decompression bomb before decoding it', async () => {
    const p = file('bomb.png', pngHeaderOnly(12000, 10000));
    await rejects(p, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: image has 120000000 pixels, over the limit of ${MAX_INPUT_PIXELS}`));
  });

  it('reports a truncated file', async () => {
    const bytes = readFileSync(SAMPLE);
    await rejects(file('cut.jpg', bytes.subarray(0, bytes.length / 2)), /cut\.jpg: truncated or corrupt image/);
  });

  it('reports a text file, an empty file, a missing file and a folder', async () => {
    await rejects(file('notes.txt', Buffer.from('not a picture\n')), /notes\.txt: not an image \(unsupported or unrecognised format\)/);
    await rejects(file('empty.jpg', Buffer.alloc(0)), /empty\.jpg: not an image \(the file is empty\)/);
    await rejects(path.join(dir, 'missing.jpg'), /missing\.jpg: file not found$/);
    await rejects(dir, /is a directory/);
  });

  it('encodes PNG and resizes RGB', async () => {
    const img: RgbImage = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(90) };
    const png = await encodePng(4, 2, 3, img.data);
    const back = await decodeImage(png);
    assert.deepEqual([back.width, back.height, back.data[0]], [4, 2, 90]);
    const big = await resizeRgb(img, 8, 6);
    assert.deepEqual([big.width, big.height, big.data.length], [8, 6, 8 * 6 * 3]);
    assert.ok(big.data.every((v) => v === 90));
  });
});

describe('image halvings', () => {
  it('averages 2×2 blocks, and the pixels it has at an odd edge', () => {
    // 3×3, channel R = 10·(index), G = 0, B = 255.
    const img: RgbImage = { width: 3, height: 3, data: new Uint8Array(27) };
    for (let i = 0; i < 9; i++) img.data.set([10 * i, 0, 255], 3 * i);
    const half = halvedImage(img, 1);
    assert.deepEqual([half.width, half.height], [2, 2]);
    // (0,0): 0,10,30,40 → 20; (1,0): 20,50 → 35; (0,1): 60,70 → 65; (1,1): 80.
    assert.deepEqual([0, 1, 2, 3].map((i) => half.data[3 * i]), [20, 35, 65, 80]);
    assert.ok([0, 1, 2, 3].every((i) => half.data[3 * i + 1] === 0 && half.data[3 * i + 2] === 255));
    const quarter = halvedImage(img, 2);
    assert.deepEqual([quarter.width, quarter.height, quarter.data[0]], [1, 1, 50]);
    assert.equal(halvedImage(img, 0), img);
    assert.equal(halvedImage(img, 1), half, 'levels are made once per image');
  });

  it('picks the coarsest level whose pixels are no further apart than the samples, down to one pixel', () => {
    assert.deepEqual([0.5, 1, 1.99, 2, 3.9, 4, 15.9, 16].map((step) => levelForStep(step, 1000)), [0, 0, 0, 1, 1, 2, 3, 4]);
    // A 1000-px image is one pixel at level 10; a degenerate warp (step ∞) goes no further.
    assert.deepEqual([1e6, Infinity].map((step) => levelForStep(step, 1000)), [10, 10]);
    assert.equal(levelForStep(Infinity, 1), 0);
  });
});
