// A golden explanation for the renderer tests: 8×8 maps with values known in closed form, and a
// JSDOM window that records anything it reports besides its missing canvas.
import { JSDOM, VirtualConsole } from 'jsdom';
import { encodeMap } from '../../src/shared/mapCodec';
import type { ExplanationPayload, MapKind } from '../../src/shared/result';

export const SIZE = 8;
// 1×1 PNGs: a grey pixel for the aligned crops, a red one for the photos.
export const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==';
export const PHOTO = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** Golden maps of face A: similarity (i+1)·10⁻³, dissimilarity (64−i)·5·10⁻⁴, combined their difference; B is twice A. */
export function goldenMaps(scale: number): Record<MapKind, Float32Array> {
  const similarity = Float32Array.from({ length: SIZE * SIZE }, (_, i) => scale * (i + 1) * 1e-3);
  const dissimilarity = Float32Array.from({ length: SIZE * SIZE }, (_, i) => scale * (64 - i) * 5e-4);
  const combined = similarity.map((s, i) => s - dissimilarity[i]);
  return { similarity, dissimilarity, combined };
}

export function encoded(maps: Record<MapKind, Float32Array>): ExplanationPayload['maps']['a'] {
  return {
    similarity: encodeMap(maps.similarity, [SIZE, SIZE]),
    dissimilarity: encodeMap(maps.dissimilarity, [SIZE, SIZE]),
    combined: encodeMap(maps.combined, [SIZE, SIZE]),
  };
}

export function goldenPayload(): ExplanationPayload {
  const args = [0.2, -0.05, 0.1, 0.001, -0.2, 0.3, 0.0, -0.01];
  return {
    version: 1,
    model: { name: 'toy-net', path: '/models/toy.onnx', sha256: 'ab', inputSize: [SIZE, SIZE], embeddingSize: args.length },
    threshold: 0.3,
    thresholdSource: 'model card',
    score: 0.342,
    decision: 'match',
    margin: 0.042,
    split: { beta: 0.0375, supporting: { count: 3, sum: 0.6 }, opposing: { count: 5, sum: -0.259 } },
    arguments: args,
    ep: 'cpu',
    timings: { totalMs: 1234 },
    a: { path: '/photos/alice.png', width: 16, height: 16, alignment: 'detected', transform: [0.5, 0, 0, 0, 0.5, 0] },
    b: { path: 'C:\\photos\\bob.jpg', width: 16, height: 16, alignment: 'detected', transform: [0.5, 0, 0, 0, 0.5, 0] },
    ranges: {
      a: { similarity: [5e-4, 0.064], dissimilarity: [5e-4, 0.064], combined: [-0.0635, 0.0635] },
      b: { similarity: [1e-3, 0.128], dissimilarity: [1e-3, 0.128], combined: [-0.127, 0.127] },
    },
    rangePercentile: 99,
    warnings: [],
    images: { a: PNG, b: PNG },
    maps: { a: encoded(goldenMaps(1)), b: encoded(goldenMaps(2)) },
  };
}

/** A JSDOM window; `errors` collects what it reports (an exception in a listener), except its missing canvas. */
export function jsdom(): { dom: JSDOM; errors: Error[] } {
  const errors: Error[] = [];
  const virtualConsole = new VirtualConsole();
  virtualConsole.on('jsdomError', (e: Error) => {
    if (!/Not implemented: HTMLCanvasElement/.test(e.message)) errors.push(e);
  });
  return { dom: new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>', { virtualConsole }), errors };
}
