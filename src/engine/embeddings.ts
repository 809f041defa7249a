// Batched unit embeddings and cosine scores of preprocessed faces, shared by every caller that
// scores faces without explaining them (calibration, Patch-LFW and its comparison methods).
import { type Explainer, stackFaces } from './xssab';

// Where the callers of these helpers have long found it.
export { stackFaces };

/** Unit-length embeddings of preprocessed faces, `batch` faces per forward run. */
export async function unitEmbeddings(explainer: Explainer, faces: readonly Float32Array[], batch: number): Promise<Float32Array[]> {
  const d = explainer.model.embeddingSize;
  const out: Float32Array[] = [];
  for (let start = 0; start < faces.length; start += batch) {
    const chunk = faces.slice(start, start + batch);
    const e = await explainer.embed(stackFaces(chunk));
    for (let i = 0; i < chunk.length; i++) {
      const v = e.slice(i * d, (i + 1) * d);
      const norm = Math.hypot(...v);
      out.push(v.map((x) => x / norm));
    }
  }
  return out;
}

/** Dot product; of unit embeddings, their cosine score. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
