// The benchmark's random streams, drawn from ../random (mulberry32). It does not reproduce numpy's
// MT19937 stream, so a set built here differs from the published Patch-LFW; to reproduce that
// one, read the reference's coordinate files instead (see lfw.ts).
import { Random } from '../random';

/** An independent stream per pair, so shards and resumed runs draw the same values. */
export function pairRandom(seed: number, pairIndex: number, purpose: number): Random {
  return new Random(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(pairIndex + 1, 0xc2b2ae35) ^ Math.imul(purpose + 1, 0x27d4eb2f));
}
