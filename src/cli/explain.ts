// `xssab explain A B`: explain one pair of face images.
import * as path from 'path';
import { toPayload, writeExplanation } from '../engine/output';
import { checkSummary } from '../engine/trustCheck';
import { regionSummary } from '../shared/regions';
import { EXPLANATION_MIME, SIDES } from '../shared/result';
import { EXECUTION_PROVIDERS } from '../engine/runtime';
import { UsageError } from '../shared/errors';
import { faceIndex, number, parseModelCommand } from './args';
import { engineOptions, withEngine } from './lifecycle';

export const EXPLAIN_USAGE = `  xssab explain A B [options]   explain why the model matches (or not) face images A and B`;

export const EXPLAIN_OPTIONS_USAGE = `Options of explain:
  --out DIR            write result.json, maps (.npy), overlays (.png) and report.html
                       (default: xssab-out/A_vs_B, named after the two files)
  --json               print result.json to stdout
  --mime               print the explanation as ${EXPLANATION_MIME} JSON (for notebooks)
  --model FILE         ONNX face-recognition model (default: the bundled MobileFaceNet)
  --threshold T        decision threshold on the cosine score (default: the model card's)
  --ep EP              execution provider: ${EXECUTION_PROVIDERS.join(', ')} (default: cpu)
  --verbose            with a fallback from a GPU provider, print what each provider said;
                       with a failed run, what onnxruntime said in full
  --face-a N, --face-b N   use the N-th largest detected face (0 = largest)
  --no-align           use the images as aligned crops (resized to the model's input size)
  --check              trust check: rescore each image with 5 … 50 % of its pixels blurred in the
                       map's order vs a random order (result.json check)
  --mean M, --std S, --bgr  preprocessing of a model without a card: (v − M) / S, BGR channel order`;

export async function explainCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseModelCommand(args, {
    out: { type: 'string' },
    json: { type: 'boolean' },
    mime: { type: 'boolean' },
    'face-a': { type: 'string' },
    'face-b': { type: 'string' },
    'no-align': { type: 'boolean' },
    check: { type: 'boolean' },
  });
  if (positionals.length !== 2) throw new UsageError(`explain needs two images, got ${positionals.length}`);
  const threshold = number(values.threshold, 'threshold');
  const faceA = faceIndex(values['face-a'], 'face-a');
  const faceB = faceIndex(values['face-b'], 'face-b');
  await withEngine(engineOptions(values), async (engine) => {
    const [a, b] = positionals;
    const noAlign = values['no-align'];
    const pair = await engine.explainPair({ source: a, label: a, face: faceA, noAlign }, { source: b, label: b, face: faceB, noAlign }, threshold);
    // One folder per pair by default, so explanations (and the demo's) keep each other's files.
    const stem = (p: string) => path.parse(p).name;
    const out = values.out ?? path.join('xssab-out', `${stem(a)}_vs_${stem(b)}`);
    if (values.check) pair.result.check = await engine.checkPair(pair);
    await writeExplanation(out, pair);
    for (const w of pair.result.warnings.filter((w) => !engine.model.warnings.includes(w))) console.error(`xssab: warning: ${w}`);
    if (values.mime) console.log(JSON.stringify({ [EXPLANATION_MIME]: await toPayload(pair) }));
    else if (values.json) console.log(JSON.stringify(pair.result, null, 2));
    else {
      const r = pair.result;
      console.log(`${r.decision.toUpperCase()}: score ${r.score.toFixed(4)}, threshold ${r.threshold.toFixed(4)} (margin ${r.margin >= 0 ? '+' : ''}${r.margin.toFixed(4)})`);
      for (const side of SIDES) if (r[side].regions) console.log(`${side.toUpperCase()} ${regionSummary(r[side].regions!)}`);
      if (r.check) console.log(checkSummary(r.check));
      console.log(`outputs in ${path.resolve(out)} (open report.html)`);
    }
  });
}
