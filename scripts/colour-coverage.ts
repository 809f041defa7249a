// How much of each map a person can see: the share of pixels at ≥ 25 % of the recorded colour
// range (result.json `ranges`), per image, for the combined map and for the similarity and
// dissimilarity maps together. Run after `npm run demo`:
//   npx tsx scripts/colour-coverage.ts [xssab-out/demo]
// Target (issue 15): ≥ 10 % everywhere.
import * as fs from 'fs';
import * as path from 'path';
import { scalePosition } from '../src/shared/colour';
import { readNpy } from '../src/engine/output';
import { type ExplanationResult, type MapKind, SIDES } from '../src/shared/result';

const VISIBLE = 0.25;
const TARGET = 0.1;

/** Share of the values whose colour lies at ≥ VISIBLE of the way from the scale's neutral end (its centre for the combined map). */
function visibleShare(kind: MapKind, maps: Float32Array[], range: [number, number]): number {
  let visible = 0, total = 0;
  for (const map of maps) {
    for (const v of map) {
      const t = scalePosition(v, range);
      if ((kind === 'combined' ? Math.abs(2 * t - 1) : t) >= VISIBLE) visible++;
      total++;
    }
  }
  return visible / total;
}

const root = process.argv[2] ?? path.join('xssab-out', 'demo');
let worst = 1;
for (const name of fs.readdirSync(root).sort()) {
  const dir = path.join(root, name);
  if (!fs.existsSync(path.join(dir, 'result.json'))) continue;
  const result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) as ExplanationResult;
  for (const side of SIDES) {
    const map = (kind: MapKind) => readNpy(path.join(dir, `${side}_${kind}.npy`)).data;
    const ranges = result.ranges[side];
    const pairShare = visibleShare('similarity', [map('similarity'), map('dissimilarity')], ranges.similarity);
    const combinedShare = visibleShare('combined', [map('combined')], ranges.combined);
    worst = Math.min(worst, pairShare, combinedShare);
    const pct = (v: number) => `${(100 * v).toFixed(1).padStart(5)} %`;
    console.log(`${name.padEnd(18)} ${side}  similarity+dissimilarity ${pct(pairShare)}  combined ${pct(combinedShare)}  (range at the ${result.rangePercentile ?? 100}th percentile)`);
  }
}
console.log(`smallest share ${(100 * worst).toFixed(1)} %: ${worst >= TARGET ? 'meets' : 'misses'} the 10 % target`);
process.exitCode = worst >= TARGET ? 0 : 1;
