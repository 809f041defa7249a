// Appends nodes and initializers to an ONNX graph under unique names.
import {
  type AttributeValue,
  DataType,
  type Graph,
  type Node,
  type TensorProto,
  makeAttribute,
  makeTensor,
} from './proto';

export type Attrs = Record<string, AttributeValue | undefined>;

export class GraphBuilder {
  readonly nodes: Node[];
  readonly initializers: TensorProto[];
  private readonly used = new Set<string>();
  private counter = 0;
  /** Small constants by value: a backward pass asks for the same axes and scalars hundreds of times. */
  private readonly constants = new Map<string, string>();

  /** `opset` is the graph's ai.onnx version; helpers below emit the form that version expects. */
  constructor(readonly graph: Graph, readonly opset: number, private readonly prefix = 'xssab') {
    graph.node = graph.node ?? [];
    graph.initializer = graph.initializer ?? [];
    this.nodes = graph.node;
    this.initializers = graph.initializer;
    // One namespace for tensors, nodes and graph inputs and outputs: whatever the builder adds is new to all of them.
    for (const n of this.nodes) {
      for (const o of n.output ?? []) this.used.add(o);
      if (n.name) this.used.add(n.name);
    }
    for (const t of this.initializers) this.used.add(t.name ?? '');
    for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) this.used.add(v.name ?? '');
  }

  /** A tensor name not yet used in the graph. */
  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** `wanted` itself where the graph does not use it yet, else `wanted_1`, `wanted_2`, …: for names people read (graph inputs and outputs). */
  name(wanted: string): string {
    let name = wanted;
    for (let k = 1; this.used.has(name); k++) name = `${wanted}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Adds a node with `outputs` fresh outputs and returns their names. */
  node(opType: string, inputs: readonly string[], attrs: Attrs = {}, outputs = 1): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      name: this.fresh(`${opType}_node`),
      input: [...inputs],
      output: out,
      attribute: Object.entries(attrs)
        .filter((e): e is [string, AttributeValue] => e[1] !== undefined)
        .map(([k, v]) => makeAttribute(k, v)),
    });
    return out;
  }

  /** Adds a single-output node and returns its output name. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.node(opType, inputs, attrs, 1)[0];
  }

  /** Adds an initializer and returns its name. */
  initializer(hint: string, dims: readonly number[], values: Float32Array | readonly number[], dataType = DataType.FLOAT): string {
    const name = this.fresh(hint);
    this.initializers.push(makeTensor(name, dims, values, dataType));
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads), one per value list. */
  ints(values: readonly number[]): string {
    return this.constant(`ints ${values.join(',')}`, () => this.initializer('ints', [values.length], values, DataType.INT64));
  }

  /** A float scalar constant, one per float32 value (keyed by its bits, so −0 stays apart from 0). */
  scalar(value: number): string {
    const bits = new Uint32Array(Float32Array.of(value).buffer)[0];
    return this.constant(`scalar ${bits}`, () => this.initializer('scalar', [], [value]));
  }

  private constant(key: string, make: () => string): string {
    let name = this.constants.get(key);
    if (name === undefined) this.constants.set(key, (name = make()));
    return name;
  }

  /** ReduceSum over `axes` (an attribute before opset 13, an input since). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    const keep = keepdims ? 1 : 0;
    return this.opset >= 13
      ? this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keep })
      : this.op('ReduceSum', [x], { axes: [...axes], keepdims: keep });
  }

  /** Slice along `axes` (inputs since opset 10). */
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[]): string {
    return this.op('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)]);
  }
}
