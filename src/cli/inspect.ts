// `xssab inspect`: what the engine makes of a model, before explaining anything with it.
import { parseArgs } from 'util';
import { formatReport, inspectModel } from '../engine/inspect';
import { UsageError } from '../shared/errors';
import { number } from './args';

export const INSPECT_USAGE = `  xssab inspect MODEL [--json] [--mean M --std S --bgr]
                                input, output, ops, gradient support, quantization, batch handling
                                and preprocessing of an ONNX face-recognition model`;

export async function inspectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, mean: { type: 'string' }, std: { type: 'string' }, bgr: { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new UsageError('inspect needs one model file');
  if (number(values.std, 'std') === 0) throw new UsageError('--std must not be 0');
  const custom = values.mean !== undefined || values.std !== undefined || values.bgr;
  const report = await inspectModel(positionals[0], {
    preprocessing: custom ? { mean: number(values.mean, 'mean'), std: number(values.std, 'std'), channelOrder: values.bgr ? 'BGR' : undefined } : undefined,
  });
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(formatReport(report).join('\n'));
}
