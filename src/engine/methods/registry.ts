// The one list of explanation methods: the product's explain path, the DPR protocol, the CLI's
// --methods, the task definition's enum (package.json) and the benchmark all read it.
import { SALIENCY, XSSAB } from './gradient';
import { type ExplanationMethod, type MethodContext, type MethodEntry, type MethodSetting, MethodError, resolveParams } from './method';
import { OCCLUSION, RANDOM_MASKS } from './perturbation';
import { smoothGrad } from './smoothgrad';

export const METHODS: readonly MethodEntry[] = [XSSAB, SALIENCY, OCCLUSION, RANDOM_MASKS, smoothGrad(XSSAB)];
export const METHOD_NAMES: readonly string[] = METHODS.map((m) => m.name);

export function methodEntry(name: string): MethodEntry {
  const entry = METHODS.find((m) => m.name === name);
  if (!entry) throw new MethodError(`unknown method "${name}" (choose from ${METHOD_NAMES.join(', ')})`);
  return entry;
}

/** A method with its parameters complete and valid, as run settings store it. */
export function methodSetting(name: string, params: Readonly<Record<string, unknown>> = {}): MethodSetting {
  return { name, params: resolveParams(methodEntry(name), params) };
}

export const XSSAB_SETTING: MethodSetting = methodSetting('xssab');

export function createMethod(setting: MethodSetting, ctx: MethodContext): ExplanationMethod {
  const entry = methodEntry(setting.name);
  return entry.create(ctx, resolveParams(entry, setting.params));
}

/** The parameters as one short text, `masks=100, seed=3` (empty for none). */
export function paramsText(setting: MethodSetting): string {
  return Object.entries(setting.params)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : v}`)
    .join(', ');
}

/**
 * Parameter assignments `METHOD.KEY=VALUE` (a list as `7,14,28`) for the given methods, by
 * method; a method not among them, an unknown key or a value that is no number is refused.
 */
export function parseParamAssignments(assignments: readonly string[], methods: readonly string[]): Record<string, Record<string, number | number[]>> {
  const out: Record<string, Record<string, number | number[]>> = Object.fromEntries(methods.map((m) => [m, {}]));
  for (const text of assignments) {
    const m = /^([a-z0-9-]+)\.([A-Za-z]+)=(.+)$/.exec(text);
    if (!m) throw new MethodError(`parameter "${text}": write METHOD.NAME=VALUE, e.g. random-masks.masks=100`);
    const [, method, key, raw] = m;
    const spec = methodEntry(method).params[key];
    if (!out[method]) throw new MethodError(`parameter "${text}": ${method} is not among the methods run (${methods.join(', ')})`);
    if (!spec) throw new MethodError(`parameter "${text}": ${method} has no parameter "${key}" (it has ${Object.keys(methodEntry(method).params).join(', ') || 'none'})`);
    const numbers = raw.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
    if (numbers.some((v) => !Number.isFinite(v))) throw new MethodError(`parameter "${text}": ${JSON.stringify(raw)} is not a number${spec.kind === 'integers' ? ' list' : ''}`);
    if (spec.kind !== 'integers' && numbers.length !== 1) throw new MethodError(`parameter "${text}": ${key} takes one number`);
    out[method][key] = spec.kind === 'integers' ? numbers : numbers[0];
  }
  return out;
}
