// What every long command does around its work: start the engine from the model options and
// dispose of it whatever happens, and stop cleanly on Ctrl-C.
import { Engine, type EngineOptions } from '../engine/engine';
import { EXECUTION_PROVIDERS, type ExecutionProviderChoice } from '../engine/runtime';
import { UsageError, UserError } from '../shared/errors';
import { number } from './args';
import { ProgressLine } from './progress';

/** A run stopped by Ctrl-C after its current step; what is done stays on disk. */
export class InterruptedError extends UserError {}

// One notice per fallback and process, however many engines a command creates.
const noticed = new Set<string>();

export function engineOptions(values: { model?: string; ep?: string; mean?: string; std?: string; bgr?: boolean; verbose?: boolean }): EngineOptions {
  const ep = (values.ep ?? 'cpu') as ExecutionProviderChoice;
  if (!EXECUTION_PROVIDERS.includes(ep)) throw new UsageError(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')}`);
  const custom = values.mean !== undefined || values.std !== undefined || values.bgr;
  if (number(values.std, 'std') === 0) throw new UsageError('--std must not be 0');
  return {
    model: values.model,
    ep,
    onFallback: (fallback) => {
      if (!noticed.has(fallback.notice)) console.error(`xssab: notice: ${fallback.notice}`);
      noticed.add(fallback.notice);
      if (values.verbose) console.error(fallback.detail.replace(/^/gm, 'xssab: debug: '));
    },
    onModelWarning: (message) => console.error(`xssab: warning: ${message}`),
    preprocessing: custom
      ? { mean: number(values.mean, 'mean'), std: number(values.std, 'std'), channelOrder: values.bgr ? 'BGR' : undefined }
      : undefined,
  };
}

/** Where a long command runs, said on stderr when it starts (stdout may be a notebook's JSON). */
export function announceEngine(engine: Engine): void {
  console.error(`model ${engine.model.name}, execution provider ${engine.ep}`);
}

/** Runs `work` with an engine started from `options`, disposed of when the work ends or fails. */
export async function withEngine<T>(options: EngineOptions, work: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await Engine.create(options);
  try {
    return await work(engine);
  } finally {
    await engine.dispose();
  }
}

/**
 * Runs a long `work` that stops after its current step on Ctrl-C (what is done stays on disk) and
 * shows its progress on one line; the line is ended and Ctrl-C handed back however the work ends.
 */
export async function interruptible<T>(work: (signal: AbortSignal, progress: ProgressLine) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = () => controller.abort(new InterruptedError('stopped; run the same command again to resume'));
  process.once('SIGINT', stop);
  const progress = new ProgressLine();
  try {
    return await work(controller.signal, progress);
  } finally {
    progress.end();
    process.off('SIGINT', stop);
  }
}
