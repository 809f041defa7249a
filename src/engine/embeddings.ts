// Batched unit embeddings and cosine scores of preprocessed faces, shared by every caller that
// scores faces without explaining them (calibration, Patch-LFW and its comparison methods).
import { type Explainer, stackFaces } from './xssab';

// Where the callers of these helpers have long found it.
export { stackFaces };

/** Unit-length embeddings of preprocessed faces, `batch` faces per forward run (or shared among CPU workers: Explainer.embedEach). */
export async function unitEmbeddings(explainer: Explainer, faces: readonly Float32Array[], batch: number): Promise<Float32Array[]> {
  return (await explainer.embedEach(faces, batch)).map((v) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

/** Dot product; of unit embeddings, their cosine score. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
