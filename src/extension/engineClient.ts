// The extension host's side of the engine worker: requests carry ids, replies are matched to
// them, and a cancelled request stops the worker (a fresh one starts for the next request).
// It does not import vscode, so it runs in plain Node tests with a fake worker.
import type { JobFailure, WorkerJob, WorkerReply, WorkerRequest } from './engineWorker';
import type { ExplanationPayload } from '../shared/result';

/** What is used of worker_threads.Worker. */
export interface WorkerLike {
  postMessage(request: WorkerRequest): void;
  on(event: 'message', listener: (reply: WorkerReply) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** What is used of vscode.CancellationToken. */
export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): unknown };
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
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
  onFallback?(provider: string, reason: string): void;
}

interface Pending extends JobEvents {
  job: WorkerJob;
  resolve(result: Explained): void;
  reject(error: Error): void;
}

export class EngineClient {
  private worker?: WorkerLike;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly spawn: () => WorkerLike) {}

  explain(job: WorkerJob, events: JobEvents = {}, token?: CancellationTokenLike): Promise<Explained> {
    if (token?.isCancellationRequested) return Promise.reject(new CancelledError());
    const id = this.nextId++;
    return new Promise<Explained>((resolve, reject) => {
      const subscription = token?.onCancellationRequested(() => this.cancel(id));
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        subscription?.dispose();
        f(v);
      };
      this.pending.set(id, { job, ...events, resolve: settle(resolve), reject: settle(reject) });
      this.post(id, job);
    });
  }

  /** Stops the worker and fails whatever is still running. */
  dispose(): void {
    this.stopWorker();
    this.failAll(new CancelledError());
  }

  private post(id: number, job: WorkerJob): void {
    this.worker ??= this.startWorker();
    this.worker.postMessage({ id, job });
  }

  private startWorker(): WorkerLike {
    const worker = this.spawn();
    // Events of a worker that was stopped or replaced no longer concern anyone.
    worker.on('message', (reply) => worker === this.worker && this.onReply(reply));
    worker.on('error', (e) => worker === this.worker && this.onCrash(`the engine failed: ${e.message}`, e.stack));
    worker.on('exit', (code) => worker === this.worker && this.onCrash(`the engine stopped unexpectedly (exit code ${code})`));
    return worker;
  }

  private onReply(reply: WorkerReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    switch (reply.kind) {
      case 'progress':
        p.onProgress?.(reply.message);
        break;
      case 'fallback':
        p.onFallback?.(reply.provider, reply.reason);
        break;
      case 'done':
        this.pending.delete(reply.id);
        p.resolve({ payload: reply.payload, loadMs: reply.loadMs });
        break;
      case 'failed':
        this.pending.delete(reply.id);
        p.reject(new EngineFailure(reply.error));
        break;
    }
  }

  private onCrash(message: string, stack?: string): void {
    this.worker = undefined;
    this.failAll(new EngineFailure({ message, known: false, stack }));
  }

  /** The worker cannot stop one job midway: it is stopped, and the other jobs go to a fresh one. */
  private cancel(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.stopWorker();
    p.reject(new CancelledError());
    for (const [other, q] of this.pending) this.post(other, q.job);
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }

  private failAll(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(error);
  }
}
