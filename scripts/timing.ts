// Timing helpers shared by the benchmark scripts.

export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Wall time of one call, in milliseconds. */
export async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Median wall time of `runs` calls after `warmup` calls, in milliseconds. */
export async function timeRuns(runs: number, fn: () => Promise<unknown>, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** First quartile, median and third quartile (linear interpolation between order statistics). */
export function quartiles(values: readonly number[]): [number, number, number] {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const i = q * (s.length - 1);
    const lo = Math.floor(i);
    return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
  };
  return [at(0.25), at(0.5), at(0.75)];
}

export interface Comparison {
  /** Median wall times of the two, in milliseconds. */
  aMs: number;
  bMs: number;
  /** Median of the per-round ratios b/a, and their first and third quartiles. */
  ratio: number;
  ratioIqr: [number, number];
}

/**
 * Times what a ratio compares in one loop: every round runs `a` and `b` once each, in alternating
 * order, so both see the shared machine as it is at that moment; the ratio is taken per round.
 */
export async function interleaved(rounds: number, a: () => Promise<unknown>, b: () => Promise<unknown>, warmup = 2): Promise<Comparison> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const time = async (fn: () => Promise<unknown>) => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const [as, bs, ratios]: number[][] = [[], [], []];
  for (let r = 0; r < rounds; r++) {
    let ta: number;
    let tb: number;
    if (r % 2 === 0) {
      ta = await time(a);
      tb = await time(b);
    } else {
      tb = await time(b);
      ta = await time(a);
    }
    as.push(ta);
    bs.push(tb);
    ratios.push(tb / ta);
  }
  const [q1, ratio, q3] = quartiles(ratios);
  return { aMs: median(as), bMs: median(bs), ratio, ratioIqr: [q1, q3] };
}
