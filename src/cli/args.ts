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

export function shard(value: string | undefined): { index: number; count: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be i/n with 1 ≤ i ≤ n, got "${value}"`);
  return { index, count };
}
