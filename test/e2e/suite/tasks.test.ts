// End-to-end tests of the `xssab` task type: the two tasks of the fixture workspace's tasks.json
// evaluate shares of Patch-Samples (--shard) with xSSAB; one runs through and opens its report,
// the other is terminated midway and resumed; two more cannot run and say so with their exit codes.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { PairRecord } from '../../../src/engine/patchlfw/dpr';
import type { DprSummary } from '../../../src/engine/patchlfw/report';
import { until } from './helpers';

const LEVELS = [0, ...Array.from({ length: 19 }, (_, i) => 5 * (i + 1))];
/** Pairs in Patch-Samples, and how many the CLI appends at a time. */
const PAIRS = 64;
const STEP = 8;
/** How long these tests wait for what a task leaves behind (pairs on disk, the report's tab). */
const TASK_WAIT_MS = 90_000;

const workspacePath = (...parts: string[]) => path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, ...parts);

async function configuredTask(label: string): Promise<vscode.Task> {
  const tasks = await vscode.tasks.fetchTasks({ type: 'xssab' });
  const task = tasks.find((t) => t.name === label);
  assert.ok(task, `tasks.json's "${label}" is not among the xssab tasks: ${tasks.map((t) => t.name).join(', ')}`);
  return task;
}

/** Starts a task; `ended` resolves with the exit code its terminal closed with. */
async function start(task: vscode.Task): Promise<{ execution: vscode.TaskExecution; ended: Promise<number | undefined> }> {
  const ended = new Promise<number | undefined>((resolve) => {
    const listener = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution.task.name !== task.name) return;
      listener.dispose();
      resolve(e.exitCode);
    });
  });
  return { execution: await vscode.tasks.executeTask(task), ended };
}

function records(out: string): PairRecord[] {
  const file = path.join(out, 'pairs.jsonl');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** The finished run of shard i/n: all its pairs once, the methods and levels asked for. */
function checkResults(out: string, shard: number, count: number): void {
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as DprSummary;
  assert.deepStrictEqual(summary.settings.methods, [{ name: 'xssab', params: {} }]);
  assert.deepStrictEqual(summary.settings.shard, { index: shard, count });
  assert.strictEqual(summary.genuine + summary.impostor, PAIRS / count);
  assert.deepStrictEqual(summary.curves.map((c) => [c.method, c.strategy]), [['xssab', 'best_worst'], ['none', 'random']]);
  for (const curve of summary.curves) assert.deepStrictEqual(curve.points.map((p) => p.level), LEVELS);
  const indices = records(out).map((r) => r.index).sort((a, b) => a - b);
  assert.deepStrictEqual(indices, Array.from({ length: PAIRS / count }, (_, k) => count * k + shard - 1));
}

describe('xssab tasks', () => {
  after(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('runs a patch-lfw task from tasks.json and opens its report', async () => {
    const out = workspacePath('xssab-out', 'patch-samples-1');
    const { ended } = await start(await configuredTask('Patch-Samples, first eighth'));
    assert.strictEqual(await ended, 0);
    checkResults(out, 1, 8);
    assert.ok(fs.existsSync(path.join(out, 'report.html')));
    const tab = await until('the report\'s tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('xssab.dprReport')),
      TASK_WAIT_MS,
    );
    assert.strictEqual(tab.label, 'Patch-LFW: patch-samples-1');
  });

  it('stops when terminated and resumes where it stopped when run again', async () => {
    const out = workspacePath('xssab-out', 'patch-samples-2');
    const task = await configuredTask('Patch-Samples, second quarter');
    const first = await start(task);
    await until('the first pairs on disk', () => (records(out).length >= STEP ? true : undefined), TASK_WAIT_MS);
    first.execution.terminate();
    assert.notStrictEqual(await first.ended, 0);
    assert.strictEqual(records(out).length, STEP, 'terminated after the first batch of pairs');
    assert.ok(!fs.existsSync(path.join(out, 'results.json')));

    const second = await start(task);
    assert.strictEqual(await second.ended, 0);
    checkResults(out, 2, 4);
  });

  it('ends a task that cannot run with a non-zero exit code, and runs the next one', async () => {
    // Refused before the CLI starts (2), and by the CLI (1).
    assert.strictEqual(await (await start(await configuredTask('Patch-LFW, no output folder'))).ended, 2);
    assert.strictEqual(await (await start(await configuredTask('Patch-LFW, no such set'))).ended, 1);
    assert.ok(!fs.existsSync(workspacePath('xssab-out', 'no-such-set', 'run.json')));
    const { ended } = await start(await configuredTask('Patch-Samples, first eighth'));
    assert.strictEqual(await ended, 0, 'the finished run of the first test is found and its report written again');
  });
});
