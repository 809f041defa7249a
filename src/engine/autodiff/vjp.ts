// Reverse-mode autodiff over an ONNX graph: appends nodes that compute vector–Jacobian products
// of one output with respect to one input, for several cotangents sharing one forward pass.
// The driver does the chores for every rule: it asks only for the gradients of inputs that
// depend on the model input, sums broadcast gradients back to each input's shape, checks that a
// rule answered for every input, and reads attributes through the defaults each rule declares.
import type { GraphBuilder } from '../onnx/builder';
import { Attributes, type Node, tensorFloats, tensorInts } from '../onnx/proto';
import { type GraphInfo, topologicalOrder } from './graphInfo';
import { type GradRule, type RuleContext, SUPPORTED_OPS, UnsupportedGradientError, ruleFor } from './rules';
import type { AttributeValue } from './rules/types';

export interface VjpSpec {
  /** The tensor to differentiate with respect to (the image input). */
  input: string;
  /** The tensor the cotangents belong to (the embedding). */
  output: string;
  /** Cotangent tensors, each shaped like `output`; they are treated as constants. */
  cotangents: readonly string[];
}

/** Forward-graph nodes with the set of tensors that depend on the input. */
interface Plan {
  order: Node[];
  active: Set<string>;
}

/** Ops whose outputs describe their input's shape, not its values: no gradient flows through them. */
const SHAPE_OF = new Set(['Shape', 'Size']);

function plan(nodes: readonly Node[], spec: VjpSpec): Plan {
  const order = topologicalOrder(nodes);
  const active = new Set([spec.input]);
  for (const n of order) {
    if (SHAPE_OF.has(n.opType ?? '') && (!n.domain || n.domain === 'ai.onnx')) continue;
    if ((n.input ?? []).some((i) => active.has(i))) for (const o of n.output ?? []) if (o) active.add(o);
  }
  if (!active.has(spec.output)) throw new Error(`output "${spec.output}" does not depend on input "${spec.input}"`);
  return { order, active };
}

/** The driver's side of one node: its rule's context, given the gradients of its outputs. */
class NodeContext implements RuleContext {
  private readonly attrs: Attributes;
  readonly opset: number;

  constructor(
    readonly node: Node,
    private readonly rule: GradRule,
    readonly b: GraphBuilder,
    readonly grads: readonly (string | null)[],
    private readonly info: GraphInfo,
    private readonly shared: { memo: Map<string, string>; runtimeShapes: Map<string, string> },
    private readonly key: string,
    private readonly needs: (name: string | undefined) => boolean,
  ) {
    this.attrs = new Attributes(node);
    this.opset = b.opset;
  }

  shape(name: string): readonly number[] {
    const s = this.info.shapes.get(name);
    if (!s) throw new Error(`no static shape known for tensor "${name}"`);
    return s;
  }
  constant(name: string): Float32Array | undefined {
    const t = this.info.constants.get(name);
    return t ? tensorFloats(t) : undefined;
  }
  constantInts(name: string): number[] | undefined {
    const t = this.info.constants.get(name);
    return t ? tensorInts(t) : undefined;
  }
  constantType(name: string): number | undefined {
    return this.info.constants.get(name)?.dataType ?? undefined;
  }

  has(attribute: string): boolean {
    return this.attrs.has(attribute);
  }
  private fallback(attribute: string): AttributeValue {
    const d = this.rule.defaults?.[attribute];
    if (d === undefined) throw new Error(`${this.node.opType} node "${this.node.name ?? ''}" has no attribute "${attribute}", and the rule declares no default`);
    return typeof d === 'function' ? d(this) : d;
  }
  // Arrow properties, so rules can pass them on as functions.
  int = (attribute: string): number => (this.has(attribute) ? this.attrs.int(attribute, 0) : (this.fallback(attribute) as number));
  float = (attribute: string): number => (this.has(attribute) ? this.attrs.float(attribute, 0) : (this.fallback(attribute) as number));
  ints = (attribute: string): number[] => (this.has(attribute) ? this.attrs.ints(attribute, []) : [...(this.fallback(attribute) as readonly number[])]);
  string = (attribute: string): string => (this.has(attribute) ? this.attrs.string(attribute, '') : (this.fallback(attribute) as string));

  /** The input an attribute moved to, where the opset has it as an input. */
  private movedInput(attribute: string): { name: string | undefined } | undefined {
    const moved = this.rule.movedToInput?.[attribute];
    return moved && this.opset >= moved.since ? { name: this.node.input?.[moved.input] || undefined } : undefined;
  }
  operandInts(attribute: string): number[] | undefined {
    const moved = this.movedInput(attribute);
    if (!moved) return this.has(attribute) ? this.attrs.ints(attribute, []) : undefined;
    if (!moved.name) return undefined;
    return this.constantInts(moved.name) ?? this.refuse(`${attribute} computed at run time are not supported`);
  }
  operandTensor(attribute: string): string | undefined {
    const moved = this.movedInput(attribute);
    if (moved) return moved.name;
    return this.has(attribute) ? this.b.scalar(this.attrs.float(attribute, 0)) : undefined;
  }

  memo(key: string, build: () => string): string {
    const full = `${this.key}/${key}`;
    let name = this.shared.memo.get(full);
    if (!name) this.shared.memo.set(full, (name = build()));
    return name;
  }
  runtimeShape(name: string): string {
    let s = this.shared.runtimeShapes.get(name);
    if (!s) this.shared.runtimeShapes.set(name, (s = this.b.op('Shape', [name])));
    return s;
  }

  refuse(what: string): never {
    throw new UnsupportedGradientError(`${this.node.opType} node "${this.node.name ?? ''}": ${what}`);
  }

  /** The rule's gradients, checked: one entry per input, and no refusal for an input that needs a gradient. */
  gradients(): ((() => string) | null)[] {
    const { minOpset } = this.rule;
    if (minOpset && this.opset < minOpset.opset) this.refuse(`${this.node.opType} gradients need opset ${minOpset.opset} or later (${minOpset.why})`);
    const gradients = this.rule.backward(this);
    const inputs = this.node.input ?? [];
    if (gradients.length !== inputs.length) {
      throw new Error(`the ${this.node.opType} rule gave ${gradients.length} gradients for the ${inputs.length} inputs of node "${this.node.name ?? ''}"`);
    }
    gradients.forEach((g, i) => {
      if (g && 'refused' in g && this.needs(inputs[i])) this.refuse(g.refused);
    });
    return gradients.map((g) => (g && 'refused' in g ? null : g));
  }

  /** Sums a gradient shaped like output 0 back to the shape of input i. */
  unbroadcast(g: string, i: number): string {
    const x = this.node.input![i];
    const target = this.shape(x);
    const full = this.shape(this.node.output![0]);
    const lead = full.length - target.length;
    const axes: number[] = [];
    for (let a = 0; a < full.length; a++) {
      if (a < lead || (target[a - lead] === 1 && full[a] !== 1)) axes.push(a);
    }
    if (axes.length === 0) return g;
    const summed = this.b.reduceSum(g, axes, true);
    return lead === 0 ? summed : this.b.op('Reshape', [summed, this.runtimeShape(x)]);
  }
}

const broadcasts = (rule: GradRule, i: number) => rule.broadcast === 'all' || (rule.broadcast?.includes(i) ?? false);

/**
 * Appends the backward passes to the builder's graph and returns, per cotangent, the name of the
 * gradient with respect to `spec.input`. Only nodes on a path input → output are differentiated;
 * helper tensors that depend only on forward values (masks, indices) are built once for all passes.
 */
export function appendVjp(b: GraphBuilder, info: GraphInfo, spec: VjpSpec): string[] {
  const { order, active } = plan(b.nodes, spec);
  const shared = { memo: new Map<string, string>(), runtimeShapes: new Map<string, string>() };
  const needs = (name: string | undefined): name is string => !!name && active.has(name);
  const contextOf = (k: number, grads: readonly (string | null)[]) => new NodeContext(order[k], ruleFor(order[k].opType)!, b, grads, info, shared, `${k}`, needs);
  checkRules(order, spec, needs, contextOf);

  return spec.cotangents.map((cotangent) => {
    const contributions = new Map<string, string[]>([[spec.output, [cotangent]]]);
    const total = (name: string): string | null => {
      const parts = contributions.get(name);
      if (!parts || parts.length === 0) return null;
      const sum = parts.reduce((acc, p) => b.op('Add', [acc, p]));
      contributions.set(name, [sum]);
      return sum;
    };

    for (let k = order.length - 1; k >= 0; k--) {
      const node = order[k];
      const inputs = node.input ?? [];
      if (!inputs.some(needs)) continue;
      const grads = (node.output ?? []).map(total);
      if (grads.every((g) => g === null)) continue;
      const ctx = contextOf(k, grads);
      ctx.gradients().forEach((gradient, i) => {
        if (!gradient || !needs(inputs[i])) return;
        const g = broadcasts(ruleFor(node.opType)!, i) ? ctx.unbroadcast(gradient(), i) : gradient();
        const list = contributions.get(inputs[i]) ?? [];
        list.push(g);
        contributions.set(inputs[i], list);
      });
    }
    const result = total(spec.input);
    if (!result) throw new Error(`no gradient reaches input "${spec.input}"`);
    return result;
  });
}

/** An op type on the path from the input to the output that has no gradient rule. */
export interface MissingRule {
  op: string;
  nodes: number;
  /** One node's name, to find it in a model viewer. */
  example: string;
}

/**
 * Walks the backward pass without building it and lists every op type on the way from the
 * output back to the input that has no rule (a node without a rule is taken to pass the gradient
 * to all its inputs that depend on the input, so the walk goes on past it).
 */
function missingRules(
  order: readonly Node[],
  spec: Pick<VjpSpec, 'input' | 'output'>,
  needs: (name: string | undefined) => name is string,
  contextOf: (k: number, grads: readonly (string | null)[]) => NodeContext,
): MissingRule[] {
  const reached = new Set([spec.output]);
  const missing = new Map<string, Node[]>();
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const inputs = node.input ?? [];
    const grads = (node.output ?? []).map((o) => (reached.has(o) ? o : null));
    if (!inputs.some(needs) || grads.every((g) => g === null)) continue;
    const opType = node.opType ?? '';
    if (!ruleFor(opType)) {
      missing.set(opType, [...(missing.get(opType) ?? []), node]);
      for (const i of inputs) if (needs(i)) reached.add(i);
      continue;
    }
    // Rules build nothing until a gradient is asked for, so asking for the list is free.
    contextOf(k, grads).gradients().forEach((gradient, i) => {
      if (gradient && needs(inputs[i])) reached.add(inputs[i]);
    });
  }
  return [...missing].map(([op, nodes]) => ({ op, nodes: nodes.length, example: nodes[0].name ?? '' }));
}

/** The op types without a rule on the path of `spec` through the builder's graph, built nothing. */
export function findMissingRules(b: GraphBuilder, info: GraphInfo, spec: Pick<VjpSpec, 'input' | 'output'>): MissingRule[] {
  const { order, active } = plan(b.nodes, { ...spec, cotangents: [] });
  const shared = { memo: new Map<string, string>(), runtimeShapes: new Map<string, string>() };
  const needs = (name: string | undefined): name is string => !!name && active.has(name);
  return missingRules(order, spec, needs, (k, grads) => new NodeContext(order[k], ruleFor(order[k].opType)!, b, grads, info, shared, `${k}`, needs));
}

/** Refuses, in one error, every op type on the path that has no rule. */
function checkRules(
  order: readonly Node[],
  spec: VjpSpec,
  needs: (name: string | undefined) => name is string,
  contextOf: (k: number, grads: readonly (string | null)[]) => NodeContext,
): void {
  const missing = missingRules(order, spec, needs, contextOf);
  if (missing.length === 0) return;
  const list = missing.map((m) => `${m.op} (${m.nodes} node${m.nodes === 1 ? '' : 's'}, e.g. "${m.example}")`);
  throw new UnsupportedGradientError(
    `the model cannot be differentiated from "${spec.input}" to "${spec.output}": ${missing.length === 1 ? 'an operator has' : `${missing.length} operators have`} no gradient rule: ${list.join(', ')}; supported operators: ${SUPPORTED_OPS.join(', ')}`,
  );
}
