import { strict as assert } from 'assert';
import { LatestRunner } from '../../src/extension/latestRunner';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run function that records its calls and finishes when the test says so. */
function recorder() {
  const calls: number[] = [];
  const finishers: (() => void)[] = [];
  const run = (v: number) => {
    calls.push(v);
    return new Promise<void>((resolve) => finishers.push(resolve));
  };
  const finishNext = () => finishers.shift()?.();
  return { calls, run, finishNext };
}

describe('LatestRunner (threshold re-runs)', () => {
  it('runs once, with the last value, after a burst of requests', async () => {
    const r = recorder();
    const runner = new LatestRunner(r.run, 20);
    runner.request(0.1);
    runner.request(0.2);
    await sleep(10);
    runner.request(0.3); // restarts the quiet time
    await sleep(15);
    assert.deepEqual(r.calls, [], 'still within the quiet time after the last request');
    await sleep(30);
    assert.deepEqual(r.calls, [0.3]);
    r.finishNext();
  });

  it('while a run is in progress, keeps only the newest request and runs it afterwards', async () => {
    const r = recorder();
    const runner = new LatestRunner(r.run, 5);
    runner.request(1);
    await sleep(20);
    assert.deepEqual(r.calls, [1]);
    runner.request(2);
    await sleep(20);
    runner.request(3);
    await sleep(20);
    assert.deepEqual(r.calls, [1], 'no second run while the first runs');
    r.finishNext();
    await sleep(5);
    assert.deepEqual(r.calls, [1, 3]);
    r.finishNext();
    await sleep(20);
    assert.deepEqual(r.calls, [1, 3], 'nothing left to run');
  });

  it('drops a waiting request on dispose', async () => {
    const r = recorder();
    const runner = new LatestRunner(r.run, 5);
    runner.request(1);
    runner.dispose();
    await sleep(20);
    assert.deepEqual(r.calls, []);
  });
});
