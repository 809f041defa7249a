// The gradient table: one rule per ONNX op type, gathered from the op families' files.
import { arithmeticRules } from './arithmetic';
import { elementwiseRules } from './elementwise';
import { normalizationRules } from './normalization';
import { quantizedRules } from './quantized';
import { shapeRules } from './shape';
import { spatialRules } from './spatial';
import type { GradRule, OpType } from './types';

export { type GradRule, type Gradient, type OpType, type RuleContext, UnsupportedGradientError } from './types';

const families = [elementwiseRules, arithmeticRules, shapeRules, normalizationRules, spatialRules, quantizedRules] as const;

type KeysOf<T> = T extends object ? keyof T : never;
/** Op types that two families both define. */
type Duplicates<T extends readonly object[]> = T extends readonly [infer First, ...infer Rest extends readonly object[]]
  ? (keyof First & KeysOf<Rest[number]>) | Duplicates<Rest>
  : never;
// Compiles only while no op type has a rule in two families.
const disjoint: [Duplicates<typeof families>] extends [never] ? true : Duplicates<typeof families> = true;
void disjoint;

/** An op type without a rule does not compile. */
export const GRADIENT_RULES: Readonly<Record<OpType, GradRule>> = {
  ...elementwiseRules,
  ...arithmeticRules,
  ...shapeRules,
  ...normalizationRules,
  ...spatialRules,
  ...quantizedRules,
};

export const SUPPORTED_OPS: readonly OpType[] = (Object.keys(GRADIENT_RULES) as OpType[]).sort();

export function ruleFor(opType: string | null | undefined): GradRule | undefined {
  return Object.hasOwn(GRADIENT_RULES, opType ?? '') ? GRADIENT_RULES[opType as OpType] : undefined;
}
