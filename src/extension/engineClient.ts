// The extension host's side of the engine worker: requests and replies go through the shared
// request helper, and a cancelled request stops the worker (a fresh one starts for the next
// request, and the requests still waiting are sent to it).
// It does not import vscode, so it runs in plain Node tests with a fake worker.
import type { Envelope, ExplainJob, Fallback, InspectJob, JobFailure, ModelInspection, WorkerReply, WorkerRequest } from '../shared/protocol';
import { ProtocolError, unexpected } from '../shared/protocol';
import { type CancellationTokenLike, CancelledError, Requests, type Settle } from '../shared/requests';
import type { ExplanationPayload } from '../shared/result';

/** What is used of worker_threads.Worker. */
export interface WorkerLike {
  postMessage(request: Envelope<WorkerRequest>): void;
  on(event: 'message', listener: (reply: Envelope<WorkerReply>) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** A job that failed in the engine; `known` marks the engine's own user-readable errors. */
export class EngineFailure extends Error {
  readonly known: boolean;
  readonly detail?: string;
  constructor(failure: JobFailure) {
    super(failure.message);
    this.known = failure.known;
    this.detail = failure.stack;
  }
}

export interface Explained {
  payload: ExplanationPayload;
  /** Time spent loading the model for this job, when it was loaded for it. */
  loadMs?: number;
}

export interface JobEvents {
  onProgress?(message: string): void;
  onFallback?(fallback: Fallback): void;
}

export class EngineClient {
  private worker?: WorkerLike;
  private readonly requests = new Requests<WorkerRequest, WorkerReply>((m) => (this.worker ??= this.startWorker()).postMessage(m), {
    idPrefix: 'host-',
    onCancel: () => this.cancelled(),
  });

  constructor(private readonly spawn: () => WorkerLike) {}

  explain(job: ExplainJob, events: JobEvents = {}, token?: CancellationTokenLike): Promise<Explained> {
    return this.run({ type: 'explain', job }, events, token);
  }

  /** What the engine makes of a model (`xssab inspect`); rejects with the EngineFailure of a model it cannot load. */
  inspect(job: InspectJob, token?: CancellationTokenLike): Promise<ModelInspection> {
    return this.requests.request({ type: 'inspect', job }, (reply, settle: Settle<ModelInspection>) => {
      if (reply.type === 'inspected') settle.resolve(reply.inspection);
      else if (reply.type === 'failed') settle.reject(new EngineFailure(reply.error));
      else throw new ProtocolError(`unexpected "${reply.type}" reply to an inspect request`);
    }, { token });
  }

  /** Stops the worker and fails whatever is still running. */
  dispose(): void {
    this.stopWorker();
    this.requests.failAll(new CancelledError());
  }

  private run(request: WorkerRequest, events: JobEvents, token?: CancellationTokenLike): Promise<Explained> {
    return this.requests.request(request, (reply, settle: Settle<Explained>) => {
      switch (reply.type) {
        case 'progress':
          events.onProgress?.(reply.message);
          break;
        case 'fallback':
          events.onFallback?.(reply.fallback);
          break;
        case 'done':
          settle.resolve({ payload: reply.payload, loadMs: reply.loadMs });
          break;
        case 'failed':
          settle.reject(new EngineFailure(reply.error));
          break;
        case 'inspected':
          throw new ProtocolError('an "inspected" reply to an explanation request');
        default:
          unexpected(reply);
      }
    }, { token });
  }

  private startWorker(): WorkerLike {
    const worker = this.spawn();
    // Events of a worker that was stopped or replaced no longer concern anyone.
    worker.on('message', (reply) => worker === this.worker && this.requests.receive(reply));
    worker.on('error', (e) => worker === this.worker && this.onCrash(`the engine failed: ${e.message}`, e.stack));
    worker.on('exit', (code) => worker === this.worker && this.onCrash(`the engine stopped unexpectedly (exit code ${code})`));
    return worker;
  }

  private onCrash(message: string, stack?: string): void {
    this.worker = undefined;
    this.requests.failAll(new EngineFailure({ message, known: false, stack }));
  }

  /** The worker cannot stop one job midway: it is stopped, and the other jobs go to a fresh one. */
  private cancelled(): void {
    this.stopWorker();
    this.requests.resend();
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}
