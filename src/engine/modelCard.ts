// Machine-readable model card: `<model>.card.json` next to `<model>.onnx`.
import * as fs from 'fs';

export interface ModelCard {
  name: string;
  /** Graph input holding the preprocessed image (NCHW) and output holding the embedding. */
  input?: string;
  output?: string;
  channelOrder: 'RGB' | 'BGR';
  /** Side of the square input, for models whose graph leaves height and width open. */
  inputSize?: number;
  /** Preprocessing per channel value v in 0..255: (v − mean) / std. */
  mean: number;
  std: number;
  /** Decision threshold on the cosine score, and how it was obtained. */
  threshold?: number;
  thresholdSource?: string;
}

/** The ArcFace convention, assumed for a model without a card. */
export const ARCFACE_PREPROCESSING: Pick<ModelCard, 'channelOrder' | 'mean' | 'std'> = {
  channelOrder: 'RGB',
  mean: 127.5,
  std: 127.5,
};

/** Threshold used when neither the user nor a card gives one. */
export const DEFAULT_THRESHOLD = 0.3;

export function cardPath(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.card.json';
}

/** Reads the card next to a model, or returns undefined when there is none. */
export function readModelCard(modelPath: string): ModelCard | undefined {
  const p = cardPath(modelPath);
  if (!fs.existsSync(p)) return undefined;
  let card: Partial<ModelCard>;
  try {
    card = JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch (e) {
    throw new Error(`model card ${p} is not valid JSON: ${(e as Error).message}`);
  }
  const problems: string[] = [];
  if (typeof card.name !== 'string') problems.push('"name" must be a string');
  if (card.channelOrder !== 'RGB' && card.channelOrder !== 'BGR') problems.push('"channelOrder" must be "RGB" or "BGR"');
  if (typeof card.mean !== 'number') problems.push('"mean" must be a number');
  if (typeof card.std !== 'number' || card.std === 0) problems.push('"std" must be a non-zero number');
  if (card.threshold !== undefined && typeof card.threshold !== 'number') problems.push('"threshold" must be a number');
  if (card.inputSize !== undefined && !(Number.isInteger(card.inputSize) && card.inputSize > 0)) problems.push('"inputSize" must be a positive integer');
  if (problems.length) throw new Error(`model card ${p}: ${problems.join('; ')}`);
  return card as ModelCard;
}
