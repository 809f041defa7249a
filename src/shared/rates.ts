// Error rates with their 95 % Wilson score intervals: in src/shared so that every place a rate is
// shown (the CLI, the report, the gallery webview) can give its interval.
import type { Rate } from './pairListSummary';

/** z of a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/** `errors` of `pairs` with the Wilson score interval (for 0 pairs: rate 0 in [0, 1]). */
export function wilson(errors: number, pairs: number): Rate {
  if (pairs === 0) return { errors, pairs, rate: 0, low: 0, high: 1 };
  const p = errors / pairs;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * pairs)) / (1 + z2 / pairs);
  const half = (Z95 / (1 + z2 / pairs)) * Math.sqrt((p * (1 - p)) / pairs + z2 / (4 * pairs * pairs));
  return { errors, pairs, rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
