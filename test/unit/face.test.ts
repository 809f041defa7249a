import { strict as assert } from 'assert';
import * as path from 'path';
import { decodeImage, type RgbImage } from '../../src/engine/image';
import { FaceDetector } from '../../src/engine/face/detector';
import { projectMapToPhoto, warpAffine } from '../../src/engine/face/align';
import { ARCFACE_TEMPLATE_112, applyAffine, invertAffine, similarityTransform, templateFor, type Point } from '../../src/shared/alignment';
import type { Affine } from '../../src/shared/result';
import { overlayPhoto, PHOTO_OVERLAY_MAX_SIDE } from '../../src/engine/output';

const PHOTOS = path.join(__dirname, '..', '..', 'samples', 'photos');

/** Faces per face-api sample photo, counted by eye on the photos (22 in all). */
const EXPECTED_FACES: Record<string, number> = {
  'sample1.jpg': 3,
  'sample2.jpg': 3,
  'sample3.jpg': 3,
  'sample4.jpg': 4,
  'sample5.jpg': 5,
  'sample6.jpg': 4,
};

/** x' = s·R(deg)·x + (tx, ty) */
function similarity(scale: number, degrees: number, tx: number, ty: number): Affine {
  const r = (degrees * Math.PI) / 180;
  const c = scale * Math.cos(r), s = scale * Math.sin(r);
  return [c, -s, tx, s, c, ty];
}

function meanDistance(p: readonly Point[], q: readonly Point[]): number {
  return p.reduce((sum, a, i) => sum + Math.hypot(a[0] - q[i][0], a[1] - q[i][1]), 0) / p.length;
}

/** Mean absolute difference of two 112×112 crops over the inner 96×96 (the border may be black). */
function innerMeanAbsDifference(a: RgbImage, b: RgbImage, margin = 8): number {
  let sum = 0, n = 0;
  for (let y = margin; y < a.height - margin; y++) {
    for (let x = margin; x < a.width - margin; x++) {
      for (let c = 0; c < 3; c++) {
        const o = (y * a.width + x) * 3 + c;
        sum += Math.abs(a.data[o] - b.data[o]);
        n++;
      }
    }
  }
  return sum / n;
}

describe('face detection and alignment', function () {
  let detector: FaceDetector;
  before(async () => {
    detector = await FaceDetector.load('cpu');
  });
  after(async () => detector.dispose());

  it('finds every face of the six face-api sample photos, largest first', async () => {
    for (const [file, expected] of Object.entries(EXPECTED_FACES)) {
      const photo = await decodeImage(path.join(PHOTOS, file));
      const faces = await detector.detect(photo);
      assert.equal(faces.length, expected, `${file}: ${faces.length} faces, expected ${expected}`);
      for (let k = 0; k < faces.length; k++) {
        const face = faces[k];
        assert.equal(face.landmarks.length, 5);
        assert.ok(face.score >= detector.options.scoreThreshold);
        if (k > 0) assert.ok(face.box[2] * face.box[3] <= faces[k - 1].box[2] * faces[k - 1].box[3]);
        // Landmarks lie in the box, eyes above the nose above the mouth, left eye left of the right one.
        const [x, y, w, h] = face.box;
        for (const [px, py] of face.landmarks) assert.ok(px > x - 0.1 * w && px < x + 1.1 * w && py > y - 0.1 * h && py < y + 1.1 * h);
        const [leftEye, rightEye, nose, mouthLeft, mouthRight] = face.landmarks;
        assert.ok(leftEye[0] < rightEye[0] && mouthLeft[0] < mouthRight[0], `${file} face ${k}: left/right order`);
        assert.ok(Math.max(leftEye[1], rightEye[1]) < nose[1] + 0.1 * h && nose[1] < Math.min(mouthLeft[1], mouthRight[1]) + 0.1 * h);
      }
    }
  });

  it('finds the one face in each of the 18 thumbnails of one man', async () => {
    for (let k = 1; k <= 18; k++) {
      const file = `man_${String(k).padStart(2, '0')}.jpg`;
      const faces = await detector.detect(await decodeImage(path.join(PHOTOS, file)));
      assert.equal(faces.length, 1, `${file}: ${faces.length} faces`);
    }
  });

  it('finds no face in a blank image', async () => {
    const blank: RgbImage = { width: 200, height: 150, data: new Uint8Array(200 * 150 * 3).fill(180) };
    assert.deepEqual(await detector.detect(blank), []);
  });

  it('recovers a known rotation, scale and shift of an aligned face', async () => {
    // Each case: an aligned crop of a frontal face is warped into a canvas (640×480, or a phone
    // photo's 2600×2600 that the face fills) by a known similarity M, then detected and aligned again. The landmarks found in the canvas, taken
    // back through M⁻¹, should land where the landmarks of the original photo fell in the crop.
    const faces: [string, number][] = [['sample6.jpg', 1], ['man_01.jpg', 0], ['sample3.jpg', 0]];
    const motions: [number, number, number, number][] = [[2, 15, 640, 480], [1.5, -10, 640, 480], [2.5, 0, 640, 480], [1.8, -20, 640, 480], [20, 10, 2600, 2600]];
    const errors: number[] = [];
    for (const [file, index] of faces) {
      const photo = await decodeImage(path.join(PHOTOS, file));
      const face = (await detector.detect(photo))[index];
      const toCrop = similarityTransform(face.landmarks, ARCFACE_TEMPLATE_112);
      const crop = warpAffine(photo, toCrop, 112, 112);
      const cropLandmarks = face.landmarks.map((p) => applyAffine(toCrop, p));
      for (const [scale, degrees, width, height] of motions) {
        const turn = similarity(scale, degrees, 0, 0);
        const centre = applyAffine(turn, [56, 56]);
        const move: Affine = [turn[0], turn[1], width / 2 + 10 - centre[0], turn[3], turn[4], height / 2 + 10 - centre[1]];
        const canvas = warpAffine(crop, move, width, height);

        const found = await detector.detect(canvas);
        assert.equal(found.length, 1, `${file} ×${scale} ${degrees}°: ${found.length} faces`);
        const back = invertAffine(move);
        const error = meanDistance(found[0].landmarks.map((p) => applyAffine(back, p)), cropLandmarks);
        errors.push(error);

        const recovered = warpAffine(canvas, similarityTransform(found[0].landmarks, ARCFACE_TEMPLATE_112), 112, 112);
        // Bound: the recovered crop must be closer to the original than the original is to
        // itself shifted by 3 px (a misalignment the recognition models clearly notice); the
        // double resampling alone costs about 1 level.
        const shifted = warpAffine(crop, [1, 0, 3, 0, 1, 0], 112, 112);
        const difference = innerMeanAbsDifference(recovered, crop);
        const bound = innerMeanAbsDifference(shifted, crop);
        assert.ok(difference < bound, `${file} ×${scale} ${degrees}°: crop differs by ${difference.toFixed(1)} levels (bound ${bound.toFixed(1)})`);
        assert.ok(error < 3, `${file} ×${scale} ${degrees}°: landmark error ${error.toFixed(2)} px`);
      }
    }
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    assert.ok(mean < 2, `mean landmark error ${mean.toFixed(2)} px at 112×112 (${errors.map((e) => e.toFixed(2)).join(', ')})`);
  });
});

describe('alignment geometry', () => {
  it('recovers an exact synthetic similarity transform', () => {
    const truth = similarity(0.37, 23.5, -41.25, 17.5);
    const src: Point[] = [[120.5, 80.25], [190, 77], [150, 120], [128, 160], [185.75, 158]];
    const dst = src.map((p) => applyAffine(truth, p));
    const fitted = similarityTransform(src, dst);
    fitted.forEach((v, i) => assert.ok(Math.abs(v - truth[i]) < 1e-9, `coefficient ${i}: ${v} vs ${truth[i]}`));
  });

  it('never returns a reflection', () => {
    const src: Point[] = [[0, 0], [10, 0], [0, 10], [7, 7]];
    const mirrored = src.map(([x, y]): Point => [-x, y]);
    const [a, b, , d, e] = similarityTransform(src, mirrored);
    assert.ok(a * e - b * d >= 0);
  });

  it('refuses a singular warp, and ends a nearly singular one at the one-pixel halving', () => {
    const img: RgbImage = { width: 5, height: 3, data: new Uint8Array(5 * 3 * 3).fill(60) };
    assert.throws(() => warpAffine(img, [0, 0, 0, 0, 0, 0], 4, 4), /singular/);
    // The first sample falls on the 1×1 level (60), 0.4375 of its pixel up and left of the centre,
    // towards the black beyond the edge: 60 · 0.5625² ≈ 19.
    const tiny = warpAffine(img, [1e-12, 0, 0, 0, 1e-12, 0], 2, 2);
    assert.deepEqual([tiny.width, tiny.height, tiny.data[0]], [2, 2, Math.round(60 * 0.5625 ** 2)]);
  });

  it('inverts an affine transform', () => {
    const t: Affine = [1.2, 0.3, -5, -0.4, 0.9, 7];
    const p: Point = [13, -2];
    const q = applyAffine(invertAffine(t), applyAffine(t, p));
    assert.ok(Math.hypot(q[0] - p[0], q[1] - p[1]) < 1e-12);
  });

  it('scales the template with the input size', () => {
    assert.deepEqual(templateFor(112, 112), ARCFACE_TEMPLATE_112);
    const t = templateFor(96, 112);
    assert.ok(Math.abs(t[0][0] - (38.2946 * 96) / 112) < 1e-12 && t[0][1] === 51.6963);
  });

  it('shrinks a photo 8× without aliasing, at the right positions', () => {
    // A 1-px checkerboard: sampled point by point at every 8th pixel it is all black or all
    // white; through the halvings every crop pixel is its mean grey.
    const size = 896;
    const board: RgbImage = { width: size, height: size, data: new Uint8Array(size * size * 3) };
    for (let i = 0; i < size * size; i++) board.data.fill(((i % size) + Math.floor(i / size)) % 2 ? 255 : 0, 3 * i, 3 * i + 3);
    const eighth: Affine = [1 / 8, 0, 0, 0, 1 / 8, 0];
    const grey = warpAffine(board, eighth, 112, 112);
    for (let v = 1; v < 112; v++) for (let u = 1; u < 112; u++) assert.equal(grey.data[(v * 112 + u) * 3], 128, `(${u}, ${v})`);
    // A ramp R = x: crop pixel u shows photo pixel 8u, within the halvings' rounding (+0.5 each
    // way at most); half a level-3 pixel off would be 4 levels.
    const ramp: RgbImage = { width: 256, height: 32, data: new Uint8Array(256 * 32 * 3) };
    for (let i = 0; i < 256 * 32; i++) ramp.data[3 * i] = i % 256;
    const row = 32 * 2 * 3; // crop row 2: away from the black beyond the photo's top edge
    const crop = warpAffine(ramp, eighth, 32, 4);
    for (let u = 1; u < 32; u++) assert.ok(Math.abs(crop.data[row + 3 * u] - 8 * u) <= 1.5, `u = ${u}: ${crop.data[row + 3 * u]} vs ${8 * u}`);
  });

  it('projects a marked crop pixel back to the photo pixel it came from', () => {
    // Photo → crop: a face about 250 px wide in a 600×500 photo, turned by 12°.
    const toCrop = similarity(0.45, 12, -60, -70);
    const marked: Point = [70, 40];
    const map = new Float32Array(112 * 112);
    map[marked[1] * 112 + marked[0]] = 1;
    const projected = projectMapToPhoto(map, 112, 112, toCrop, 600, 500);
    let best = -1, bestValue = -Infinity, inside = 0;
    projected.forEach((v, i) => {
      if (!Number.isNaN(v)) inside++;
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    });
    const peak: Point = [best % 600, Math.floor(best / 600)];
    const expected = applyAffine(invertAffine(toCrop), marked);
    // One photo pixel is 0.45 crop pixels, so the peak lies within a photo pixel of the source.
    assert.ok(Math.hypot(peak[0] - expected[0], peak[1] - expected[1]) <= 1, `peak ${peak}, expected ${expected}`);
    assert.ok(Math.hypot(...(applyAffine(toCrop, peak).map((v, i) => v - marked[i]) as Point)) <= 0.5);
    // The crop covers (112 / 0.45)² ≈ 61,950 photo pixels; the rest is NaN.
    assert.ok(Math.abs(inside - (112 / 0.45) ** 2) < 0.02 * inside, `${inside} photo pixels inside the crop`);
    assert.ok(Number.isNaN(projected[0]));
  });

  it('projects onto a phone-sized photo reduced for the overlays where it falls on the full photo', async () => {
    const photo: RgbImage = { width: 4000, height: 3000, data: new Uint8Array(4000 * 3000 * 3) };
    // Photo → crop: a face about 2,400 px wide, turned by 12°.
    const toCrop = similarity(0.047, 12, -60, -40);
    const reduced = await overlayPhoto(photo, toCrop);
    assert.deepEqual([reduced.photo.width, reduced.photo.height], [PHOTO_OVERLAY_MAX_SIDE, 768]);
    const marked: Point = [70, 40];
    const map = new Float32Array(112 * 112);
    map[marked[1] * 112 + marked[0]] = 1;
    const projected = projectMapToPhoto(map, 112, 112, reduced.transform, reduced.photo.width, reduced.photo.height);
    const best = projected.reduce((b, v, i) => (v > (projected[b] || 0) ? i : b), 0); // NaN: not explained
    const [x, y] = applyAffine(invertAffine(toCrop), marked);
    const scale = 4000 / PHOTO_OVERLAY_MAX_SIDE;
    const expected: Point = [(x + 0.5) / scale - 0.5, (y + 0.5) / scale - 0.5];
    assert.ok(Math.hypot(best % 1024 - expected[0], Math.floor(best / 1024) - expected[1]) <= 1, `peak ${best % 1024},${Math.floor(best / 1024)}, expected ${expected}`);
    // Exactly: a reduced pixel's centre is the photo point at the same place in edge coordinates.
    for (const [u, v] of [[0, 0], [1023, 767], [300, 500]]) {
      const viaPhoto = applyAffine(toCrop, [(u + 0.5) * scale - 0.5, (v + 0.5) * scale - 0.5]);
      const direct = applyAffine(reduced.transform, [u, v]);
      assert.ok(Math.hypot(direct[0] - viaPhoto[0], direct[1] - viaPhoto[1]) < 1e-9, `(${u}, ${v}): ${direct} vs ${viaPhoto}`);
    }
    const small: RgbImage = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
    const same = await overlayPhoto(small, toCrop);
    assert.ok(same.photo === small && same.transform === toCrop);
  });

  it('projects exactly under an integer translation', () => {
    const map = Float32Array.from({ length: 4 * 3 }, (_, i) => i);
    const out = projectMapToPhoto(map, 4, 3, [1, 0, -2, 0, 1, -1], 8, 6);
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 8; x++) {
        const u = x - 2, v = y - 1;
        const expected = u >= 0 && u < 4 && v >= 0 && v < 3 ? map[v * 4 + u] : NaN;
        assert.ok(Object.is(out[y * 8 + x], expected) || out[y * 8 + x] === expected, `(${x}, ${y}): ${out[y * 8 + x]} vs ${expected}`);
      }
    }
  });
});
