// What every explanation method is, in the manner of captum's attribution methods: a method takes
// a batch of pairs of preprocessed faces and returns each face's maps explained against the other
// face. Its registry entry (registry.ts) names it, describes it and declares its parameters with
// their defaults and bounds; run settings store the method as { name, params }.
// Sign convention of every map: positive = supports the match.
import { UserError } from '../../shared/errors';
import type { Explainer, PairExplanation } from '../xssab';

export class MethodError extends UserError {}

export interface MethodPair {
  /** Preprocessed faces, C×H×W each. */
  a: Float32Array;
  b: Float32Array;
  /** The pair's index in its set: seeds the methods that draw at random. */
  index: number;
  /** The unit embedding of `b`, when the caller has it (saves a forward run per pair). */
  partner?: Float32Array;
}

/** One face's maps: every method gives `combined`; methods whose entry says `maps: 'all'` also the two parts. */
export interface FaceAttribution {
  combined: Float32Array;
  similarity?: Float32Array;
  dissimilarity?: Float32Array;
}

/** Which faces to explain: both, or only the first against its partner (all DPR needs). */
export type FaceChoice = 'both' | 'first';

export interface PairAttribution {
  /** [first face, second face]; only the first with FaceChoice 'first'. */
  faces: FaceAttribution[];
  /** The fused run's score, split and embeddings, when the method made one. */
  run?: PairExplanation;
}

export interface ExplanationMethod {
  attribute(pairs: readonly MethodPair[], faces: FaceChoice): Promise<PairAttribution[]>;
}

export interface MethodContext {
  explainer: Explainer;
  threshold: number;
  /** Faces per forward run. */
  batch: number;
}

export type ParamValue = number | number[];
export type Params = Record<string, ParamValue>;

export interface ParamSpec {
  /** A whole number, any number, or a list of whole numbers. */
  kind: 'integer' | 'number' | 'integers';
  default: ParamValue;
  /** Bounds, both included (for a list: of each entry). */
  min: number;
  max?: number;
  description: string;
}

export interface MethodEntry {
  name: string;
  description: string;
  /** 'all': similarity, dissimilarity and combined maps; 'combined': only a combined map. */
  maps: 'all' | 'combined';
  params: Readonly<Record<string, ParamSpec>>;
  /** `params` are complete and valid (see resolveParams). */
  create(ctx: MethodContext, params: Params): ExplanationMethod;
}

/** A method as run settings store it. */
export interface MethodSetting {
  name: string;
  params: Params;
}

/** An entry whose create() takes its own parameter type (the registry holds them all alike). */
export function defineMethod<P extends Params>(entry: Omit<MethodEntry, 'create' | 'params'> & {
  params: { readonly [K in keyof P]: ParamSpec };
  create(ctx: MethodContext, params: P): ExplanationMethod;
}): MethodEntry {
  return entry as unknown as MethodEntry;
}

/** The method's parameters with defaults filled in; an unknown name or a value out of bounds is refused. */
export function resolveParams(entry: MethodEntry, given: Readonly<Record<string, unknown>>): Params {
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(entry.params, key)) {
      const known = Object.keys(entry.params);
      throw new MethodError(`${entry.name}: no parameter "${key}" (${known.length ? `it has ${known.join(', ')}` : 'it has none'})`);
    }
  }
  return Object.fromEntries(
    Object.entries(entry.params).map(([key, spec]) => {
      const value = Object.hasOwn(given, key) ? given[key] : spec.default;
      const values = spec.kind === 'integers' ? value : [value];
      const bounds = `${spec.max === undefined ? `≥ ${spec.min}` : `in ${spec.min}…${spec.max}`}`;
      const what = spec.kind === 'number' ? `a number ${bounds}` : spec.kind === 'integer' ? `a whole number ${bounds}` : `a list of whole numbers ${bounds}`;
      const ok =
        Array.isArray(values) &&
        values.length > 0 &&
        values.every((v) => typeof v === 'number' && Number.isFinite(v) && (spec.kind === 'number' || Number.isInteger(v)) && v >= spec.min && (spec.max === undefined || v <= spec.max));
      if (!ok) throw new MethodError(`${entry.name}: ${key} must be ${what}, got ${JSON.stringify(value)}`);
      return [key, spec.kind === 'integers' ? [...(value as number[])] : (value as number)];
    }),
  );
}

/**
 * A method written for the first face of each pair, made into one for both faces: the second face
 * is explained as the first face of the swapped pair. `side` tells which face is explained.
 */
export function fromFirstFace(first: (pairs: readonly MethodPair[], side: 0 | 1) => Promise<FaceAttribution[]>): ExplanationMethod {
  return {
    async attribute(pairs, faces) {
      const a = await first(pairs, 0);
      if (faces === 'first') return a.map((face) => ({ faces: [face] }));
      const b = await first(pairs.map((p) => ({ a: p.b, b: p.a, index: p.index })), 1);
      return a.map((face, i) => ({ faces: [face, b[i]] }));
    },
  };
}
