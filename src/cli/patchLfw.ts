// `xssab patch-lfw build | evaluate | merge`: the Patch-LFW benchmark and the DPR protocol.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { RNGS, buildPatchedSet } from '../engine/patchlfw/build';
import { evaluateDpr } from '../engine/patchlfw/dpr';
import { type BenchPair, LfwError, checkImagesExist, parseReferenceFile, readListPairs, readLfwPairs } from '../engine/patchlfw/lfw';
import type { MethodSetting } from '../engine/methods/method';
import { METHOD_NAMES, methodEntry, methodSetting, parseParamAssignments } from '../engine/methods/registry';
import { type DprSummary, arithmeticText, mergeShards, summaryTable, writeReport } from '../engine/patchlfw/report';
import { UsageError } from '../shared/errors';
import { MODEL_OPTIONS, integer, number, shard } from './args';
import { announceEngine, engineOptions, interruptible, withEngine } from './lifecycle';
import { runProgressText } from './progress';

export const PATCH_LFW_USAGE = `  xssab patch-lfw build (--lfw ROOT --pairs pairs.txt | --list PAIRS.csv) --out DIR [--seed N] [--rng mulberry32|numpy]
                        [--ref-imp patch_idx_imp.txt --ref-gen patch_idx_gen.txt] [--no-images]
                                build a patched set (27 patches of 16×16 px on each first image)
  xssab patch-lfw evaluate --set DIR --out DIR [--methods ${METHOD_NAMES.join(',')}]
                        [--param METHOD.NAME=VALUE]... [--masks N] [--seed N]
                        [--threshold T] [--shard i/n|auto] [--batch N] [--model FILE] [--reference-compat]
                                run the DPR protocol (resumes an interrupted run in the same --out);
                                --reference-compat: the reference code's levels, counts, random order and JPEG round trips
  xssab patch-lfw merge OUT SHARD_DIR...   join the outputs of --shard runs`;

/**
 * The methods of --methods with their parameters: --param METHOD.NAME=VALUE, and the shorthands
 * --masks N (random-masks.masks) and --seed N (the seed of every method that draws, unless
 * --param sets it).
 */
function methods(value: string | undefined, params: readonly string[], shorthands: { masks?: number; seed?: number }): MethodSetting[] {
  const names = [...new Set((value ?? 'xssab').split(',').map((s) => s.trim()))];
  const unknown = names.filter((n) => !METHOD_NAMES.includes(n));
  if (unknown.length) throw new UsageError(`--methods: unknown method ${unknown.join(', ')} (choose from ${METHOD_NAMES.join(', ')})`);
  const given = parseParamAssignments(params, names);
  return names.map((name) => {
    const own = methodEntry(name).params;
    const implied = {
      ...(shorthands.seed !== undefined && own.seed ? { seed: shorthands.seed } : {}),
      ...(shorthands.masks !== undefined && own.masks ? { masks: shorthands.masks } : {}),
    };
    return methodSetting(name, { ...implied, ...given[name] });
  });
}

async function build(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...MODEL_OPTIONS,
      lfw: { type: 'string' },
      pairs: { type: 'string' },
      list: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      rng: { type: 'string' },
      'ref-imp': { type: 'string' },
      'ref-gen': { type: 'string' },
      'no-images': { type: 'boolean' },
    },
  });
  if (!values.out) throw new UsageError('patch-lfw build needs --out DIR');
  let pairs: BenchPair[];
  if (values.list) pairs = readListPairs(values.list);
  else if (values.lfw && values.pairs) pairs = readLfwPairs(values.lfw, values.pairs);
  else throw new UsageError('patch-lfw build needs --lfw ROOT --pairs pairs.txt, or --list PAIRS.csv');
  checkImagesExist(pairs.flatMap((p) => [p.a.path, p.b.path]));
  if (!values['ref-imp'] !== !values['ref-gen']) throw new UsageError('--ref-imp and --ref-gen go together');
  const [refImp, refGen] = [values['ref-imp'], values['ref-gen']];
  const read = (file: string) => {
    if (!fs.existsSync(file)) throw new LfwError(`${file}: coordinate file not found`);
    return fs.readFileSync(file, 'utf8');
  };
  const reference =
    refImp && refGen
      ? new Map([...parseReferenceFile(read(refImp), refImp, 'impostor'), ...parseReferenceFile(read(refGen), refGen, 'genuine')])
      : undefined;
  const out = values.out;
  const seed = integer(values.seed, 'seed', 0);
  const rng = values.rng as (typeof RNGS)[number] | undefined;
  if (rng !== undefined && !RNGS.includes(rng)) throw new UsageError(`--rng must be one of ${RNGS.join(', ')}, got "${rng}"`);
  if (rng !== undefined && reference) throw new UsageError('--rng draws the coordinates; --ref-imp/--ref-gen read them: give one or the other');
  await withEngine({ ...engineOptions(values), purpose: 'embed' }, (engine) =>
    interruptible(async (signal, progress) => {
      announceEngine(engine);
      const manifest = await buildPatchedSet({
        pairs,
        out,
        seed,
        rng,
        reference,
        prepare: (source, label) => engine.prepareFace(source, label),
        writePatched: !values['no-images'],
        onProgress: (done, total) => progress.update(`built ${done}/${total} pairs`, done === total),
        signal,
      });
      progress.end();
      const genuine = manifest.pairs.filter((p) => p.label === 'same').length;
      console.log(`${manifest.pairs.length} pairs (${genuine} genuine, ${manifest.pairs.length - genuine} impostor) in ${path.resolve(out)}`);
    }),
  );
}

function printSummary(summary: DprSummary, out: string): void {
  const s = summary.settings;
  console.log(`${summary.genuine} genuine and ${summary.impostor} impostor pairs of ${s.pairs}; threshold ${s.threshold.toFixed(4)} (${s.thresholdSource})`);
  console.log(`arithmetic: ${arithmeticText(s)}`);
  console.log(summaryTable(summary));
  console.log(`report in ${path.resolve(out)} (open report.html)`);
}

async function evaluate(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ...MODEL_OPTIONS,
      set: { type: 'string' },
      out: { type: 'string' },
      methods: { type: 'string' },
      shard: { type: 'string' },
      batch: { type: 'string' },
      masks: { type: 'string' },
      seed: { type: 'string' },
      param: { type: 'string', multiple: true },
      'reference-compat': { type: 'boolean' },
    },
  });
  if (!values.set || !values.out) throw new UsageError('patch-lfw evaluate needs --set DIR and --out DIR');
  const seed = integer(values.seed, 'seed', 0);
  const options = {
    set: values.set,
    out: values.out,
    methods: methods(values.methods, values.param ?? [], { masks: integer(values.masks, 'masks', 2), seed }),
    threshold: number(values.threshold, 'threshold'),
    shard: shard(values.shard),
    batch: integer(values.batch, 'batch', 1),
    seed,
    referenceCompat: values['reference-compat'] ?? false,
  };
  await withEngine(engineOptions(values), (engine) =>
    interruptible(async (signal, progress) => {
      announceEngine(engine);
      const { settings, records } = await evaluateDpr(engine, {
        ...options,
        signal,
        onThreshold: (s) => console.error(`threshold ${s.threshold.toFixed(4)} (${s.thresholdSource}${s.eer === undefined ? '' : `, EER ${(s.eer * 100).toFixed(2)}%`})`),
        onProgress: (p) => progress.update(runProgressText(p), p.done === p.total),
      });
      progress.end();
      printSummary(await writeReport(options.out, settings, records), options.out);
    }),
  );
}

async function merge(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length < 2) throw new UsageError('patch-lfw merge needs an output folder and at least one shard folder');
  const [out, ...shards] = positionals;
  const summary = await mergeShards(out, shards);
  const found = summary.genuine + summary.impostor;
  if (found < summary.settings.pairs) console.error(`xssab: warning: merged ${found} of ${summary.settings.pairs} pairs; some shards are missing or unfinished`);
  printSummary(summary, out);
}

export async function patchLfwCommand(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'build':
      return build(rest);
    case 'evaluate':
      return evaluate(rest);
    case 'merge':
      return merge(rest);
    default:
      throw new UsageError(sub ? `unknown patch-lfw command "${sub}"` : 'patch-lfw needs build, evaluate or merge');
  }
}
