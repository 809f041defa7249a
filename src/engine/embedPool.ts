// Embedding many faces on the CPU. onnxruntime's threads inside one run gain little on FR models
// as small as the bundled one (on 2 cores: two threads ≈ one, and erratic), while the faces of a
// pair list are independent; so they are shared among worker threads, each with its own session
// of one thread (on 2 cores: 4.0 ms a face instead of 5–10 ms).
import * as os from 'os';
import { Worker } from 'worker_threads';
import { SESSION_OPTIONS } from './runtime';

// A script rather than a module of its own: it runs the same from the CLI's bundle, the .vsix and
// the TypeScript sources the tests load, without another entry point to build and find.
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('worker_threads');
const ort = require(workerData.ort);
const { input, output, dims } = workerData;
ort.InferenceSession.create(workerData.graph, workerData.options).then(
  (session) => {
    parentPort.on('message', ({ id, face }) => {
      // A face of the wrong size throws in the Tensor constructor: a reply too, not a dead worker.
      Promise.resolve().then(() => session.run({ [input]: new ort.Tensor('float32', face, dims) })).then(
        (r) => {
          const embedding = r[output].data;
          parentPort.postMessage({ id, embedding }, [embedding.buffer]);
        },
        (e) => parentPort.postMessage({ id, error: String((e && e.message) || e) }),
      );
    });
    parentPort.postMessage({ ready: true });
  },
  (e) => parentPort.postMessage({ error: String((e && e.message) || e) }),
);`;

/** Where the pool pays: fewer faces than this are embedded quicker than workers start. */
export const POOL_MIN_FACES = 64;

/**
 * The cores the pool may use: XSSAB_EMBED_WORKERS where set (a container's CPU quota, which the
 * process cannot see; 1 turns the pool off), else those this process may run on.
 */
export function embedCores(env: NodeJS.ProcessEnv = process.env): number {
  const wanted = Number(env.XSSAB_EMBED_WORKERS);
  return Number.isInteger(wanted) && wanted >= 1 ? wanted : os.availableParallelism();
}

/** Workers on this machine for a graph of this size: one per core, at most 8, and 2 GiB of graphs in all. */
export function poolSize(graphBytes: number, cores = embedCores()): number {
  return Math.max(0, Math.min(cores, 8, Math.floor(2 ** 31 / Math.max(graphBytes, 1))));
}

interface Reply {
  id?: number;
  embedding?: Float32Array;
  error?: string;
  ready?: boolean;
}

/**
 * Worker threads that each embed one face per run of an FR model's embedding graph on the CPU.
 * Faces go to whichever worker is free; the embeddings come back in the faces' order.
 */
export class EmbedPool {
  /** The embed calls in order: a worker serves one call at a time. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly workers: Worker[]) {}

  /** Starts `size` workers on `graph` (input and output by name, one face of `shape` [c, h, w]). */
  static async start(graph: Uint8Array, io: { input: string; output: string }, shape: readonly number[], size: number): Promise<EmbedPool> {
    const dims = [1, ...shape];
    const workerData = { ort: require.resolve('onnxruntime-node'), graph, ...io, dims, options: { ...SESSION_OPTIONS, executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 } };
    const workers = Array.from({ length: size }, () => new Worker(WORKER_SCRIPT, { eval: true, workerData }));
    const started = await Promise.allSettled(workers.map((w) => ready(w)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason;
    }
    // Idle workers do not keep the process alive; the ones with faces to embed do (embed).
    workers.forEach((w) => w.unref());
    return new EmbedPool(workers);
  }

  /** The raw (not normalised) embedding of each face, in order; rejects on the first failed run. */
  embed(faces: readonly Float32Array[]): Promise<Float32Array[]> {
    const done = this.queue.then(() => this.embedNow(faces));
    this.queue = done.catch(() => {});
    return done;
  }

  private async embedNow(faces: readonly Float32Array[]): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(faces.length);
    let next = 0;
    const work = (worker: Worker) =>
      new Promise<void>((resolve, reject) => {
        const finish = (error?: Error) => {
          worker.off('message', onReply);
          worker.off('error', finish);
          worker.off('exit', stopped);
          worker.unref();
          if (error) reject(error);
          else resolve();
        };
        const stopped = () => finish(new Error('an embedding worker stopped'));
        const send = () => {
          if (next >= faces.length) return finish();
          const id = next++;
          // A copy is transferred: the caller keeps its faces.
          const face = faces[id].slice();
          worker.postMessage({ id, face }, [face.buffer]);
        };
        const onReply = (reply: Reply) => {
          if (reply.error !== undefined || !reply.embedding) {
            next = faces.length; // the other workers stop after the face they have
            return finish(new Error(reply.error ?? 'the embedding worker replied without an embedding'));
          }
          out[reply.id!] = reply.embedding;
          send();
        };
        worker.ref();
        worker.on('message', onReply);
        worker.on('error', finish);
        worker.on('exit', stopped);
        send();
      });
    // Settled, not all: a worker with a face in flight when another fails must reply before the next call.
    const failed = (await Promise.allSettled(this.workers.map(work))).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Resolves when the worker's session is open; rejects with why it could not open. */
function ready(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (reply: Reply) => {
      worker.off('error', reject);
      if (reply.ready) resolve();
      else reject(new Error(reply.error ?? 'the embedding worker did not start'));
    });
  });
}
