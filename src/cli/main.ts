#!/usr/bin/env node
// The xssab command line: explain a pair of face images, run the demo on the bundled samples.
import * as fs from 'fs';
import * as path from 'path';
import { type ParseArgsConfig, parseArgs } from 'util';
import { UnsupportedGradientError } from '../engine/autodiff/rules';
import { Engine, type EngineOptions, FaceError } from '../engine/engine';
import { ExplainPairsError } from '../engine/explainPairs/run';
import { ImageError } from '../engine/image';
import { ModelError } from '../engine/model';
import { OutputError } from '../engine/files';
import { toPayload, writeExplanation } from '../engine/output';
import { PairListError, readPairList } from '../engine/pairList';
import { LfwError, lfwPairList } from '../engine/patchlfw/lfw';
import { EXPLANATION_MIME } from '../shared/result';
import { RecordsError } from '../engine/runFiles';
import { EXECUTION_PROVIDERS, type ExecutionProviderChoice } from '../engine/runtime';
import { EXPLAIN_PAIRS_USAGE, explainPairs } from './explainPairs';
import { ProgressLine } from './progress';
import { PATCH_LFW_USAGE, patchLfw } from './patchLfw';

export class UsageError extends Error {}

const USAGE = `Usage:
  xssab explain A B [options]   explain why the model matches (or not) face images A and B
  xssab demo [--out DIR]        explain the bundled sample pairs
  xssab calibrate LIST [--model FILE] [--json]
                                EER threshold of a model on a labelled pair list (a,b,same|different)
  xssab calibrate --lfw ROOT pairs.txt [--model FILE] [--json]
                                the same on LFW View-2 pairs (photos detected and aligned)
${EXPLAIN_PAIRS_USAGE}
${PATCH_LFW_USAGE}
  xssab help

Options of explain:
  --out DIR            write result.json, maps (.npy), overlays (.png) and report.html
                       (default: xssab-out/A_vs_B, named after the two files)
  --json               print result.json to stdout
  --mime               print the explanation as ${EXPLANATION_MIME} JSON (for notebooks)
  --model FILE         ONNX face-recognition model (default: the bundled MobileFaceNet)
  --threshold T        decision threshold on the cosine score (default: the model card's)
  --ep EP              execution provider: ${EXECUTION_PROVIDERS.join(', ')} (default: cpu)
  --face-a N, --face-b N   use the N-th largest detected face (0 = largest)
  --no-align           use the images as aligned crops (resized to the model's input size)
  --mean M, --std S, --bgr  preprocessing of a model without a card: (v − M) / S, BGR channel order`;

export const MODEL_OPTIONS = {
  model: { type: 'string' },
  threshold: { type: 'string' },
  ep: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  bgr: { type: 'boolean' },
} as const;

type ModelCommand<O> = { args: string[]; allowPositionals: true; options: typeof MODEL_OPTIONS & O };

/** Parses the arguments of a command that takes positionals, the model options and `options`. */
export function parseModelCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<ModelCommand<O>>> {
  return parseArgs<ModelCommand<O>>({ args, allowPositionals: true, options: { ...MODEL_OPTIONS, ...options } });
}

export function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return v;
}

function faceIndex(value: string | undefined, name: string): number | undefined {
  const v = number(value, name);
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(`--${name} must be a face number 0, 1, 2, …`);
  return v;
}

export function engineOptions(values: { model?: string; ep?: string; mean?: string; std?: string; bgr?: boolean }): EngineOptions {
  const ep = (values.ep ?? 'cpu') as ExecutionProviderChoice;
  if (!EXECUTION_PROVIDERS.includes(ep)) throw new UsageError(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}`);
  const custom = values.mean !== undefined || values.std !== undefined || values.bgr;
  if (number(values.std, 'std') === 0) throw new UsageError('--std must not be 0');
  return {
    model: values.model,
    ep,
    onFallback: (providers, reason) => console.error(`xssab: notice: not using ${providers} (${reason}); running on the next provider`),
    onModelWarning: (message) => console.error(`xssab: warning: ${message}`),
    preprocessing: custom
      ? { mean: number(values.mean, 'mean'), std: number(values.std, 'std'), channelOrder: values.bgr ? 'BGR' : undefined }
      : undefined,
  };
}

async function explain(args: string[]): Promise<void> {
  const { values, positionals } = parseModelCommand(args, {
    out: { type: 'string' },
    json: { type: 'boolean' },
    mime: { type: 'boolean' },
    'face-a': { type: 'string' },
    'face-b': { type: 'string' },
    'no-align': { type: 'boolean' },
  });
  if (positionals.length !== 2) throw new UsageError(`explain needs two images, got ${positionals.length}`);
  const threshold = number(values.threshold, 'threshold');
  const faceA = faceIndex(values['face-a'], 'face-a');
  const faceB = faceIndex(values['face-b'], 'face-b');
  const engine = await Engine.create(engineOptions(values));
  try {
    const [a, b] = positionals;
    const noAlign = values['no-align'];
    const pair = await engine.explainPair({ source: a, label: a, face: faceA, noAlign }, { source: b, label: b, face: faceB, noAlign }, threshold);
    // One folder per pair by default, so explanations (and the demo's) keep each other's files.
    const stem = (p: string) => path.parse(p).name;
    const out = values.out ?? path.join('xssab-out', `${stem(a)}_vs_${stem(b)}`);
    await writeExplanation(out, pair);
    for (const w of pair.result.warnings.filter((w) => !engine.model.warnings.includes(w))) console.error(`xssab: warning: ${w}`);
    if (values.mime) console.log(JSON.stringify({ [EXPLANATION_MIME]: await toPayload(pair) }));
    else if (values.json) console.log(JSON.stringify(pair.result, null, 2));
    else {
      const r = pair.result;
      console.log(`${r.decision.toUpperCase()}: score ${r.score.toFixed(4)}, threshold ${r.threshold.toFixed(4)} (margin ${r.margin >= 0 ? '+' : ''}${r.margin.toFixed(4)})`);
      console.log(`outputs in ${path.resolve(out)} (open report.html)`);
    }
  } finally {
    await engine.dispose();
  }
}

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

async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  const out = path.resolve(values.out ?? path.join('xssab-out', 'demo'));
  const engine = await Engine.create({ ep: 'cpu' });
  try {
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
  } finally {
    await engine.dispose();
  }
}

async function calibrate(args: string[]): Promise<void> {
  const { values, positionals } = parseModelCommand(args, { json: { type: 'boolean' }, lfw: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`calibrate needs one ${values.lfw ? 'pairs.txt' : 'pair list'}`);
  const pairs = values.lfw ? lfwPairList(values.lfw, positionals[0]) : readPairList(positionals[0]);
  const unlabelled = pairs.filter((p) => !p.label).length;
  if (unlabelled) throw new UsageError(`${positionals[0]}: ${unlabelled} pair(s) have no same/different label`);
  const engine = await Engine.create({ ...engineOptions(values), purpose: 'embed' });
  const progress = new ProgressLine();
  try {
    const labelled = pairs.map((p) => ({ a: p.a, b: p.b, label: p.label! }));
    const eer = await engine.equalErrorRateOf(labelled, undefined, (done, total) => progress.update(`embedded ${done}/${total} images`, done === total));
    progress.end();
    const summary = { model: engine.model.name, ...eer };
    if (values.json) console.log(JSON.stringify(summary, null, 2));
    else {
      console.log(`${summary.genuine} genuine and ${summary.impostor} impostor pairs, model ${summary.model}`);
      console.log(`EER ${(eer.eer * 100).toFixed(2)}% at threshold ${eer.threshold.toFixed(4)} (FMR ${(eer.fmr * 100).toFixed(2)}%, FNMR ${(eer.fnmr * 100).toFixed(2)}%)`);
    }
  } finally {
    progress.end();
    await engine.dispose();
  }
}

const KNOWN_ERRORS = [PairListError, LfwError, ExplainPairsError, RecordsError, UsageError, ImageError, FaceError, ModelError, OutputError, UnsupportedGradientError];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'explain':
        await explain(rest);
        return 0;
      case 'demo':
        await demo(rest);
        return 0;
      case 'calibrate':
        await calibrate(rest);
        return 0;
      case 'explain-pairs':
        await explainPairs(rest);
        return 0;
      case 'patch-lfw':
        await patchLfw(rest);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      default:
        throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    }
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`xssab: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof UsageError) {
      console.error(`xssab: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    const known = KNOWN_ERRORS.some((k) => e instanceof k);
    console.error(`xssab: ${known ? '' : 'internal error: '}${err.message ?? String(e)}`);
    if (!known && process.env.XSSAB_DEBUG) console.error(err.stack);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
