// A small seeded generator (mulberry32): the same seed gives the same values on every platform.
// The Patch-LFW benchmark draws its patches, permutations and masks from it, the model builders
// their test images and random weights, and the unit tests their inputs (golden values depend on
// the exact stream).

export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in lo..hi (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Box–Muller, two uniforms per sample; 1 − next() is in (0, 1], so the log is finite). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** A uniform random permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const p = Uint32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}

/**
 * An independent stream per pair and purpose, so shards and resumed runs draw the same values
 * (DPR: 1 the random order; the methods: 2–3 the masks, 4–5 SmoothGrad's noise, of each face).
 */
export function pairRandom(seed: number, pairIndex: number, purpose: number): Random {
  return new Random(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(pairIndex + 1, 0xc2b2ae35) ^ Math.imul(purpose + 1, 0x27d4eb2f));
}
