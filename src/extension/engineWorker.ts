// The engine's thread: loads models and computes explanations away from the extension host's
// main thread. Jobs run one at a time in arrival order; the engine is kept between jobs and
// rebuilt only when the model or execution provider changes.
import { parentPort } from 'worker_threads';
import { UnsupportedGradientError } from '../engine/autodiff/rules';
import { Engine, FaceError } from '../engine/engine';
import { pairPayload, readSummary } from '../engine/explainPairs/load';
import { ExplainPairsError } from '../engine/explainPairs/run';
import type { ModelEntry } from '../shared/pairListSummary';
import { ImageError } from '../engine/image';
import { ModelError } from '../engine/model';
import { toPayload } from '../engine/output';
import type { ExplanationPayload } from '../shared/result';
import { EXECUTION_PROVIDERS, type ExecutionProviderChoice } from '../engine/runtime';

/**
 * An image of a job: a path, which also labels it in the result and in error messages, or encoded
 * image bytes with their label (a notebook's data URI).
 */
export type JobImage = string | { data: Uint8Array; label: string };

export interface ExplainJob {
  /** Model path; undefined = the bundled model. */
  model?: string;
  ep: ExecutionProviderChoice;
  a: JobImage;
  b: JobImage;
  /** undefined = the model card's threshold. */
  threshold?: number;
  /** The detected face used in each image (0 = the largest, the default). */
  faces?: [number, number];
}

/** One pair of an explained pair list, as model `model` explained it, read back for the viewer. */
export interface PairListPairJob {
  kind: 'pairListPair';
  out: string;
  index: number;
  model: ModelEntry['key'];
}

/** What a caller may set of an explanation besides its images: the model, threshold and faces. */
export type ExplainOptions = Pick<ExplainJob, 'model' | 'threshold' | 'faces'>;

export type WorkerJob = ExplainJob | PairListPairJob;

export interface WorkerRequest {
  id: number;
  job: WorkerJob;
}

export interface JobFailure {
  message: string;
  /** True for the engine's own errors, whose messages are written for users. */
  known: boolean;
  stack?: string;
}

export type WorkerReply =
  | { id: number; kind: 'progress'; message: string }
  | { id: number; kind: 'fallback'; provider: string; reason: string }
  | { id: number; kind: 'done'; payload: ExplanationPayload; loadMs?: number }
  | { id: number; kind: 'failed'; error: JobFailure };

/** A setting the engine cannot use. */
class SettingError extends Error {}

const USER_ERRORS = [ImageError, FaceError, ModelError, UnsupportedGradientError, SettingError, ExplainPairsError];

function describe(e: unknown): JobFailure {
  if (e instanceof Error) return { message: e.message, known: USER_ERRORS.some((c) => e instanceof c), stack: e.stack };
  return { message: String(e), known: false };
}

let engine: { key: string; ready: Promise<Engine> } | undefined;

async function engineFor(job: ExplainJob, reply: (r: WorkerReply) => void, id: number): Promise<{ engine: Engine; loadMs?: number }> {
  if (!EXECUTION_PROVIDERS.includes(job.ep)) {
    throw new SettingError(`xssab.executionProvider: unknown provider "${job.ep}" (one of ${EXECUTION_PROVIDERS.join(', ')})`);
  }
  const key = `${job.model ?? ''}\n${job.ep}`;
  if (engine?.key === key) return { engine: await engine.ready };
  if (engine) await (await engine.ready.catch(() => undefined))?.dispose();
  reply({ id, kind: 'progress', message: 'Loading the model…' });
  const start = performance.now();
  const ready = Engine.create({ model: job.model, ep: job.ep, onFallback: (provider, reason) => reply({ id, kind: 'fallback', provider, reason }) });
  engine = { key, ready };
  try {
    return { engine: await ready, loadMs: performance.now() - start };
  } catch (e) {
    engine = undefined; // a model that failed to load is tried afresh next time
    throw e;
  }
}

/** The engine's image source; bytes arrive as a Uint8Array (structured clone drops Buffer). */
function imageSource(image: JobImage): { source: string | Buffer; label: string } {
  if (typeof image === 'string') return { source: image, label: image };
  return { source: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), label: image.label };
}

/** Reads the files the run wrote; no model is needed. */
function pairListPair(job: PairListPairJob): ExplanationPayload {
  const record = readSummary(job.out).pairs.find((p) => p.index === job.index);
  if (!record) throw new ExplainPairsError(`${job.out}: no pair ${job.index} in this list`);
  return pairPayload(job.out, record, job.model);
}

async function run({ id, job }: WorkerRequest, reply: (r: WorkerReply) => void): Promise<void> {
  try {
    if ('kind' in job) {
      reply({ id, kind: 'done', payload: pairListPair(job) });
      return;
    }
    const { engine, loadMs } = await engineFor(job, reply, id);
    reply({ id, kind: 'progress', message: 'Computing the maps…' });
    const pair = await engine.explainPair({ ...imageSource(job.a), face: job.faces?.[0] }, { ...imageSource(job.b), face: job.faces?.[1] }, job.threshold);
    reply({ id, kind: 'done', payload: await toPayload(pair), loadMs });
  } catch (e) {
    reply({ id, kind: 'failed', error: describe(e) });
  }
}

if (parentPort) {
  const port = parentPort;
  const reply = (r: WorkerReply) => port.postMessage(r);
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(() => run(request, reply));
  });
}
