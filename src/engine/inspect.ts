// What the engine makes of a model: its input and output, ops, whether every op on the path from
// the image to the embedding has a gradient rule, its quantization, batch handling and
// preprocessing. `xssab inspect` prints it; the extension logs it when the model setting changes.
import * as fs from 'fs';
import { findMissingRules, type MissingRule } from './autodiff/vjp';
import { type LoadOptions, type Preprocessing, loadFrModel } from './model';
import { readModelCard } from './modelCard';
import { GraphBuilder } from './onnx/builder';
import { decodeModel, toNumber } from './onnx/proto';
import type { QuantizationKind } from './quantization';
import type { BatchKind } from './batch';
import { UnsupportedGradientError } from './autodiff/rules';

export interface ModelReport {
  model: string;
  input: { name: string; shape: (number | string)[] };
  output: { name: string; shape: (number | string)[] };
  embeddingSize: number;
  opset: number;
  /** Node count per op type, most frequent first. */
  ops: Record<string, number>;
  /** Whether the maps can be computed: every op on the path has a gradient rule. */
  supported: boolean;
  missing: MissingRule[];
  /** Why a rule refuses a node it has (a computed index, an unsupported mode), where one does. */
  refusal?: string;
  quantization: QuantizationKind;
  /**
   * What the engine measured (batch.ts): dynamic, the file's batch axis is open; relaxed, the
   * engine opens a fixed batch of 1; one face per run, batches would change a face's embedding.
   */
  batch: BatchKind;
  batchReason: string;
  preprocessing: Preprocessing & { source: 'model card' | 'flags' | 'ArcFace default' };
  warnings: string[];
}

/** Loads the model as the engine does and reports on it; a model the engine cannot load fails with its ModelError. */
export async function inspectModel(modelPath: string, options: LoadOptions = {}): Promise<ModelReport> {
  const model = await loadFrModel(modelPath, options);
  // The file as written: the loaded graph has its batch opened and may have a Flatten appended.
  const file = decodeModel(fs.readFileSync(modelPath));
  const graph = file.graph!;
  const dims = (name: string) =>
    (graph.input ?? []).concat(graph.output ?? []).find((v) => v.name === name)?.type?.tensorType?.shape?.dim?.map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue) || '?')) ?? [];
  const ops: Record<string, number> = {};
  for (const n of graph.node ?? []) ops[n.opType ?? ''] = (ops[n.opType ?? ''] ?? 0) + 1;
  const sortedOps = Object.fromEntries(Object.entries(ops).sort(([a, m], [b, n]) => n - m || a.localeCompare(b)));

  let missing: MissingRule[] = [];
  let refusal: string | undefined;
  try {
    const source = model.proto.graph!;
    const b = new GraphBuilder({ ...source, node: [...(source.node ?? [])], initializer: [...(source.initializer ?? [])] }, model.opset);
    missing = findMissingRules(b, model.info, { input: model.input, output: model.output });
  } catch (e) {
    if (!(e instanceof UnsupportedGradientError)) throw e;
    refusal = e.message;
  }
  const card = readModelCard(modelPath);
  // The embedding may be a Flatten the engine appended to a 4-D output.
  const outputName = (graph.output ?? []).find((v) => v.name === model.output)?.name ?? card?.output ?? graph.output?.[0]?.name ?? '';
  const fromFlags = Object.values(options.preprocessing ?? {}).some((v) => v !== undefined);
  return {
    model: model.name,
    input: { name: model.input, shape: dims(model.input) },
    output: { name: outputName, shape: dims(outputName) },
    embeddingSize: model.embeddingSize,
    opset: model.opset,
    ops: sortedOps,
    supported: missing.length === 0 && !refusal,
    missing,
    ...(refusal ? { refusal } : {}),
    quantization: model.quantization,
    batch: model.batch.kind,
    batchReason: model.batch.reason,
    preprocessing: { channelOrder: model.preprocessing.channelOrder, mean: model.preprocessing.mean, std: model.preprocessing.std, source: fromFlags ? 'flags' : card ? 'model card' : 'ArcFace default' },
    warnings: model.warnings,
  };
}

/** Why the maps cannot be computed with the model; undefined when they can. */
export function unsupportedReason(r: ModelReport): string | undefined {
  if (r.supported) return undefined;
  return r.refusal ?? `no rule for ${r.missing.map((m) => `${m.op} (${m.nodes} node${m.nodes === 1 ? '' : 's'}, e.g. "${m.example}")`).join(', ')}`;
}

/** The report as lines for a person. */
export function formatReport(r: ModelReport): string[] {
  const shape = (s: (number | string)[]) => `[${s.join(', ')}]`;
  const p = r.preprocessing;
  return [
    `model ${r.model} (opset ${r.opset})`,
    `input ${r.input.name} ${shape(r.input.shape)}, output ${r.output.name} ${shape(r.output.shape)}, embedding size ${r.embeddingSize}`,
    `ops: ${Object.entries(r.ops).map(([op, n]) => `${op} ${n}`).join(', ')}`,
    r.supported
      ? 'gradients: every op on the path from the input to the embedding has a rule'
      : `gradients: cannot explain: ${unsupportedReason(r)}`,
    `quantization: ${r.quantization}`,
    `batch: ${r.batch} (${r.batchReason})`,
    `preprocessing: (v − ${p.mean}) / ${p.std}, ${p.channelOrder} (${p.source})`,
  ];
}
