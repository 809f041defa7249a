// What the engine hands to the outputs: a face prepared for the model, and an explained pair.
import type { RgbImage } from './image';
import type { ExplanationResult, ImageInfo } from '../shared/result';
import type { FaceMaps } from './xssab';

export interface PreparedFace {
  photo: RgbImage;
  crop: RgbImage;
  info: ImageInfo;
  warnings: string[];
}

export interface ExplainedPair {
  result: ExplanationResult;
  faces: [PreparedFace, PreparedFace];
  maps: [FaceMaps, FaceMaps];
}
