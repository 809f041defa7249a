// A separable Gaussian blur of planar float data, shared by the engine's trust check (the
// blurred copy that replaces pixels) and the viewer's display-only smoothing of a map.
// Browser-safe.

/** The normalised 1-D Gaussian kernel of σ, radius ⌈3σ⌉ (a lone 1 for σ ≤ 0). */
export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0)) return Float32Array.of(1);
  const r = Math.ceil(3 * sigma);
  const k = Float32Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((s, v) => s + v, 0);
  return k.map((v) => v / sum);
}

/**
 * Each width×height plane of `data` (planes one after another) blurred with σ, edges repeated
 * so a constant plane stays constant. NaN values (outside an explained region) stay NaN and
 * take no part in their neighbours' values.
 */
export function gaussianBlur(data: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const k = gaussianKernel(sigma);
  if (k.length === 1) return Float32Array.from(data);
  const r = (k.length - 1) / 2;
  const plane = width * height;
  const out = new Float32Array(data.length);
  const row = new Float32Array(plane);
  const pass = (src: Float32Array, dst: Float32Array, offset: number, horizontal: boolean) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        if (Number.isNaN(src[offset + i])) {
          dst[i] = NaN;
          continue;
        }
        let sum = 0, weight = 0;
        for (let j = -r; j <= r; j++) {
          const xx = horizontal ? Math.min(Math.max(x + j, 0), width - 1) : x;
          const yy = horizontal ? y : Math.min(Math.max(y + j, 0), height - 1);
          const v = src[offset + yy * width + xx];
          if (Number.isNaN(v)) continue;
          sum += k[j + r] * v;
          weight += k[j + r];
        }
        dst[i] = sum / weight;
      }
    }
  };
  for (let offset = 0; offset < data.length; offset += plane) {
    pass(data, row, offset, true);
    const column = out.subarray(offset, offset + plane);
    pass(row, column, 0, false);
  }
  return out;
}
