// Facts about a forward graph that gradient rules need: constant values and static shapes.
import { ort } from '../runtime';
import {
  Attributes,
  type Graph,
  type Model,
  type Node,
  type TensorProto,
  encodeModel,
  tensorDims,
  valueInfoDims,
} from '../onnx/proto';

export interface GraphInfo {
  /** Static shape of every tensor, measured with a batch of 1. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** Initializers and outputs of Constant nodes. */
  readonly constants: ReadonlyMap<string, TensorProto>;
}

export function collectConstants(graph: Graph): Map<string, TensorProto> {
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', t);
  for (const n of graph.node ?? []) {
    if (n.opType !== 'Constant') continue;
    const value = new Attributes(n).tensor('value');
    if (value) constants.set(n.output![0], value);
  }
  return constants;
}

/**
 * Shapes of all tensors, read off one forward run (batch 1 unless the input's open batch is given
 * another size) in which every node output is a graph output. This holds for any model
 * onnxruntime can run, without a shape-inference port.
 */
export async function measureShapes(model: Model, input: string, batch = 1): Promise<Map<string, number[]>> {
  const graph = model.graph!;
  const inputInfo = (graph.input ?? []).find((v) => v.name === input);
  if (!inputInfo) throw new Error(`the model has no input named "${input}"`);
  const dims = valueInfoDims(inputInfo).map((d, i) => (d > 0 ? d : i === 0 ? batch : -1));
  if (dims.some((d) => d < 0)) {
    throw new Error(`input "${input}" has unknown spatial dimensions [${dims.join(', ')}]; a fixed input size is needed`);
  }
  const outputs = new Set<string>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o) outputs.add(o);
  const probe: Model = { ...model, graph: { ...graph, output: [...outputs].map((name) => ({ name })) } };
  // Unoptimised: the probe runs once, and with every tensor an output there is little to fuse.
  // Fatal logs only: a probe that fails is reported by the caller, in words.
  const session = await ort.InferenceSession.create(encodeModel(probe), { executionProviders: ['cpu'], logSeverityLevel: 4, graphOptimizationLevel: 'disabled' });
  try {
    const count = dims.reduce((a, b) => a * b, 1);
    const result = await session.run({ [input]: new ort.Tensor('float32', new Float32Array(count), dims) });
    const shapes = new Map<string, number[]>([[input, dims]]);
    for (const [name, tensor] of Object.entries(result)) shapes.set(name, [...tensor.dims]);
    for (const t of graph.initializer ?? []) shapes.set(t.name ?? '', tensorDims(t));
    return shapes;
  } finally {
    await session.release();
  }
}

/** Nodes in an order where every node comes after the producers of its inputs. */
export function topologicalOrder(nodes: readonly Node[]): Node[] {
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const done = new Set<Node>();
  const order: Node[] = [];
  const visit = (n: Node) => {
    if (done.has(n)) return;
    done.add(n);
    for (const i of n.input ?? []) {
      const p = producer.get(i);
      if (p) visit(p);
    }
    order.push(n);
  };
  // An explicit stack would be needed only for graphs deeper than the JS call stack (~10k nodes in a chain).
  for (const n of nodes) visit(n);
  return order;
}
