// Reverse-mode autodiff over an ONNX graph: appends nodes that compute vector–Jacobian products
// of one output with respect to one input, for several cotangents sharing one forward pass.
import type { GraphBuilder } from '../onnx/builder';
import { Attributes, type Node, tensorFloats, tensorInts } from '../onnx/proto';
import { type GraphInfo, topologicalOrder } from './graphInfo';
import { GRADIENT_RULES, type RuleContext, SUPPORTED_OPS, UnsupportedGradientError } from './rules';

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

function plan(nodes: readonly Node[], spec: VjpSpec): Plan {
  const order = topologicalOrder(nodes);
  const active = new Set([spec.input]);
  for (const n of order) {
    if ((n.input ?? []).some((i) => active.has(i))) for (const o of n.output ?? []) if (o) active.add(o);
  }
  if (!active.has(spec.output)) throw new Error(`output "${spec.output}" does not depend on input "${spec.input}"`);
  return { order, active };
}

/**
 * Appends the backward passes to the builder's graph and returns, per cotangent, the name of the
 * gradient with respect to `spec.input`. Only nodes on a path input → output are differentiated;
 * helper tensors that depend only on forward values (masks, indices) are built once for all passes.
 */
export function appendVjp(b: GraphBuilder, info: GraphInfo, spec: VjpSpec): string[] {
  const { order, active } = plan(b.nodes, spec);
  const memo = new Map<string, string>();
  const runtimeShapes = new Map<string, string>();

  const shape = (name: string) => {
    const s = info.shapes.get(name);
    if (!s) throw new Error(`no static shape known for tensor "${name}"`);
    return s;
  };
  const constantTensor = (name: string) => info.constants.get(name);

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
      if (!inputs.some((i) => active.has(i))) continue;
      const grads = (node.output ?? []).map(total);
      if (grads.every((g) => g === null)) continue;
      const rule = GRADIENT_RULES[node.opType ?? ''];
      if (!rule) {
        throw new UnsupportedGradientError(
          `operator ${node.opType} (node "${node.name ?? ''}") has no gradient rule; supported operators: ${SUPPORTED_OPS.join(', ')}`,
        );
      }
      const nodeKey = `${k}`;
      const ctx: RuleContext = {
        node,
        attrs: new Attributes(node),
        b,
        grads,
        needs: (i) => !!inputs[i] && active.has(inputs[i]),
        shape,
        constant: (name) => {
          const t = constantTensor(name);
          return t ? tensorFloats(t) : undefined;
        },
        constantInts: (name) => {
          const t = constantTensor(name);
          return t ? tensorInts(t) : undefined;
        },
        memo: (key, build) => {
          const full = `${nodeKey}/${key}`;
          let name = memo.get(full);
          if (!name) memo.set(full, (name = build()));
          return name;
        },
        runtimeShape: (name) => {
          let s = runtimeShapes.get(name);
          if (!s) runtimeShapes.set(name, (s = b.op('Shape', [name])));
          return s;
        },
      };
      rule(ctx).forEach((g, i) => {
        if (!g || !ctx.needs(i)) return;
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
