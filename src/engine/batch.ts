// How a model runs batches, decided by measurement. A file with a fixed batch of 1 often pins the
// batch in constant shape targets (Reshape, Expand, ConstantOfShape, Tile); which of them carry
// the batch is found by running the graph at batches 1 and 2, and only those are rewritten. The
// result must then embed each face as the unmodified file does, alone and in a batch of 2; where
// it cannot (the batch stays pinned, or the model mixes the faces of a batch, as dynamic int8
// does with its one quantization range per batch), faces run one per session call.
import { measureShapes, collectConstants } from './autodiff/graphInfo';
import { GraphBuilder } from './onnx/builder';
import { DataType, type Model, type Node, defaultOpset, encodeModel, makeAttribute, tensorInts, toNumber } from './onnx/proto';
import { Random } from './random';
import { ort } from './runtime';
import { cachedVerdict } from './shapeCache';

export type BatchKind = 'dynamic' | 'relaxed' | 'one face per run';

export interface BatchHandling {
  kind: BatchKind;
  /** Why, in words for `inspect` and the notice. */
  reason: string;
}

/**
 * A shape target that carries the batch: the index of its node in the graph, and for a Reshape
 * the element count of its data at batch 1 (the batch is that count's multiple at run time).
 */
interface Carrier {
  node: number;
  count?: number;
}

/** What is measured once per model content and cached. */
export interface BatchVerdict extends BatchHandling {
  carriers: Carrier[];
}

const FILL_OPS = new Set(['Expand', 'Tile', 'ConstantOfShape']);

/**
 * Decides how the model runs batches and, unless it runs one face per call, opens its batch:
 * the input's and output's first dims become "N" and the carrying targets take the batch. `model`
 * is the graph as the engine runs it otherwise (float16 promoted, spatial size fixed).
 */
export async function openBatch(model: Model, input: string, output: string, sha256: string): Promise<BatchHandling> {
  const verdict = await cachedVerdict(model, input, output, sha256, (v) => validVerdict(model, v), () => measureVerdict(model, input, output));
  if (verdict.kind !== 'one face per run') applyVerdict(model, input, output, verdict.carriers);
  return { kind: verdict.kind, reason: verdict.reason };
}

/** The nodes whose constant int64 shape target starts with 1, and which input that target is. */
function candidates(model: Model): { node: number; target: number }[] {
  const constants = collectConstants(model.graph!);
  const found: { node: number; target: number }[] = [];
  (model.graph!.node ?? []).forEach((n, node) => {
    const target = n.opType === 'ConstantOfShape' ? 0 : n.opType === 'Reshape' || FILL_OPS.has(n.opType ?? '') ? 1 : -1;
    if (target < 0 || (n.domain && n.domain !== 'ai.onnx')) return;
    const t = constants.get(n.input?.[target] ?? '');
    if (t?.dataType === DataType.INT64 && tensorInts(t)[0] === 1) found.push({ node, target });
  });
  return found;
}

function validVerdict(model: Model, v: unknown): v is BatchVerdict {
  if (typeof v !== 'object' || v === null) return false;
  const { kind, reason, carriers } = v as BatchVerdict;
  if (!['dynamic', 'relaxed', 'one face per run'].includes(kind) || typeof reason !== 'string' || !Array.isArray(carriers)) return false;
  const open = new Set(candidates(model).map((c) => c.node));
  const nodes = model.graph!.node ?? [];
  return carriers.every((c) => open.has(c.node) && (nodes[c.node].opType === 'Reshape' ? Number.isInteger(c.count) && c.count! > 0 : c.count === undefined));
}

function batchDim(model: Model, input: string): number {
  const dim = model.graph!.input?.find((v) => v.name === input)?.type?.tensorType?.shape?.dim?.[0];
  return dim && !dim.dimParam ? toNumber(dim.dimValue) : 0;
}

/**
 * Opens the batch in place: symbolic first dims of input and output, no stale shape
 * annotations, and each carrier's target with its first entry computed from the batch.
 */
function applyVerdict(model: Model, input: string, output: string, carriers: readonly Carrier[]): void {
  const graph = model.graph!;
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    const dim = v.type?.tensorType?.shape?.dim;
    if ((v.name === input || v.name === output) && dim && dim.length > 0) dim[0] = { dimParam: 'N' };
  }
  graph.valueInfo = [];
  if (carriers.length === 0) return;
  const constants = collectConstants(graph);
  const nodes = graph.node ?? [];
  const b = new GraphBuilder(graph, defaultOpset(model));
  const helpers = new Map<number, Node[]>();
  const add = (list: Node[], opType: string, inputs: string[], attribute: Node['attribute'] = []): string => {
    const out = b.fresh(opType);
    list.push({ opType, name: b.fresh(`${opType}_node`), input: inputs, output: [out], attribute });
    return out;
  };
  for (const c of carriers) {
    const node = nodes[c.node];
    const target = node.opType === 'ConstantOfShape' ? 0 : 1;
    const list: Node[] = [];
    // Reshape keeps the element count: the batch is the data's count over its count at batch 1.
    // The others make new elements: they take the batch of the model input.
    const batch =
      node.opType === 'Reshape'
        ? add(list, 'Reshape', [add(list, 'Div', [add(list, 'Size', [node.input![0]]), b.initializer('count', [], [c.count!], DataType.INT64)]), b.ints([1])])
        : add(list, 'Gather', [add(list, 'Shape', [input]), b.ints([0])]);
    const rest = tensorInts(constants.get(node.input![target])!).slice(1);
    node.input![target] = rest.length > 0 ? add(list, 'Concat', [batch, b.ints(rest)], [makeAttribute('axis', 0)]) : batch;
    helpers.set(c.node, list);
  }
  // The helpers go just before the node they feed, so the node list stays in topological order.
  graph.node = nodes.flatMap((n, i) => [...(helpers.get(i) ?? []), n]);
}

/** The verdict, measured: see the header. */
async function measureVerdict(model: Model, input: string, output: string): Promise<BatchVerdict> {
  const reference = encodeModel(model);
  const open = !(batchDim(model, input) > 0);
  const unsound = (why: string): BatchVerdict => ({
    kind: 'one face per run',
    reason: `${open ? 'the file leaves the batch open, but batches are unsound' : 'the file fixes batch 1 and it cannot be opened'}: ${why}`,
    carriers: [],
  });
  // An open batch axis is taken at its word first; shape targets that still pin the batch are then searched as in a fixed one.
  let failure = open ? await batchFailure(reference, reference, model, input, output) : undefined;
  if (open && !failure) return { kind: 'dynamic', reason: 'the file leaves the batch open', carriers: [] };
  // A copy applyVerdict may change (node inputs and lists, input and output shapes), sharing the weights.
  const opened = (): Model => {
    const g = model.graph!;
    return { ...model, graph: { ...g, node: (g.node ?? []).map((n) => ({ ...n, input: [...(n.input ?? [])] })), initializer: [...(g.initializer ?? [])], input: structuredClone(g.input), output: structuredClone(g.output) } };
  };
  const found = candidates(model);
  if (failure && found.length === 0) return unsound(failure);
  const nodes = model.graph!.node ?? [];
  const reshapes = found.filter((c) => nodes[c.node].opType === 'Reshape');
  const fills = found.filter((c) => nodes[c.node].opType !== 'Reshape');
  let one: Map<string, number[]>;
  try {
    const probe = opened();
    applyVerdict(probe, input, output, []);
    one = await measureShapes(probe, input, 1);
  } catch (e) {
    return unsound(`onnxruntime cannot run it at batch 1 with the batch open (${firstLine(e)})`);
  }
  const count = (shapes: Map<string, number[]>, name: string) => shapes.get(name)?.reduce((a, d) => a * d, 1) ?? 0;
  // First with Expand, Tile and ConstantOfShape left alone, then with all of them taking the batch.
  for (const fill of fills.length > 0 ? [false, true] : [false]) {
    const withCounts = reshapes.map((c) => ({ node: c.node, count: count(one, nodes[c.node].input![0]) })).filter((c) => c.count > 0);
    const probe = opened();
    // Every Reshape target follows its data: the measured counts at batch 2 say which carry the batch.
    applyVerdict(probe, input, output, [...withCounts, ...(fill ? fills.map((c) => ({ node: c.node })) : [])]);
    let two: Map<string, number[]>;
    try {
      two = await measureShapes(probe, input, 2);
    } catch (e) {
      failure = `onnxruntime cannot run it with a batch of 2 (${firstLine(e)})`;
      continue;
    }
    const carriers: Carrier[] = [
      ...withCounts.filter((c) => count(two, nodes[c.node].input![0]) === 2 * c.count),
      ...(fill ? fills.map((c) => ({ node: c.node })) : []),
    ].sort((p, q) => p.node - q.node);
    const candidate = opened();
    applyVerdict(candidate, input, output, carriers);
    failure = await batchFailure(encodeModel(candidate), reference, model, input, output);
    if (!failure) {
      const n = carriers.length;
      return { kind: 'relaxed', reason: `${open ? 'the file leaves the batch open but pins it in shape targets' : 'the file fixes batch 1'}; the engine opens it (${n === 0 ? 'no shape target pins the batch' : `${n} shape target${n === 1 ? '' : 's'} measured to carry the batch rewritten`})`, carriers };
    }
  }
  // Each pass of the loop has set it.
  return unsound(failure!);
}

/** onnxruntime's error in a few words: the node that failed where it names one, else its first line. */
function firstLine(e: unknown): string {
  const message = String((e as Error).message ?? e);
  const atRun = /running (\w+) node\. Name:'([^']*)'/.exec(message);
  const atLoad = /Node \(([^)]*)\) Op \((\w+)\)/.exec(message);
  if (atRun) return `its ${atRun[1]} node "${atRun[2]}" fails`;
  if (atLoad) return `its ${atLoad[2]} node "${atLoad[1]}" fails shape inference`;
  const line = message.split('\n')[0];
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

/**
 * Why `candidate` does not embed faces as `reference` does one at a time (alone, and two in one
 * batch), or undefined when it does. Two probe faces with different value ranges: a model that
 * mixes the faces of a batch (one quantization range per batch) shows it.
 */
async function batchFailure(candidate: Uint8Array, reference: Uint8Array, model: Model, input: string, output: string): Promise<string | undefined> {
  const dims = (model.graph!.input?.find((v) => v.name === input)?.type?.tensorType?.shape?.dim ?? []).slice(1).map((d) => toNumber(d.dimValue));
  const size = dims.reduce((a, d) => a * d, 1);
  const random = new Random(14);
  const faces = [1, 3].map((range) => Float32Array.from({ length: size }, () => range * (2 * random.next() - 1)));
  // Fatal only: a run that fails is the finding, reported in words, not an onnxruntime log line.
  const open = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 4 });
  const embed = async (session: ort.InferenceSession, x: Float32Array[]) => {
    const data = new Float32Array(x.length * size);
    x.forEach((f, i) => data.set(f, i * size));
    const out = await session.run({ [input]: new ort.Tensor('float32', data, [x.length, ...dims]) });
    return out[output].data as Float32Array;
  };
  const ref = await open(reference);
  const sessions = [ref];
  try {
    const expected = [await embed(ref, [faces[0]]), await embed(ref, [faces[1]])];
    const d = expected[0].length;
    const session = candidate === reference ? ref : await open(candidate);
    if (session !== ref) sessions.push(session);
    let single: Float32Array;
    let pair: Float32Array;
    try {
      single = candidate === reference ? expected[0] : await embed(session, [faces[0]]);
      pair = await embed(session, faces);
    } catch (e) {
      return `onnxruntime cannot run it with a batch of 2 (${firstLine(e)})`;
    }
    if (pair.length !== 2 * d) return `a batch of 2 gives ${pair.length} embedding values instead of ${2 * d}`;
    const worst = (actual: Float32Array, wanted: Float32Array) => {
      const scale = Math.max(...wanted.map(Math.abs));
      return Math.max(...actual.map((v, i) => Math.abs(v - wanted[i]))) / (scale || 1);
    };
    if (worst(single, expected[0]) > TOLERANCE) return `its batch-1 embeddings differ from the unmodified model's (by ${worst(single, expected[0]).toPrecision(2)} of their scale)`;
    const mixed = Math.max(worst(pair.subarray(0, d), expected[0]), worst(pair.subarray(d), expected[1]));
    if (mixed > TOLERANCE) return `a batch of 2 gives other embeddings than each face alone (by ${mixed.toPrecision(2)} of their scale; e.g. dynamic quantization takes one range per batch)`;
    return undefined;
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}

/** Largest difference from the unmodified model's embedding, relative to its largest entry: float32 reordering in a batch stays far below. */
const TOLERANCE = 1e-5;
