// The engine's thread: loads models and computes explanations away from the extension host's
// main thread. Jobs run one at a time in arrival order; the engine is kept between jobs and
// rebuilt only when the model or execution provider changes.
import { parentPort } from 'worker_threads';
import { Engine } from '../engine/engine';
import { toPayload } from '../engine/output';
import { formatReport, inspectModel, unsupportedReason } from '../engine/inspect';
import { defaultModelPath } from '../engine/model';
import type { Envelope, ExplainJob, InspectJob, JobFailure, JobImage, ModelInspection, WorkerReply, WorkerRequest } from '../shared/protocol';
import { unexpected } from '../shared/protocol';
import { mapBuffers, rawMap } from '../shared/mapCodec';
import { Envelopes } from '../shared/requests';
import type { ExplanationPayload } from '../shared/result';
import { EXECUTION_PROVIDERS, type ExecutionProviderChoice } from '../engine/runtime';
import { UserError } from '../shared/errors';

/** A setting the engine cannot use. */
class SettingError extends UserError {}

/** A job's error as it crosses to the host thread, which cannot see its class. */
export function describeFailure(e: unknown): JobFailure {
  if (e instanceof Error) return { message: e.message, known: e instanceof UserError, stack: e.stack };
  return { message: String(e), known: false };
}

let engine: { key: string; ready: Promise<Engine> } | undefined;

/** Prepared faces the engine keeps: both images of a pair and another face of each (a phone photo's is ~40 MB). */
const FACES_KEPT = 4;

/** Sends one reply to the request being answered; `transfer`: buffers that move instead of being copied. */
type Replier = (reply: WorkerReply, transfer?: ArrayBuffer[]) => void;

/** The last reply of a job: the maps' buffers go to the host without a copy (the worker keeps none). */
function done(reply: Replier, payload: ExplanationPayload, loadMs?: number): void {
  reply({ type: 'done', payload, loadMs }, mapBuffers(payload));
}

async function engineFor(job: ExplainJob, reply: Replier): Promise<{ engine: Engine; loadMs?: number }> {
  if (!EXECUTION_PROVIDERS.includes(job.ep as ExecutionProviderChoice)) {
    throw new SettingError(`xssab.executionProvider: unknown provider "${job.ep}" (one of ${EXECUTION_PROVIDERS.join(', ')})`);
  }
  const key = `${job.model ?? ''}\n${job.ep}`;
  if (engine?.key === key) return { engine: await engine.ready };
  if (engine) await (await engine.ready.catch(() => undefined))?.dispose();
  reply({ type: 'progress', message: 'Loading the model…' });
  const start = performance.now();
  const ready = Engine.create({ model: job.model, ep: job.ep as ExecutionProviderChoice, cachedFaces: FACES_KEPT, onFallback: (fallback) => reply({ type: 'fallback', fallback }) });
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

async function explain(job: ExplainJob, reply: Replier): Promise<void> {
  const { engine, loadMs } = await engineFor(job, reply);
  reply({ type: 'progress', message: 'Computing the maps…' });
  const pair = await engine.explainPair({ ...imageSource(job.a), face: job.faces?.[0] }, { ...imageSource(job.b), face: job.faces?.[1] }, job.threshold);
  if (job.check) {
    reply({ type: 'progress', message: 'Checking the map…' });
    pair.result.check = await engine.checkPair(pair);
  }
  done(reply, await toPayload(pair, rawMap), loadMs);
}

/** `xssab inspect` of the job's model, as lines and the reason it cannot be explained (if any). */
async function inspect(job: InspectJob): Promise<ModelInspection> {
  const report = await inspectModel(job.model ?? defaultModelPath());
  const problem = unsupportedReason(report);
  return { lines: formatReport(report), ...(problem ? { problem } : {}) };
}

/** Answers one request with its replies; never throws (a failure is the `failed` reply). */
export async function run(request: WorkerRequest, reply: Replier): Promise<void> {
  try {
    switch (request.type) {
      case 'explain':
        await explain(request.job, reply);
        break;
      case 'inspect':
        reply({ type: 'inspected', inspection: await inspect(request.job) });
        break;
      default:
        unexpected(request);
    }
  } catch (e) {
    reply({ type: 'failed', error: describeFailure(e) });
  }
}

if (parentPort) {
  const port = parentPort;
  const envelopes = new Envelopes('worker-');
  let queue = Promise.resolve();
  port.on('message', (request: Envelope<WorkerRequest>) => {
    queue = queue.then(() => run(request, (r, transfer) => port.postMessage(envelopes.reply(request, r), transfer)));
  });
}
