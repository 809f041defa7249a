// Face detection with five landmarks, from two bundled ONNX models (see models/face-detector.md):
// an RFB-320 detector (boxes and scores over 4420 priors, decoded inside the graph) and a
// 68-point landmark regressor, whose points are reduced to the five the ArcFace template uses.
import { promises as fs } from 'fs';
import * as path from 'path';
import { createSession, ort, type ExecutionProviderChoice, type FallbackNotice, type Session } from '../runtime';
import { resizeRgb, type RgbImage } from '../image';
import { halvedImage, levelForStep } from '../halvings';
import { bundledModelsDir } from '../model';
import type { DetectedFace } from '../../shared/result';
import type { Point } from '../../shared/alignment';

export const DETECTOR_MODEL_FILE = 'face-detector.onnx';
export const LANDMARK_MODEL_FILE = 'face-landmarks.onnx';

const DETECTOR_WIDTH = 320;
const DETECTOR_HEIGHT = 240;
const LANDMARK_SIZE = 64;

export interface DetectorOptions {
  /** Minimum face score (softmax probability of the face class). */
  scoreThreshold: number;
  /** Boxes overlapping a better one by more than this IoU are dropped. */
  nmsIou: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { scoreThreshold: 0.8, nmsIou: 0.4 };

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

/** A detected face with its 68 iBUG landmarks (photo pixels), from which the face regions are taken. */
export interface FoundFace extends DetectedFace {
  points68: Point[];
}

export class FaceDetector {
  private constructor(
    private readonly detector: Session,
    private readonly landmarker: Session,
    readonly options: DetectorOptions,
  ) {}

  /** The provider the models run on. */
  get ep(): string {
    return this.detector.ep;
  }

  static async load(
    ep: ExecutionProviderChoice = 'cpu',
    modelsDir: string = bundledModelsDir(),
    options: Partial<DetectorOptions> = {},
    onFallback?: FallbackNotice,
  ): Promise<FaceDetector> {
    const [detectorBytes, landmarkBytes] = await Promise.all([
      fs.readFile(path.join(modelsDir, DETECTOR_MODEL_FILE)),
      fs.readFile(path.join(modelsDir, LANDMARK_MODEL_FILE)),
    ]);
    const detector = await createSession(detectorBytes, ep, onFallback);
    const landmarker = await createSession(landmarkBytes, ep, onFallback);
    return new FaceDetector(detector, landmarker, { ...DEFAULT_DETECTOR_OPTIONS, ...options });
  }

  /** All faces in the photo, largest box first, with five landmarks (and the 68 they come from) in photo pixels. */
  async detect(img: RgbImage): Promise<FoundFace[]> {
    const boxes = nonMaximumSuppression(await this.detectBoxes(img), this.options.nmsIou);
    const faces: FoundFace[] = [];
    for (const box of boxes) {
      const points68 = await this.landmarks68(img, box);
      faces.push({
        box: [box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1],
        landmarks: fivePointsFrom68(points68),
        score: box.score,
        points68,
      });
    }
    return faces.sort((p, q) => q.box[2] * q.box[3] - p.box[2] * p.box[3]);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.detector.session.release(), this.landmarker.session.release()]);
  }

  /**
   * Candidate boxes above the score threshold, in photo pixels. The photo is shrunk (or grown)
   * to fit 320×240 without distortion; the rest of the input is mid-grey, which the
   * (x − 127)/128 normalisation turns into zeros.
   */
  private async detectBoxes(img: RgbImage): Promise<Box[]> {
    const scale = Math.min(DETECTOR_WIDTH / img.width, DETECTOR_HEIGHT / img.height);
    const w = Math.max(1, Math.round(img.width * scale));
    const h = Math.max(1, Math.round(img.height * scale));
    const small = await resizeRgb(img, w, h);
    const plane = DETECTOR_WIDTH * DETECTOR_HEIGHT;
    const input = new Float32Array(3 * plane);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const s = (y * w + x) * 3;
        const d = y * DETECTOR_WIDTH + x;
        for (let c = 0; c < 3; c++) input[c * plane + d] = (small.data[s + c] - 127) / 128;
      }
    }
    const { session } = this.detector;
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, DETECTOR_HEIGHT, DETECTOR_WIDTH]) });
    const scores = outputs.scores.data as Float32Array; // [1, N, 2]: background, face
    const boxes = outputs.boxes.data as Float32Array; // [1, N, 4]: x1, y1, x2, y2 as fractions of the input
    // Input fractions → photo pixels: the photo occupies the top-left w×h of the input.
    const sx = (DETECTOR_WIDTH * img.width) / w, sy = (DETECTOR_HEIGHT * img.height) / h;
    const found: Box[] = [];
    for (let i = 0; i < scores.length / 2; i++) {
      const score = scores[2 * i + 1];
      if (score < this.options.scoreThreshold) continue;
      const x1 = clamp(boxes[4 * i] * sx, 0, img.width), y1 = clamp(boxes[4 * i + 1] * sy, 0, img.height);
      const x2 = clamp(boxes[4 * i + 2] * sx, 0, img.width), y2 = clamp(boxes[4 * i + 3] * sy, 0, img.height);
      if (x2 - x1 >= 1 && y2 - y1 >= 1) found.push({ x1, y1, x2, y2, score });
    }
    return found;
  }

  /**
   * The 68 landmarks of one face. The regressor was trained on a square grey crop around the
   * box (side = box height, centred on the box), scaled to 64×64 and divided by 256; it
   * answers in fractions of that crop. It was trained on upright faces, so a second pass
   * samples the same square turned by the face's roll (the eye line of the first pass).
   */
  private async landmarks68(img: RgbImage, box: Box): Promise<Point[]> {
    const square: Square = { cx: (box.x1 + box.x2) / 2, cy: (box.y1 + box.y2) / 2, side: box.y2 - box.y1, angle: 0 };
    const upright = await this.runLandmarks(img, square);
    const [leftEye, rightEye] = fivePointsFrom68(upright);
    const roll = Math.atan2(rightEye[1] - leftEye[1], rightEye[0] - leftEye[0]);
    return this.runLandmarks(img, { ...square, angle: roll });
  }

  private async runLandmarks(img: RgbImage, square: Square): Promise<Point[]> {
    const crop = greyCrop(img, square, LANDMARK_SIZE);
    const { session } = this.landmarker;
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', crop, [1, 1, LANDMARK_SIZE, LANDMARK_SIZE]) });
    const values = outputs[session.outputNames[0]].data as Float32Array;
    const points: Point[] = [];
    for (let i = 0; i < values.length; i += 2) points.push(squareToPhoto(square, values[i] - 0.5, values[i + 1] - 0.5));
    return points;
  }
}

/** A square of the photo centred on (cx, cy), turned by `angle` radians (clockwise in image axes). */
interface Square {
  cx: number;
  cy: number;
  side: number;
  angle: number;
}

/** Photo position of the point at (fx, fy) fractions of the square's side from its centre. */
function squareToPhoto(sq: Square, fx: number, fy: number): Point {
  const cos = Math.cos(sq.angle), sin = Math.sin(sq.angle);
  const lx = fx * sq.side, ly = fy * sq.side;
  return [sq.cx + cos * lx - sin * ly, sq.cy + sin * lx + cos * ly];
}

/** iBUG 68-point indices: eyes 36–41 and 42–47, nose tip 30, mouth corners 48 and 54. */
export function fivePointsFrom68(points: readonly Point[]): Point[] {
  if (points.length !== 68) throw new Error(`expected 68 landmarks, got ${points.length}`);
  const mean = (from: number, to: number): Point => {
    let x = 0, y = 0;
    for (let i = from; i <= to; i++) {
      x += points[i][0];
      y += points[i][1];
    }
    return [x / (to - from + 1), y / (to - from + 1)];
  };
  return [mean(36, 41), mean(42, 47), points[30], points[48], points[54]];
}

/**
 * A size×size grey crop of the square, values /256. Each output pixel averages a grid of
 * bilinear samples over its footprint, so large faces are antialiased. A square over 4·size
 * pixels is sampled from the photo's halving (halvings.ts) that brings it to 2·size–4·size, so the
 * grid stays at most 4×4 (a face filling a phone photo took seconds, now milliseconds); smaller
 * ones are sampled as they are. Samples outside the photo repeat the edge.
 */
function greyCrop(img: RgbImage, square: Square, size: number): Float32Array {
  const level = levelForStep(square.side / (2 * size), Math.max(img.width, img.height));
  const source = halvedImage(img, level);
  // Edge coordinates scale exactly: a level's pixel j spans [j, j + 1) of photo pixels / 2^level.
  const k = 2 ** level;
  const scaled: Square = { ...square, cx: square.cx / k, cy: square.cy / k, side: square.side / k };
  const taps = Math.max(1, Math.ceil(scaled.side / size));
  // Samples are `step` apart along the square's axes; sample (a, b) of the grid sits at
  // squareToPhoto(scaled, ((a + 0.5) / taps) / size − 0.5, …), written out for speed.
  const step = scaled.side / (size * taps);
  const cos = Math.cos(scaled.angle), sin = Math.sin(scaled.angle);
  const out = new Float32Array(size * size);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let sum = 0;
      for (let j = 0; j < taps; j++) {
        const ly = (v * taps + j + 0.5) * step - scaled.side / 2;
        for (let i = 0; i < taps; i++) {
          const lx = (u * taps + i + 0.5) * step - scaled.side / 2;
          // edge coordinates → pixel-index coordinates
          sum += greyAt(source, scaled.cx + cos * lx - sin * ly - 0.5, scaled.cy + sin * lx + cos * ly - 0.5);
        }
      }
      out[v * size + u] = sum / (taps * taps) / 256;
    }
  }
  return out;
}

function greyAt(img: RgbImage, x: number, y: number): number {
  const xc = clamp(x, 0, img.width - 1), yc = clamp(y, 0, img.height - 1);
  const x0 = Math.floor(xc), y0 = Math.floor(yc);
  const x1 = Math.min(x0 + 1, img.width - 1), y1 = Math.min(y0 + 1, img.height - 1);
  const fx = xc - x0, fy = yc - y0;
  const top = grey(img, x0, y0) * (1 - fx) + grey(img, x1, y0) * fx;
  const bottom = grey(img, x0, y1) * (1 - fx) + grey(img, x1, y1) * fx;
  return top * (1 - fy) + bottom * fy;
}

function grey(img: RgbImage, x: number, y: number): number {
  const o = (y * img.width + x) * 3;
  return 0.299 * img.data[o] + 0.587 * img.data[o + 1] + 0.114 * img.data[o + 2];
}

/** Greedy NMS: best score first, drop boxes overlapping a kept one by IoU > threshold. */
function nonMaximumSuppression(boxes: Box[], iouThreshold: number): Box[] {
  const sorted = [...boxes].sort((p, q) => q.score - p.score);
  const kept: Box[] = [];
  for (const box of sorted) {
    if (kept.every((k) => iou(k, box) <= iouThreshold)) kept.push(box);
  }
  return kept;
}

function iou(p: Box, q: Box): number {
  const w = Math.min(p.x2, q.x2) - Math.max(p.x1, q.x1);
  const h = Math.min(p.y2, q.y2) - Math.max(p.y1, q.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((p.x2 - p.x1) * (p.y2 - p.y1) + (q.x2 - q.x1) * (q.y2 - q.y1) - inter);
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
