// "Explain Pair List" runs the CLI in a child process: its arguments, progress, errors and stopping.
import { strict as assert } from 'assert';
import type { ChildProcess } from 'child_process';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { type PairListJob, cliArguments, checkModelB, cliError, defaultExplain, defaultOutput, isLfwPairs, restoredRunFolder, resumedPlan, runPairList, settingsPoint } from '../../src/extension/pairListRun';
import { saveLens } from '../../src/engine/explainPairs/lens';
import { SETTINGS_FILE } from '../../src/engine/explainPairs/summary';

const job: PairListJob = { cli: '/ext/dist/cli.js', list: '/d/list.csv', out: '/d/list.csv.xssab', ep: 'cpu', explain: 'all' };

/** A child process whose output and exit the test writes. */
function fakeChild() {
  const child = Object.assign(new EventEmitter(), { stdout: new PassThrough(), stderr: new PassThrough(), signals: [] as string[] });
  (child as unknown as { kill(s: string): boolean }).kill = (s: string) => (child.signals.push(s), true);
  return child;
}

describe('pair list run (child process)', () => {
  it('passes the list, output folder, settings and LFW folder to explain-pairs', () => {
    assert.deepEqual(cliArguments(job), ['/ext/dist/cli.js', 'explain-pairs', '/d/list.csv', '--out', '/d/list.csv.xssab', '--ep', 'cpu', '--explain', 'all']);
    assert.deepEqual(cliArguments({ ...job, lfwRoot: '/lfw', model: '/m.onnx', threshold: 0.25 }).slice(7, -2), ['--lfw', '/lfw', '--model', '/m.onnx', '--threshold', '0.25']);
    assert.deepEqual(cliArguments({ ...job, verbose: true }).slice(7, -2), ['--verbose']);
    assert.deepEqual(cliArguments({ ...job, explain: 'errors', by: ['gender', 'age'], compare: 'gender=F/F,gender=M/M' }).slice(7), ['--explain', 'errors', '--by', 'gender,age', '--compare', 'gender=F/F,gender=M/M']);
    assert.deepEqual(cliArguments({ ...job, model: '/a.onnx', modelB: '/m/b.onnx' }).slice(7, -2), ['--model', '/a.onnx', '--model-b', '/m/b.onnx']);
    assert.deepEqual(cliArguments({ ...job, atFmr: 0.001, thresholdB: 0.4 }).slice(7, -2), ['--at-fmr', '0.001', '--threshold-b', '0.4']);
    assert.deepEqual(cliArguments({ ...job, threshold: 0.3, atFmrB: 0.01 }).slice(7, -2), ['--threshold', '0.3', '--at-fmr-b', '0.01']);
    assert.equal(defaultOutput('/d/list.csv'), '/d/list.csv.xssab');
    assert.equal(defaultOutput('/d/list.csv', '/m/arcface-r100.ONNX'), '/d/list.csv.vs-arcface-r100.xssab');
  });

  it('explains every pair of a list up to 300 pairs by default, the errors of a longer one', () => {
    assert.deepEqual([defaultExplain(1), defaultExplain(300), defaultExplain(301), defaultExplain(6000)], ['all', 'all', 'errors', 'errors']);
  });

  it("loads a run folder's model B in an untrusted workspace only when the user picked it", () => {
    const plan = { explain: 'all', modelB: '/ws/run/b.onnx' };
    assert.throws(() => checkModelB(plan, false, false), (e: Error) => e.constructor.name === 'PairListRunError' && /not trusted: the run's model B \/ws\/run\/b\.onnx is not loaded/.test(e.message));
    for (const [picked, trusted] of [[true, false], [false, true], [true, true]]) assert.doesNotThrow(() => checkModelB(plan, picked, trusted));
    assert.doesNotThrow(() => checkModelB({ explain: 'all' }, false, false), 'no model B, nothing to refuse');
  });

  it("sets a new run's operating point from the settings: at the FMR for both models, else model A's threshold", () => {
    assert.deepEqual(settingsPoint({ threshold: 0.3, pairListAtFmr: 0.001 }, true), { atFmr: 0.001, atFmrB: 0.001 });
    assert.deepEqual(settingsPoint({ pairListAtFmr: 0.001 }, false), { atFmr: 0.001 });
    assert.deepEqual(settingsPoint({ threshold: 0.3 }, true), { threshold: 0.3 });
    assert.deepEqual(settingsPoint({}, true), {});
  });

  it("resumes a folder's run with the selection, lens, models and operating point it was started with", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-plan-'));
    try {
      assert.equal(resumedPlan(dir, []), undefined, 'no run there');
      fs.writeFileSync(path.join(dir, SETTINGS_FILE), JSON.stringify({ version: 1 }));
      assert.deepEqual(resumedPlan(dir, []), { explain: 'all' }, 'runs that explain every pair store no selection');
      const models = [
        { key: 'model-a', path: '/a.onnx', threshold: 0.61, thresholdSource: 'at FMR', atFmr: 0.001 },
        { key: 'model-b', path: '/m/b.onnx', threshold: 0.25, thresholdSource: 'user' },
      ];
      fs.writeFileSync(path.join(dir, SETTINGS_FILE), JSON.stringify({ version: 1, explain: 'sample:7', models }));
      const attributes = new Map([0, 1].map((i) => [i, { gender: ['F', 'M'] as [string, string], site: `s${i}` }]));
      saveLens(dir, { attributes, by: ['gender'], compare: { attribute: 'gender', x: 'gender=F/F', y: 'gender=F/M' } });
      assert.deepEqual(resumedPlan(dir, ['site', 'gender']), { explain: 'sample:7', by: ['gender'], compare: 'gender=F/F,gender=F/M', modelB: '/m/b.onnx', atFmr: 0.001, thresholdB: 0.25 });
      fs.writeFileSync(path.join(dir, SETTINGS_FILE), JSON.stringify({ version: 1, models: [{ ...models[0], thresholdSource: 'model card', atFmr: undefined }] }));
      assert.deepEqual(resumedPlan(dir, ['gender']), { explain: 'all', by: ['gender'], compare: 'gender=F/F,gender=F/M' }, "the card's threshold: none passed");
      assert.throws(
        () => resumedPlan(dir, ['site']),
        (e: Error) => e.constructor.name === 'PairListRunError' && /its run groups pairs by gender, which the list's columns do not give .*resume it with the command that started it/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tells LFW's pairs.txt from a pair list", () => {
    assert.equal(isLfwPairs('/lfw/pairs.txt', '10\t300'), true);
    assert.equal(isLfwPairs('/lfw/pairs.txt', 'a.png b.png same'), false);
    assert.equal(isLfwPairs('/lfw/list.txt', '10 300'), false);
  });

  it("reports the CLI's own error line, else the exit code", () => {
    assert.equal(cliError('xssab: notice: x\nxssab: /d/out: folder is not empty and holds no earlier xSSAB result\n\nUsage: …', 1), '/d/out: folder is not empty and holds no earlier xSSAB result');
    assert.equal(cliError('', 3), 'explain-pairs stopped with exit code 3');
  });

  it('reports progress lines, logs the rest, resolves done; a cancelled run is stopped with SIGINT', async () => {
    const child = fakeChild();
    const progress: number[][] = [];
    const log: string[] = [];
    let cancel!: () => void;
    const token = { isCancellationRequested: false, onCancellationRequested: (l: () => void) => ((cancel = l), { dispose: () => undefined }) };
    const run = runPairList(job, { onProgress: (p) => progress.push([p.done, p.total]), onLog: (l) => log.push(l) }, token, () => child as unknown as ChildProcess);
    child.stderr.write('\r4/10 pairs, 2.00 pairs/s, 3 s left   ');
    child.stderr.write('\r8/10 pairs, 2.00 pairs/s, 1 s left   \n');
    child.stdout.write('model-a x: threshold 0.3\n');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(progress, [[4, 10], [8, 10]]);
    assert.deepEqual(log, ['model-a x: threshold 0.3']);
    token.isCancellationRequested = true;
    cancel();
    assert.deepEqual(child.signals, ['SIGINT']);
    child.emit('close', 1);
    assert.equal(await run, 'cancelled');

    const failing = fakeChild();
    const failed = runPairList(job, { onProgress: () => undefined, onLog: () => undefined }, undefined, () => failing as unknown as ChildProcess);
    failing.stderr.write('xssab: /d/list.csv: pair list not found\n');
    await new Promise((r) => setImmediate(r));
    failing.emit('close', 1);
    await assert.rejects(failed, (e: Error) => e.constructor.name === 'PairListRunError' && e.message === '/d/list.csv: pair list not found');
  });

  it('takes a restored gallery\'s run folder only as an absolute path from its saved state', () => {
    const out = path.resolve('runs', 'list.csv.xssab');
    assert.equal(restoredRunFolder({ out }), out);
    for (const state of [undefined, null, 'x', { out: 'runs/list.csv.xssab' }, { out: 3 }, { folder: out }]) assert.equal(restoredRunFolder(state), undefined, JSON.stringify(state));
  });
});
