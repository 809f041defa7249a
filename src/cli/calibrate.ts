// `xssab calibrate`: the EER threshold of a model on a labelled pair list.
import { readPairList } from '../engine/pairList';
import { lfwPairList } from '../engine/patchlfw/lfw';
import { UsageError } from '../shared/errors';
import { parseModelCommand } from './args';
import { engineOptions, withEngine } from './lifecycle';
import { ProgressLine } from './progress';

export const CALIBRATE_USAGE = `  xssab calibrate LIST [--model FILE] [--json]
                                EER threshold of a model on a labelled pair list (a,b,same|different)
  xssab calibrate --lfw ROOT pairs.txt [--model FILE] [--json]
                                the same on LFW View-2 pairs (photos detected and aligned)`;

export async function calibrateCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseModelCommand(args, { json: { type: 'boolean' }, lfw: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`calibrate needs one ${values.lfw ? 'pairs.txt' : 'pair list'}`);
  const pairs = values.lfw ? lfwPairList(values.lfw, positionals[0]) : readPairList(positionals[0]);
  const unlabelled = pairs.filter((p) => !p.label).length;
  if (unlabelled) throw new UsageError(`${positionals[0]}: ${unlabelled} pair(s) have no same/different label`);
  await withEngine({ ...engineOptions(values), purpose: 'embed' }, async (engine) => {
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
    }
  });
}
