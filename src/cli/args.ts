// The command line's arguments: usage errors, the option tables every model command shares, and
// the parsers of numbers, whole numbers, face numbers and shards.
import { type ParseArgsConfig, parseArgs } from 'util';
import { UsageError } from '../shared/errors';

export const MODEL_OPTIONS = {
  model: { type: 'string' },
  threshold: { type: 'string' },
  ep: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
  bgr: { type: 'boolean' },
  verbose: { type: 'boolean' },
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

export function integer(value: string | undefined, name: string, min: number): number | undefined {
  const v = number(value, name);
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError(`--${name} must be a whole number ≥ ${min}`);
  return v;
}

/** A rate strictly between 0 and 1 (a false match rate). */
export function rate(value: string | undefined, name: string): number | undefined {
  const v = number(value, name);
  if (v !== undefined && !(v > 0 && v < 1)) throw new UsageError(`--${name} must be a rate between 0 and 1 (such as 0.001), got "${value}"`);
  return v;
}

export function faceIndex(value: string | undefined, name: string): number | undefined {
  const v = number(value, name);
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new UsageError(`--${name} must be a face number 0, 1, 2, …`);
  return v;
}

/** The environment variable a Kubernetes Indexed Job's manifest sets to its `completions`. */
export const SHARD_COUNT_ENV = 'XSSAB_SHARD_COUNT';

/**
 * `--shard i/n`, or `--shard auto`: this task of a Slurm job array (SLURM_ARRAY_TASK_ID −
 * SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT), or this pod of a Kubernetes Indexed Job
 * (JOB_COMPLETION_INDEX, 0-based, of XSSAB_SHARD_COUNT, which the manifest sets to its completions).
 */
export function shard(value: string | undefined, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  if (value === 'auto') return autoShard(env);
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be i/n with 1 ≤ i ≤ n, or auto, got "${value}"`);
  return { index, count };
}

function autoShard(env: NodeJS.ProcessEnv): { index: number; count: number } {
  const whole = (name: string) => {
    const v = env[name];
    if (v === undefined || !/^\d+$/.test(v)) throw new UsageError(`--shard auto: ${name} is ${v === undefined ? 'not set' : `"${v}", not a whole number`}`);
    return Number(v);
  };
  let index: number;
  let count: number;
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    // Array indices may start anywhere (--array=1-8, 0-7): the offset from the first one counts.
    [index, count] = [whole('SLURM_ARRAY_TASK_ID') - whole('SLURM_ARRAY_TASK_MIN') + 1, whole('SLURM_ARRAY_TASK_COUNT')];
  } else if (env.JOB_COMPLETION_INDEX !== undefined) {
    [index, count] = [whole('JOB_COMPLETION_INDEX') + 1, whole(SHARD_COUNT_ENV)];
  } else throw new UsageError(`--shard auto needs a Slurm job array (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX and ${SHARD_COUNT_ENV})`);
  if (count < 1 || index < 1 || index > count) throw new UsageError(`--shard auto: task ${index} of ${count} does not fit (an array with steps, such as --array=0-8:2, is not supported)`);
  return { index, count };
}
