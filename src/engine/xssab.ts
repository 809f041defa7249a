// xSSAB (Huber, Luu, Terhörst, Damer, "Efficient Explainable Face Verification based on Similarity
// Score Argument Backpropagation", WACV 2024): the cosine score of two normalised embeddings is split
// into supporting and opposing dimensions, and each part is back-propagated to the input pixels.
//
// One fused ONNX graph per model does a whole batch of pairs in one run: a forward pass of all
// faces, the argument split, the four cotangents, two backward passes (supporting, opposing) that
// share the forward activations, and the maps. No host round trip between forward and backward.
import { appendVjp } from './autodiff/vjp';
import { EmbedPool, POOL_MIN_FACES, poolSize } from './embedPool';
import type { FrModel } from './model';
import { GraphBuilder } from './onnx/builder';
import { rewritePRelu, rewritePReluForward } from './onnx/fastPrelu';
import { RecentMap } from './recentMap';
import { type Graph, DataType, encodeModel, floatValueInfo, makeAttribute, makeModel } from './onnx/proto';
import type { MapKind, ScoreSplit } from '../shared/result';
import { type ExecutionProviderChoice, type FallbackNotice, type Session, createSession, fallbackTo, ort, runFailure } from './runtime';

/** The fused graphs' inputs and outputs, by the names they get unless the model uses them already. */
const IO_NAMES = {
  a: 'face_a',
  b: 'face_b',
  /** The first-face graph's second input: the partners' unit embeddings [N, d]. */
  partner: 'partner',
  threshold: 'threshold',
  embeddings: 'embeddings', // [2N, d]: the A faces, then the B faces
  score: 'score', // [N]
  arguments: 'arguments', // [N, d]
  supportingCount: 'supporting_count', // [N]: dimensions with a_n ≥ β
  supportingSum: 'supporting_sum', // [N]
  opposingSum: 'opposing_sum', // [N]
  similarity: 'similarity', // [2N, H, W] ([N, H, W] in the first-face graph)
  dissimilarity: 'dissimilarity',
  combined: 'combined',
  saliency: 'saliency', // plain gradient saliency mean_c |∂s/∂x|, for comparisons
} as const;

export type ExplainIO = Record<keyof typeof IO_NAMES, string>;

/** A fused graph and the names its inputs and outputs got (unique against the model's own names). */
export interface ExplainGraph {
  bytes: Uint8Array;
  io: ExplainIO;
}

/**
 * A copy of the model's graph to append to (the node and initializer lists are copied, the
 * weights shared), and the fused graph's input and output names made unique against it.
 */
function extend(model: FrModel): { graph: Graph; b: GraphBuilder; IO: ExplainIO } {
  // The builder only appends nodes and initializers: copying the two lists leaves the model as it
  // is while sharing its weights (a deep clone of a large model costs seconds).
  const source = model.proto.graph!;
  const graph: Graph = { ...source, node: [...(source.node ?? [])], initializer: [...(source.initializer ?? [])] };
  const b = new GraphBuilder(graph, model.opset);
  const IO = Object.fromEntries(Object.entries(IO_NAMES).map(([key, name]) => [key, b.name(name)])) as ExplainIO;
  return { graph, b, IO };
}

/** Unit embeddings ê = e/‖e‖ of the model's output, and ‖e‖. */
function unitOutput(b: GraphBuilder, model: FrModel): { unit: string; norm: string } {
  const e = model.output;
  const norm = b.op('Sqrt', [b.reduceSum(b.op('Mul', [e, e]), [1], true)]);
  return { unit: b.op('Div', [e, norm]), norm };
}

/** Per-dimension support mask, 1 where a_n ≥ t/d, as float. */
function supportMaskOf(b: GraphBuilder, model: FrModel, args: string, threshold: string): string {
  const beta = b.op('Div', [threshold, b.scalar(model.embeddingSize)]);
  return b.op('Cast', [b.op('Not', [b.op('Less', [args, beta])])], { to: DataType.FLOAT });
}

/**
 * The maps of the faces at the model's input against `partner` (unit embeddings, one row per
 * face) with the support mask `mask`: for an image with embedding e and partner ê_p held constant,
 * the cotangent of S = ê · (ê_p ⊙ mask) at e is (w − (ê·w) ê) / ‖e‖ with w = ê_p ⊙ mask.
 */
function appendMaps(b: GraphBuilder, model: FrModel, unit: string, norm: string, partner: string, mask: string): Record<'similarity' | 'dissimilarity' | 'combined' | 'saliency', string> {
  const channels = model.inputShape[0];
  const cotangent = (w: string) => {
    const projection = b.op('Mul', [b.reduceSum(b.op('Mul', [unit, w]), [1], true), unit]);
    return b.op('Div', [b.op('Sub', [w, projection]), norm]);
  };
  const wSupport = b.op('Mul', [partner, mask]);
  const wOppose = b.op('Sub', [partner, wSupport]);
  const [gSupport, gOppose] = appendVjp(b, model.info, {
    input: model.input,
    output: model.output,
    cotangents: [cotangent(wSupport), cotangent(wOppose)],
  });
  const channelMeanAbs = (g: string) => b.op('Mul', [b.reduceSum(b.op('Abs', [g]), [1], false), b.scalar(1 / channels)]);
  const [similarity, dissimilarity] = [channelMeanAbs(gSupport), channelMeanAbs(gOppose)];
  return {
    similarity,
    dissimilarity,
    combined: b.op('Sub', [similarity, dissimilarity]),
    // s = S⁺ + S⁻, so its gradient is the sum of the two backward passes: no extra pass.
    saliency: channelMeanAbs(b.op('Add', [gSupport, gOppose])),
  };
}

/** Names the graph's outputs (through Identity nodes), rewrites PRelu and encodes the model. */
function finish(model: FrModel, graph: Graph, b: GraphBuilder, IO: ExplainIO, outputs: [string, string][]): ExplainGraph {
  graph.output = outputs.map(([name, source]) => {
    graph.node!.push({ opType: 'Identity', name: b.name(`xssab/out_${name}`), input: [source], output: [name] });
    return { name };
  });
  graph.node = rewritePRelu(b, graph.node!, model.info.constants);
  const bytes = encodeModel(makeModel(graph, model.opset, model.proto.opsetImport?.filter((o) => o.domain && o.domain !== 'ai.onnx')));
  return { bytes, io: IO };
}

/**
 * Builds the fused explanation graph. Inputs: two batches of N preprocessed faces and the
 * threshold t. With ê the normalised embeddings and a = ê_A ⊙ ê_B, the supporting set is
 * a_n ≥ t/d; each face's maps are taken against its partner (see appendMaps).
 */
export function buildExplainGraph(model: FrModel): ExplainGraph {
  const { graph, b, IO } = extend(model);
  const [channels, height, width] = model.inputShape;
  const d = model.embeddingSize;

  graph.input = [
    floatValueInfo(IO.a, ['N', channels, height, width]),
    floatValueInfo(IO.b, ['N', channels, height, width]),
    floatValueInfo(IO.threshold, []),
  ];
  graph.node!.unshift({ opType: 'Concat', name: b.name('xssab/stack_pairs'), input: [IO.a, IO.b], output: [model.input], attribute: [makeAttribute('axis', 0)] });

  const { unit, norm } = unitOutput(b, model);
  const pairs = b.op('Reshape', [unit, b.ints([2, -1, d])]);
  const pick = (i: number) => b.op('Gather', [pairs, b.initializer('index', [], [i], DataType.INT64)], { axis: 0 });
  const [unitA, unitB] = [pick(0), pick(1)];
  const args = b.op('Mul', [unitA, unitB]);
  const supportMask = supportMaskOf(b, model, args, IO.threshold);
  const maps = appendMaps(b, model, unit, norm, b.op('Concat', [unitB, unitA], { axis: 0 }), b.op('Concat', [supportMask, supportMask], { axis: 0 }));
  return finish(model, graph, b, IO, [
    [IO.embeddings, model.output],
    [IO.score, b.reduceSum(args, [1], false)],
    [IO.arguments, args],
    [IO.supportingCount, b.reduceSum(supportMask, [1], false)],
    [IO.supportingSum, b.reduceSum(b.op('Mul', [args, supportMask]), [1], false)],
    [IO.opposingSum, b.reduceSum(b.op('Sub', [args, b.op('Mul', [args, supportMask])]), [1], false)],
    [IO.similarity, maps.similarity],
    [IO.dissimilarity, maps.dissimilarity],
    [IO.combined, maps.combined],
    [IO.saliency, maps.saliency],
  ]);
}

/**
 * The first-face graph: the maps of N faces against their partners' unit embeddings, given as an
 * input. What DPR needs (only the patched image is explained, and its partner's embedding is
 * already known): one forward and two backward passes of N faces, against 2N and 2·2N in the
 * fused pair graph.
 */
export function buildExplainFirstGraph(model: FrModel): ExplainGraph {
  const { graph, b, IO } = extend(model);
  const [channels, height, width] = model.inputShape;
  graph.input = [
    floatValueInfo(IO.a, ['N', channels, height, width]),
    floatValueInfo(IO.partner, ['N', model.embeddingSize]),
    floatValueInfo(IO.threshold, []),
  ];
  graph.node!.unshift({ opType: 'Identity', name: b.name('xssab/faces'), input: [IO.a], output: [model.input] });
  const { unit, norm } = unitOutput(b, model);
  const args = b.op('Mul', [unit, IO.partner]);
  const maps = appendMaps(b, model, unit, norm, IO.partner, supportMaskOf(b, model, args, IO.threshold));
  return finish(model, graph, b, IO, [
    [IO.score, b.reduceSum(args, [1], false)],
    [IO.similarity, maps.similarity],
    [IO.dissimilarity, maps.dissimilarity],
    [IO.combined, maps.combined],
    [IO.saliency, maps.saliency],
  ]);
}

/** The model as it runs for embeddings: its own graph, with PRelu rewritten (see rewritePReluForward). */
export function buildEmbedGraph(model: FrModel): Uint8Array {
  const source = model.proto.graph!;
  const graph: Graph = { ...source, node: [...(source.node ?? [])], initializer: [...(source.initializer ?? [])] };
  // The builder is made over the whole node list so that its new names are new to the graph.
  graph.node = rewritePReluForward(new GraphBuilder(graph, model.opset), graph.node!, model.info.constants, model.info.shapes);
  return encodeModel({ ...model.proto, graph });
}

const graphCache = new RecentMap<string, ExplainGraph>(4);

/** A fused graph of a model, built once per model content (sha256), input/output choice and kind. */
export function explainGraphFor(model: FrModel, which: 'explain' | 'explain-first' = 'explain'): ExplainGraph {
  const key = `${model.sha256}/${model.input}/${model.output}/${which}`;
  let graph = graphCache.get(key);
  if (!graph) graphCache.set(key, (graph = which === 'explain' ? buildExplainGraph(model) : buildExplainFirstGraph(model)));
  return graph;
}

/**
 * The graphs a model runs: the fused explanation graph of pairs, the first-face graph (maps of
 * one face per pair against a given partner embedding), and the model itself for embeddings.
 */
export type ModelGraph = 'explain' | 'explain-first' | 'embed';

// The embedding graph is cheap to build and a session opens it once: it is not kept.
const graphBytes = (model: FrModel, which: ModelGraph): Uint8Array => (which === 'embed' ? buildEmbedGraph(model) : explainGraphFor(model, which).bytes);

/** The similarity, dissimilarity and combined maps of one face, row-major at the model's input size. */
export type FaceMaps = Record<MapKind, Float32Array>;

/** One face's maps against a given partner, and the pair's score. */
export interface FaceExplanation {
  score: number;
  maps: FaceMaps;
  saliency: Float32Array;
}

export interface PairExplanation {
  score: number;
  /** Plain gradient saliency mean_c |∂s/∂x| of each face (not part of xSSAB; for comparisons). */
  saliency: [Float32Array, Float32Array];
  embeddings: [Float32Array, Float32Array];
  arguments: Float32Array;
  split: ScoreSplit;
  maps: [FaceMaps, FaceMaps];
}

/**
 * Sessions for one model. The graph it is created for opens at once, on the chosen provider; the
 * other opens on first use (explaining pairs never needs the embedding graph, and calibrating
 * never needs the explanation graph, which also needs a gradient rule for every operator).
 */
export class Explainer {
  private readonly sessions: Partial<Record<ModelGraph, Promise<Session>>> = {};
  private pool?: Promise<EmbedPool | undefined>;

  private constructor(
    readonly model: FrModel,
    private provider: string,
    first: ModelGraph,
    session: Session,
    private readonly onFallback: FallbackNotice,
  ) {
    this.sessions[first] = Promise.resolve(session);
  }

  get ep(): string {
    return this.provider;
  }

  static async create(
    model: FrModel,
    ep: ExecutionProviderChoice = 'cpu',
    onFallback: FallbackNotice = () => {},
    first: ModelGraph = 'explain',
  ): Promise<Explainer> {
    // A model that runs one face per call never runs the pair graph, which stacks two faces.
    const opened = model.batch.kind === 'one face per run' && first === 'explain' ? 'explain-first' : first;
    const session = await createSession(graphBytes(model, opened), ep, onFallback);
    return new Explainer(model, session.ep, opened, session, onFallback);
  }

  private session(which: ModelGraph): Promise<Session> {
    // The second graph runs where the first could run, without a second round of notices.
    this.sessions[which] ??= createSession(graphBytes(this.model, which), this.provider as ExecutionProviderChoice);
    return this.sessions[which];
  }

  /**
   * Runs one of the graphs; a GPU provider that loaded but fails to run the graph hands over to
   * the CPU once, with a notice, and the run is repeated there. A run the CPU cannot do either
   * fails with onnxruntime's message in words (RunError).
   */
  private async run(which: ModelGraph, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.ReturnType> {
    const onCpu = async () => (await this.session(which)).session.run(feeds).catch((e) => Promise.reject(runFailure(e)));
    if (this.provider === 'cpu') return onCpu();
    try {
      return await (await this.session(which)).session.run(feeds);
    } catch (e) {
      const failure = runFailure(e);
      this.onFallback(fallbackTo('cpu', [{ ep: this.provider, reason: `${this.provider} failed to run the graph: ${failure.message}`, detail: failure.detail }]));
      await this.release();
      this.provider = 'cpu';
      return onCpu();
    }
  }

  private faceTensor(faces: Float32Array): ort.Tensor {
    const [c, h, w] = this.model.inputShape;
    const n = faces.length / (c * h * w);
    if (!Number.isInteger(n) || n < 1) throw new Error(`face data of length ${faces.length} is not a whole number of ${c}×${h}×${w} faces`);
    return new ort.Tensor('float32', faces, [n, c, h, w]);
  }

  /** A model that must not see two faces in one batch (batch.ts): each face's own run. */
  private get onePerRun(): boolean {
    return this.model.batch.kind === 'one face per run';
  }

  /** `faces` split into single faces, or kept whole where batches are sound. */
  private singles(faces: Float32Array): Float32Array[] {
    const size = this.model.inputShape.reduce((a, d) => a * d, 1);
    if (!this.onePerRun) return [faces];
    this.faceTensor(faces); // checks the length
    return Array.from({ length: faces.length / size }, (_, i) => faces.subarray(i * size, (i + 1) * size));
  }

  /**
   * The embedding of each of many preprocessed faces: on the CPU, enough of them are shared among
   * worker threads (embedPool.ts); otherwise `batch` faces per run of this explainer's session,
   * which is also where they go if the pool cannot start or fails (a run's failure is then
   * reported in words, as for every run).
   */
  async embedEach(faces: readonly Float32Array[], batch: number): Promise<Float32Array[]> {
    const pool = this.provider === 'cpu' && faces.length >= POOL_MIN_FACES ? await this.embedPool() : undefined;
    if (pool) {
      try {
        return await pool.embed(faces);
      } catch {
        this.pool = Promise.resolve(undefined);
        await pool.dispose();
      }
    }
    const d = this.model.embeddingSize;
    const out: Float32Array[] = [];
    for (let start = 0; start < faces.length; start += batch) {
      const e = await this.embed(stackFaces(faces.slice(start, start + batch)));
      for (let i = 0; i < e.length / d; i++) out.push(e.slice(i * d, (i + 1) * d));
    }
    return out;
  }

  /** The pool of embedding workers, started on first use; undefined on one core or where workers cannot start. */
  private embedPool(): Promise<EmbedPool | undefined> {
    this.pool ??= (async () => {
      const graph = graphBytes(this.model, 'embed');
      const size = poolSize(graph.length);
      if (size < 2) return undefined;
      return EmbedPool.start(graph, { input: this.model.input, output: this.model.output }, this.model.inputShape, size).catch(() => undefined);
    })();
    return this.pool;
  }

  /** Embeddings [N, d] of N preprocessed faces. */
  async embed(faces: Float32Array): Promise<Float32Array> {
    const parts: Float32Array[] = [];
    for (const part of this.singles(faces)) parts.push((await this.run('embed', { [this.model.input]: this.faceTensor(part) }))[this.model.output].data as Float32Array);
    return parts.length === 1 ? parts[0] : stackFaces(parts);
  }

  /** Explains N pairs at once; `a` and `b` hold N preprocessed faces each. */
  async explainBatch(a: Float32Array, b: Float32Array, threshold: number): Promise<PairExplanation[]> {
    if (this.onePerRun) return this.explainPairsOneByOne(a, b, threshold);
    const IO = explainGraphFor(this.model).io;
    const r = await this.run('explain', {
      [IO.a]: this.faceTensor(a),
      [IO.b]: this.faceTensor(b),
      [IO.threshold]: new ort.Tensor('float32', Float32Array.of(threshold), []),
    });
    const get = (name: string) => r[name].data as Float32Array;
    const [, h, w] = this.model.inputShape;
    const d = this.model.embeddingSize;
    const n = get(IO.score).length;
    const plane = h * w;
    const row = (data: Float32Array, i: number, size: number) => data.slice(i * size, (i + 1) * size);
    const faceMaps = (i: number): FaceMaps => ({
      similarity: row(get(IO.similarity), i, plane),
      dissimilarity: row(get(IO.dissimilarity), i, plane),
      combined: row(get(IO.combined), i, plane),
    });
    return Array.from({ length: n }, (_, i) => {
      const args = row(get(IO.arguments), i, d);
      return {
        score: get(IO.score)[i],
        embeddings: [row(get(IO.embeddings), i, d), row(get(IO.embeddings), n + i, d)],
        arguments: args,
        saliency: [row(get(IO.saliency), i, plane), row(get(IO.saliency), n + i, plane)],
        split: {
          beta: threshold / d,
          supporting: { count: get(IO.supportingCount)[i], sum: get(IO.supportingSum)[i] },
          opposing: { count: d - get(IO.supportingCount)[i], sum: get(IO.opposingSum)[i] },
        },
        maps: [faceMaps(i), faceMaps(n + i)],
      };
    });
  }

  /**
   * The maps of N faces (`faces`) against their partners' unit embeddings (`partners`, [N, d]),
   * as explain() gives them for the first face of each pair, and the pairs' scores.
   */
  async explainFirst(faces: Float32Array, partners: Float32Array, threshold: number): Promise<FaceExplanation[]> {
    if (!this.onePerRun) return this.explainFirstRun(faces, partners, threshold);
    const d = this.model.embeddingSize;
    const out: FaceExplanation[] = [];
    for (const [i, face] of this.singles(faces).entries()) out.push(...(await this.explainFirstRun(face, partners.subarray(i * d, (i + 1) * d), threshold)));
    return out;
  }

  /**
   * The fused pair graph's results composed from single-face runs: each face's embedding, then
   * each face's maps against its partner's unit embedding (the pair graph's maps are exactly
   * these), and the score and its split from the two unit embeddings.
   */
  private async explainPairsOneByOne(a: Float32Array, b: Float32Array, threshold: number): Promise<PairExplanation[]> {
    const [facesA, facesB] = [this.singles(a), this.singles(b)];
    if (facesA.length !== facesB.length) throw new Error(`${facesA.length} faces a for ${facesB.length} faces b`);
    const d = this.model.embeddingSize;
    const beta = threshold / d;
    const out: PairExplanation[] = [];
    for (let i = 0; i < facesA.length; i++) {
      const embeddings: [Float32Array, Float32Array] = [await this.embed(facesA[i]), await this.embed(facesB[i])];
      const [unitA, unitB] = embeddings.map(unitVector);
      const [[mapsA], [mapsB]] = [await this.explainFirstRun(facesA[i], unitB, threshold), await this.explainFirstRun(facesB[i], unitA, threshold)];
      const args = unitA.map((v, k) => v * unitB[k]);
      const supporting = args.filter((v) => v >= beta);
      const sum = (values: Float32Array) => values.reduce((s, v) => s + v, 0);
      out.push({
        score: mapsA.score,
        embeddings,
        arguments: args,
        saliency: [mapsA.saliency, mapsB.saliency],
        split: { beta, supporting: { count: supporting.length, sum: sum(supporting) }, opposing: { count: d - supporting.length, sum: sum(args.filter((v) => v < beta)) } },
        maps: [mapsA.maps, mapsB.maps],
      });
    }
    return out;
  }

  private async explainFirstRun(faces: Float32Array, partners: Float32Array, threshold: number): Promise<FaceExplanation[]> {
    const face = this.faceTensor(faces);
    const [n, d] = [face.dims[0], this.model.embeddingSize];
    if (partners.length !== n * d) throw new Error(`${partners.length / d} partner embeddings for ${n} faces`);
    const IO = explainGraphFor(this.model, 'explain-first').io;
    const r = await this.run('explain-first', {
      [IO.a]: face,
      [IO.partner]: new ort.Tensor('float32', partners, [n, d]),
      [IO.threshold]: new ort.Tensor('float32', Float32Array.of(threshold), []),
    });
    const get = (name: string) => r[name].data as Float32Array;
    const [, h, w] = this.model.inputShape;
    const row = (name: string, i: number) => get(name).slice(i * h * w, (i + 1) * h * w);
    return Array.from({ length: n }, (_, i) => ({
      score: get(IO.score)[i],
      maps: { similarity: row(IO.similarity, i), dissimilarity: row(IO.dissimilarity, i), combined: row(IO.combined, i) },
      saliency: row(IO.saliency, i),
    }));
  }

  async release(): Promise<void> {
    const open = Object.values(this.sessions);
    for (const which of Object.keys(this.sessions) as ModelGraph[]) delete this.sessions[which];
    // A session that failed to open has nothing to release.
    await Promise.all(open.map((session) => session.then((s) => s.session.release(), () => {})));
    const pool = this.pool;
    this.pool = undefined;
    await (await pool)?.dispose();
  }
}

/** e/‖e‖, the norm taken in double precision. */
function unitVector(e: Float32Array): Float32Array {
  const norm = Math.sqrt(e.reduce((s, v) => s + v * v, 0));
  return e.map((v) => v / norm);
}

/** N preprocessed faces (C×H×W each) side by side, as one batch tensor's data. */
export function stackFaces(faces: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(faces.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of faces) {
    out.set(f, offset);
    offset += f.length;
  }
  return out;
}
