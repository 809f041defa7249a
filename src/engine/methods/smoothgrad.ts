// SmoothGrad (Smilkov et al., 2017, "SmoothGrad: removing noise by adding noise"): any method's
// maps averaged over N copies of the explained face with Gaussian noise added, σ a fraction of the
// face's value range (max − min), as the paper sets it. The partner face stays as it is.
import { pairRandom } from '../random';
import { partnersOf } from './gradient';
import { type FaceAttribution, type MethodEntry, type ParamSpec, defineMethod, fromFirstFace } from './method';

export const SMOOTHGRAD_PARAMS = {
  samples: { kind: 'integer', default: 16, min: 1, max: 1000, description: 'noisy copies N per face' },
  noise: { kind: 'number', default: 0.15, min: 0, max: 1, description: 'noise σ as a fraction of the face\'s value range (the paper uses 0.1–0.2)' },
  seed: { kind: 'integer', default: 3, min: 0, description: 'seed of the noise (each pair and face draws its own stream)' },
} as const satisfies Record<string, ParamSpec>;

export interface SmoothGradParams {
  samples: number;
  noise: number;
  seed: number;
}

/** The N noisy copies of one face, as the wrapper makes them (side 0: a pair's first face, 1: its second). */
export function noisyCopies(face: Float32Array, { samples, noise, seed }: SmoothGradParams, pairIndex: number, side: 0 | 1): Float32Array[] {
  const random = pairRandom(seed, pairIndex, 4 + side);
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of face) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  const sigma = noise * (hi - lo);
  return Array.from({ length: samples }, () => face.map((v) => v + sigma * random.normal()));
}

/** The registry entry of `inner` under SmoothGrad: its parameters and those of the noise. */
export function smoothGrad(inner: MethodEntry): MethodEntry {
  const clash = Object.keys(SMOOTHGRAD_PARAMS).filter((k) => Object.hasOwn(inner.params, k));
  if (clash.length) throw new Error(`smoothgrad-${inner.name}: parameter ${clash.join(', ')} is the inner method's too`);
  return defineMethod<SmoothGradParams & Record<string, number | number[]>>({
    name: `smoothgrad-${inner.name}`,
    description: `SmoothGrad (Smilkov et al., 2017) of ${inner.name}: its maps averaged over noisy copies of the explained face`,
    maps: inner.maps,
    params: { ...inner.params, ...SMOOTHGRAD_PARAMS },
    create(ctx, params) {
      const { samples, noise, seed, ...own } = params;
      const method = inner.create(ctx, own);
      return fromFirstFace(async (pairs, side) => {
        const partners = await partnersOf(ctx, pairs);
        const copies = pairs.flatMap((p, i) => noisyCopies(p.a, { samples, noise, seed }, p.index, side).map((a) => ({ a, b: p.b, index: p.index, partner: partners[i] })));
        const maps = await method.attribute(copies, 'first');
        return pairs.map((_, i) => mean(maps.slice(i * samples, (i + 1) * samples).map((m) => m.faces[0])));
      });
    },
  });
}

/** The mean of each map over the copies (a part is kept when every copy has it). */
function mean(faces: readonly FaceAttribution[]): FaceAttribution {
  const average = (maps: readonly Float32Array[]) => {
    const sum = new Float64Array(maps[0].length);
    for (const m of maps) for (let i = 0; i < m.length; i++) sum[i] += m[i];
    return Float32Array.from(sum, (v) => v / maps.length);
  };
  const out: FaceAttribution = { combined: average(faces.map((f) => f.combined)) };
  for (const part of ['similarity', 'dissimilarity'] as const) {
    if (faces.every((f) => f[part])) out[part] = average(faces.map((f) => f[part]!));
  }
  return out;
}
