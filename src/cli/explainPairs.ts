// `xssab explain-pairs`: explain a whole pair list with one or two models (see engine/explainPairs).
import * as path from 'path';
import { parseArgs } from 'util';
import type { Engine } from '../engine/engine';
import { lensGroups, pairListOutput } from '../engine/explainPairs/load';
import { readLens } from '../engine/explainPairs/lens';
import { openRunStore } from '../engine/explainPairs/store';
import type { EmbeddingStats } from '../engine/explainPairs/embeddingCache';
import type { RunProgress } from '../engine/runFiles';
import { explainPairList, mergePairListShards } from '../engine/explainPairs/run';
import { DEFAULT_SAMPLE, parseSelection } from '../engine/explainPairs/select';
import { PAIRLIST_MIME } from '../shared/result';
import type { PairListSummary } from '../shared/pairListSummary';
import { UsageError } from '../shared/errors';
import { integer, number, parseModelCommand, rate, shard } from './args';
import { announceEngine, engineOptions, interruptible, withEngine } from './lifecycle';
import { runProgressText } from './progress';
import { groupLines, parseCompare, rateText } from './groups';
import { wilson } from '../shared/rates';

export const EXPLAIN_PAIRS_USAGE = `  xssab explain-pairs LIST --out DIR [--model FILE] [--model-b FILE] [--threshold T] [--threshold-b T]
                        [--at-fmr F] [--at-fmr-b F] [--explain all|errors|none|sample:N]
                        [--embedding-cache DIR] [--lfw ROOT] [--batch N] [--shard i/n|auto] [--mime]
                        [--by ATTR[,ATTR]] [--attributes FILE] [--folder-attribute NAME] [--min-group N]
                        [--compare ATTR=X,ATTR=Y]
                                score every pair of a list (a,b[,same|different], or LFW pairs.txt with
                                --lfw) from one embedding per distinct image (cached on disk), then explain
                                the selected pairs (default errors: every false match and non-match, and
                                ${DEFAULT_SAMPLE} pairs per group for the aggregates): per-pair maps, summary.json,
                                aggregate maps and report.html; --at-fmr sets the threshold where the
                                impostor scores give that false match rate;
                                --model-b compares a second model on the same pairs (resumes in the same --out);
                                --mime prints the gallery as ${PAIRLIST_MIME} JSON (for notebooks);
                                --by: error rates per group of pair attributes (list columns named by a
                                header row, --attributes image,attr… table, --folder-attribute: group folders);
                                --compare: group X's mean maps per error kind minus group Y's (the report's headline)
  xssab explain-pairs merge OUT SHARD_DIR...   join the outputs of --shard runs (a list file named
                                "merge" is given as ./merge)`;

function printSummary(summary: PairListSummary, out: string, print: (line: string) => void = console.log): void {
  for (const m of summary.models) {
    const c = m.counts;
    print(
      `${m.key} ${m.name}: threshold ${m.threshold.toFixed(4)} (${m.thresholdSource}); FMR ${rateText(wilson(c['false match'], m.impostor))}, ` +
        `FNMR ${rateText(wilson(c['false non-match'], m.genuine))}${c.unlabelled ? `, ${c.unlabelled} unlabelled` : ''} (95% Wilson intervals)`,
    );
  }
  if (summary.groups) groupLines(summary.groups).forEach((line) => print(line));
  if (summary.comparison) {
    print(`decisions differ on ${summary.comparison.disagreements.length} pair(s)`);
    if (summary.comparison.note) console.error(`xssab: warning: ${summary.comparison.note}`);
  }
  if (summary.failed) console.error(`xssab: warning: ${summary.failed} pair(s) could not be explained (see summary.json)`);
  print(`${summary.total} pairs scored, ${summary.explained} explained; report in ${path.resolve(out)} (open report.html)`);
}

async function merge(args: string[]): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length < 2) throw new UsageError('explain-pairs merge needs an output folder and at least one shard folder');
  const [out, ...shards] = positionals;
  const { settings, summary } = await mergePairListShards(out, shards);
  if (summary.total < settings.pairs) console.error(`xssab: warning: merged ${summary.total} of ${settings.pairs} pairs; some shards are missing or unfinished`);
  printSummary(summary, out);
}

export async function explainPairsCommand(args: string[]): Promise<void> {
  if (args[0] === 'merge') return merge(args.slice(1));
  const { values, positionals } = parseModelCommand(args, {
    out: { type: 'string' },
    'model-b': { type: 'string' },
    'threshold-b': { type: 'string' },
    lfw: { type: 'string' },
    batch: { type: 'string' },
    shard: { type: 'string' },
    mime: { type: 'boolean' },
    explain: { type: 'string' },
    'at-fmr': { type: 'string' },
    'at-fmr-b': { type: 'string' },
    'embedding-cache': { type: 'string' },
    by: { type: 'string' },
    attributes: { type: 'string' },
    'folder-attribute': { type: 'string' },
    'min-group': { type: 'string' },
    compare: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(`explain-pairs needs one ${values.lfw ? 'pairs.txt' : 'pair list'}, got ${positionals.length}`);
  if (!values.out) throw new UsageError('explain-pairs needs --out DIR');
  if (values['threshold-b'] !== undefined && !values['model-b']) throw new UsageError('--threshold-b needs --model-b');
  if (values['at-fmr-b'] !== undefined && !values['model-b']) throw new UsageError('--at-fmr-b needs --model-b');
  if (values.threshold !== undefined && values['at-fmr'] !== undefined) throw new UsageError('--threshold and --at-fmr exclude each other');
  if (values['threshold-b'] !== undefined && values['at-fmr-b'] !== undefined) throw new UsageError('--threshold-b and --at-fmr-b exclude each other');
  const explain = parseSelection(values.explain ?? 'errors');
  if (!explain) throw new UsageError(`--explain must be all, errors, none or sample:N (N ≥ 1), got "${values.explain}"`);
  const by = values.by?.split(',').map((a) => a.trim());
  if (by?.some((a) => !a)) throw new UsageError('--by needs attribute names, e.g. --by gender or --by gender,age');
  if (values['min-group'] !== undefined && !by) throw new UsageError('--min-group needs --by');
  if (values.compare !== undefined && !by) throw new UsageError('--compare needs --by');
  const options = {
    list: positionals[0],
    lfwRoot: values.lfw,
    out: values.out,
    threshold: number(values.threshold, 'threshold'),
    thresholdB: number(values['threshold-b'], 'threshold-b'),
    batch: integer(values.batch, 'batch', 1),
    shard: shard(values.shard),
    explain,
    atFmr: rate(values['at-fmr'], 'at-fmr'),
    atFmrB: rate(values['at-fmr-b'], 'at-fmr-b'),
    ...(values['embedding-cache'] !== undefined ? { embeddingCache: values['embedding-cache'] } : {}),
    by,
    attributes: values.attributes,
    folderAttribute: values['folder-attribute'],
    minGroup: integer(values['min-group'], 'min-group', 1),
    compare: values.compare === undefined ? undefined : parseCompare(values.compare),
  };
  const run = (engine: Engine, engineB?: Engine) =>
    interruptible(async (signal, progress) => {
      for (const e of [engine, engineB]) if (e) announceEngine(e);
      const show = (p: RunProgress) => progress.update(runProgressText(p), p.done === p.total);
      const onEmbeddings = (key: string, s: EmbeddingStats) => {
        progress.end();
        console.error(`${key}: ${s.images} distinct images, ${s.hits} in the embedding cache, ${s.embedded} embedded`);
      };
      const summary = await explainPairList({ ...options, engine, engineB }, { signal, onEmbeddings, onEmbeddingProgress: (_, p) => show(p), onProgress: show });
      progress.end();
      // With --mime stdout is the notebook output alone; the summary lines go to stderr.
      if (values.mime) {
        console.log(JSON.stringify({ [PAIRLIST_MIME]: await pairListOutput(openRunStore(options.out), lensGroups(readLens(options.out))) }));
        printSummary(summary, options.out, console.error);
      } else printSummary(summary, options.out);
    });
  const modelB = values['model-b'];
  await withEngine(engineOptions(values), (engine) =>
    modelB ? withEngine(engineOptions({ ...values, model: modelB }), (engineB) => run(engine, engineB)) : run(engine),
  );
}
