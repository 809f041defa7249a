// Rebuilds samples/patch-samples/: a small balanced Patch-LFW-style set from the bundled aligned
// crops. `npx tsx scripts/make-patch-samples.ts`
//
// Pairs: 32 genuine (the man_* crops) and 32 impostor (women of different photos), evenly spaced
// through samples/pairs.csv, so the selection is fixed. Genuine pairs take their patches from a
// woman's crop (another identity), impostor pairs from the partner. Only the manifest and the
// pair list are stored: the patched images are rebuilt from the crops and the coordinates.
import * as fs from 'fs';
import * as path from 'path';
import { Engine } from '../src/engine/engine';
import { DEFAULT_SEED, buildPatchedSet } from '../src/engine/patchlfw/build';
import { readListPairs } from '../src/engine/patchlfw/lfw';

const PER_LABEL = 32;
const samples = path.join(__dirname, '..', 'samples');
const out = path.join(samples, 'patch-samples');

function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

async function main() {
  // Identities come from the whole list; the chosen pairs are numbered anew. The pair list is
  // written after the build, which refuses a folder holding files it did not write.
  const all = readListPairs(path.join(samples, 'pairs.csv'));
  const chosen = [
    ...evenlySpaced(all.filter((p) => p.label === 'same'), PER_LABEL),
    ...evenlySpaced(all.filter((p) => p.label === 'different'), PER_LABEL),
  ].map((pair, index) => ({ ...pair, index }));
  fs.rmSync(out, { recursive: true, force: true });
  const engine = await Engine.create({ ep: 'cpu' });
  try {
    const manifest = await buildPatchedSet({
      pairs: chosen,
      out,
      seed: DEFAULT_SEED,
      prepare: (source, label) => engine.prepareFace(source, label),
      writePatched: false,
    });
    const rel = (p: string) => path.relative(out, p).split(path.sep).join('/');
    fs.writeFileSync(
      path.join(out, 'pairs.csv'),
      `# Patch-Samples: ${PER_LABEL} genuine and ${PER_LABEL} impostor pairs of ../pairs.csv, evenly spaced (scripts/make-patch-samples.ts)\n` +
        'a,b,label\n' +
        chosen.map((p) => `${rel(p.a.path)},${rel(p.b.path)},${p.label}`).join('\n') +
        '\n',
    );
    console.log(`${manifest.pairs.length} pairs in ${out}`);
  } finally {
    await engine.dispose();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
