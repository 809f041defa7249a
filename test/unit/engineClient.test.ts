import { strict as assert } from 'assert';
import { EventEmitter } from 'events';
import type { ExplanationPayload } from '../../src/shared/result';
import { EngineClient, EngineFailure, type WorkerLike } from '../../src/extension/engineClient';
import type { Envelope, ExplainJob, WorkerReply, WorkerRequest } from '../../src/shared/protocol';
import { CancelledError } from '../../src/shared/requests';
import { Token } from './testToken';

/** A worker that records requests; the test answers them in any order. */
class FakeWorker extends EventEmitter implements WorkerLike {
  readonly requests: Envelope<WorkerRequest>[] = [];
  terminated = false;
  private replies = 0;
  postMessage(request: Envelope<WorkerRequest>): void {
    this.requests.push(request);
  }
  terminate(): Promise<number> {
    this.terminated = true;
    this.emit('exit', 1); // as worker_threads does after terminate()
    return Promise.resolve(1);
  }
  /** Answers the request with id `inReplyTo`, in an envelope as the worker sends it. */
  reply(inReplyTo: string, r: WorkerReply): void {
    this.emit('message', { ...r, id: `worker-${++this.replies}`, inReplyTo });
  }
}

const job = (a: string): ExplainJob => ({ ep: 'cpu', a, b: 'b.png' });
const payload = (score: number) => ({ score }) as ExplanationPayload;
const tick = () => new Promise((r) => setImmediate(r));

function setup() {
  const workers: FakeWorker[] = [];
  const client = new EngineClient(() => {
    workers.push(new FakeWorker());
    return workers[workers.length - 1];
  });
  return { client, workers };
}

describe('engine client', () => {
  it('matches replies to requests by id, whatever their order', async () => {
    const { client, workers } = setup();
    const first = client.explain(job('1.png'));
    const second = client.explain(job('2.png'));
    assert.equal(workers.length, 1, 'one worker serves both');
    const [r1, r2] = workers[0].requests;
    assert.deepEqual([r1, r2].map((r) => r.type === 'explain' && r.job), [job('1.png'), job('2.png')]);
    assert.notEqual(r1.id, r2.id);
    workers[0].reply(r2.id, { type: 'done', payload: payload(0.2), loadMs: 5 });
    workers[0].reply(r1.id, { type: 'done', payload: payload(0.1) });
    assert.deepEqual(await first, { payload: payload(0.1), loadMs: undefined });
    assert.deepEqual(await second, { payload: payload(0.2), loadMs: 5 });
  });

  it('passes progress and fallback notices to the job they belong to', async () => {
    const { client, workers } = setup();
    const seen: string[] = [];
    const done = client.explain(job('1.png'), { onProgress: (m) => seen.push(`progress ${m}`), onFallback: (f) => seen.push(`fallback ${f.providers}: ${f.notice}`) });
    const otherFails = assert.rejects(client.explain(job('2.png'), { onProgress: (m) => seen.push(`other ${m}`) }));
    const [r1, r2] = workers[0].requests;
    workers[0].reply(r1.id, { type: 'progress', message: 'Loading the model…' });
    workers[0].reply(r1.id, { type: 'fallback', fallback: { providers: 'cuda', ep: 'cpu', reason: 'no driver', notice: 'running on the CPU (no driver)', detail: '' } });
    workers[0].reply(r1.id, { type: 'done', payload: payload(0.5) });
    workers[0].reply(r1.id, { type: 'progress', message: 'late' }); // after the end: dropped
    workers[0].reply(r2.id, { type: 'failed', error: { message: 'x', known: true } });
    await done;
    await otherFails;
    assert.deepEqual(seen, ['progress Loading the model…', 'fallback cuda: running on the CPU (no driver)']);
  });

  it("rejects with the engine's message and whether it is one of the engine's own errors", async () => {
    const { client, workers } = setup();
    const p = client.explain(job('notes.png'));
    workers[0].reply(workers[0].requests[0].id, { type: 'failed', error: { message: 'notes.png: not an image', known: true, stack: 'S' } });
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof EngineFailure);
      assert.equal(e.message, 'notes.png: not an image');
      assert.equal(e.known, true);
      assert.equal(e.detail, 'S');
      return true;
    });
    // The worker lives on for the next job.
    void client.explain(job('ok.png'));
    assert.equal(workers.length, 1);
    assert.equal(workers[0].requests.length, 2);
  });

  it('on cancel, stops the worker, rejects that job, and sends the other jobs to a fresh worker', async () => {
    const { client, workers } = setup();
    const token = new Token();
    const cancelled = client.explain(job('1.png'), {}, token);
    const kept = client.explain(job('2.png'));
    assert.equal(token.listening, 1);
    token.cancel();
    await assert.rejects(cancelled, CancelledError);
    assert.equal(workers[0].terminated, true);
    assert.equal(workers.length, 2);
    const resent = workers[1].requests;
    assert.deepEqual(resent.map((r) => r.type === 'explain' && r.job), [job('2.png')]);
    // A late reply from the stopped worker changes nothing; the fresh one answers.
    workers[0].reply(resent[0].id, { type: 'done', payload: payload(-1) });
    workers[1].reply(resent[0].id, { type: 'done', payload: payload(0.7) });
    assert.equal((await kept).payload.score, 0.7);
    assert.equal(token.listening, 0, 'the cancellation listener is released');
  });

  it('does not start a job whose token is already cancelled', async () => {
    const { client, workers } = setup();
    const token = new Token();
    token.cancel();
    await assert.rejects(client.explain(job('1.png'), {}, token), CancelledError);
    assert.equal(workers.length, 0);
  });

  it('fails the running jobs when the worker crashes, and starts a new worker for the next', async () => {
    const { client, workers } = setup();
    const p = client.explain(job('1.png'));
    workers[0].emit('error', new Error('out of memory'));
    await assert.rejects(p, (e: unknown) => e instanceof EngineFailure && !e.known && /out of memory/.test(e.message));
    const q = client.explain(job('2.png'));
    assert.equal(workers.length, 2);
    workers[1].reply(workers[1].requests[0].id, { type: 'done', payload: payload(0.3) });
    assert.equal((await q).payload.score, 0.3);
  });

  it('reports a worker that exits by itself', async () => {
    const { client, workers } = setup();
    const p = client.explain(job('1.png'));
    workers[0].emit('exit', 7);
    await assert.rejects(p, /stopped unexpectedly \(exit code 7\)/);
  });

  it('dispose stops the worker and cancels what runs', async () => {
    const { client, workers } = setup();
    const p = client.explain(job('1.png'));
    client.dispose();
    await tick();
    assert.equal(workers[0].terminated, true);
    await assert.rejects(p, CancelledError);
  });
});
