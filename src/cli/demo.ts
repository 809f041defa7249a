// `xssab demo`: explain the bundled sample pairs.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { writeExplanation } from '../engine/output';
import { withEngine } from './lifecycle';

export const DEMO_USAGE = `  xssab demo [--out DIR]        explain the bundled sample pairs`;

/** Bundled samples: a genuine pair of aligned crops, an impostor pair, and two raw photos. */
function demoPairs(root: string): { name: string; a: string; b: string; what: string }[] {
  const s = (p: string) => path.join(root, p);
  return [
    { name: 'genuine-crops', a: s('aligned/man_01_face0.png'), b: s('aligned/man_07_face0.png'), what: 'same man, aligned crops' },
    { name: 'impostor-crops', a: s('aligned/sample1_face0.png'), b: s('aligned/sample4_face0.png'), what: 'two different women, aligned crops' },
    { name: 'genuine-photos', a: s('photos/man_03.jpg'), b: s('photos/man_12.jpg'), what: 'same man, raw photos (detected and aligned)' },
    { name: 'impostor-photos', a: s('photos/sample2.jpg'), b: s('photos/sample5.jpg'), what: 'largest faces of two group photos (detected and aligned)' },
  ];
}

function samplesDir(): string {
  const candidates = [path.join(__dirname, '..', 'samples'), path.join(__dirname, '..', '..', 'samples')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'aligned')));
  if (!found) throw new Error('the bundled samples folder was not found');
  return found;
}

export async function demoCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  const out = path.resolve(values.out ?? path.join('xssab-out', 'demo'));
  await withEngine({ ep: 'cpu' }, async (engine) => {
    console.log(`model: ${engine.model.name}, threshold ${engine.model.threshold.toFixed(4)} (${engine.model.thresholdSource}), ${engine.ep}`);
    for (const p of demoPairs(samplesDir())) {
      const pair = await engine.explainPair({ source: p.a, label: p.a }, { source: p.b, label: p.b });
      await writeExplanation(path.join(out, p.name), pair);
      const r = pair.result;
      console.log(
        `${p.name.padEnd(16)} ${r.decision.padEnd(8)} score ${r.score.toFixed(4)}  ${r.timings.totalMs.toFixed(0).padStart(4)} ms  (${p.what})`,
      );
    }
    console.log(`outputs in ${out}/<pair>/ (open report.html)`);
  });
}
