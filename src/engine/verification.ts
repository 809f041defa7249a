// Verification error rates: FMR and FNMR at a threshold, and the equal-error-rate threshold.

export interface ErrorRates {
  /** Share of impostor pairs accepted (s ≥ t). */
  fmr: number;
  /** Share of genuine pairs rejected (s < t). */
  fnmr: number;
}

export function errorRates(genuine: readonly number[], impostor: readonly number[], threshold: number): ErrorRates {
  const accepted = impostor.filter((s) => s >= threshold).length;
  const rejected = genuine.filter((s) => s < threshold).length;
  return { fmr: impostor.length ? accepted / impostor.length : 0, fnmr: genuine.length ? rejected / genuine.length : 0 };
}

export interface EqualErrorRate {
  threshold: number;
  /** Mean of FMR and FNMR at the threshold. */
  eer: number;
  fmr: number;
  fnmr: number;
}

/**
 * The threshold where FMR and FNMR are closest. Candidates are the midpoints between consecutive
 * distinct scores (and just outside both ends), so a threshold never sits on a score; when the
 * classes separate, this is the middle of the gap between them.
 */
export function equalErrorRate(genuine: readonly number[], impostor: readonly number[]): EqualErrorRate {
  if (genuine.length === 0 || impostor.length === 0) throw new Error('the EER needs genuine and impostor pairs');
  const scores = [...new Set([...genuine, ...impostor])].sort((a, b) => a - b);
  const candidates = [scores[0] - 1e-6, ...scores.slice(1).map((s, i) => (s + scores[i]) / 2), scores[scores.length - 1] + 1e-6];
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  let best: EqualErrorRate | undefined;
  // Both lists are sorted, so the counts below each candidate advance monotonically.
  let gi = 0;
  let ii = 0;
  for (const t of candidates) {
    while (gi < g.length && g[gi] < t) gi++;
    while (ii < im.length && im[ii] < t) ii++;
    const fnmr = gi / g.length;
    const fmr = (im.length - ii) / im.length;
    if (!best || Math.abs(fmr - fnmr) < Math.abs(best.fmr - best.fnmr)) best = { threshold: t, eer: (fmr + fnmr) / 2, fmr, fnmr };
  }
  return best!;
}
