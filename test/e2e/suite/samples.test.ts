// "xSSAB: Try the Samples" in a real VS Code: the installed extension's samples are copied into a
// new, empty folder of the workspace, the Patch-Samples task joins the workspace's tasks.json (its
// tasks kept), a first pair is explained, and Explain Match works on two of the copied photos.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExplanationPayload } from '../../../src/shared/result';
import type { TestApi } from '../../../src/extension/extension';
import type { SamplesOutcome } from '../../../src/extension/samplesCommand';

describe('Try the Samples', () => {
  it('copies the samples into an empty folder, adds the task, explains a first pair; the copies explain', async () => {
    const api = (await vscode.extensions.getExtension<TestApi | undefined>('xssab.xssab-vscode')!.activate())!;
    const workspace = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const folder = path.join(workspace, 'xssab-samples');
    assert.ok(!fs.existsSync(folder), 'the folder is new');
    const tasksFile = path.join(workspace, '.vscode', 'tasks.json');
    const labelsBefore = JSON.parse(fs.readFileSync(tasksFile, 'utf8')).tasks.map((t: { label: string }) => t.label);

    const outcome = await vscode.commands.executeCommand<SamplesOutcome | undefined>('xssab.trySamples', { folder: vscode.Uri.file(folder) });
    assert.ok(outcome, `no outcome; notifications: ${JSON.stringify(api.notifications)}`);
    assert.deepStrictEqual(outcome.kept, []);
    assert.strictEqual(outcome.copied.length, 70);
    for (const rel of ['samples/aligned/man_01_face0.png', 'samples/photos/sample1.jpg', 'samples/pairs.csv', 'samples/patch-samples/manifest.json', 'examples/explain.ipynb']) {
      assert.ok(fs.statSync(path.join(folder, rel)).size > 0, rel);
    }
    const tasks = JSON.parse(fs.readFileSync(tasksFile, 'utf8')).tasks;
    assert.deepStrictEqual(tasks.map((t: { label: string }) => t.label), [...labelsBefore, 'Patch-Samples']);
    assert.deepStrictEqual(tasks.at(-1), { label: 'Patch-Samples', type: 'xssab', command: 'patch-lfw', set: 'xssab-samples/samples/patch-samples', out: 'xssab-samples/xssab-out/patch-samples', problemMatcher: [] });
    const first = outcome.explained as ExplanationPayload;
    assert.ok(first && first.decision === 'match', `the first pair (one man twice): ${JSON.stringify(first?.decision)}`);

    // Two of the copied raw photos: detected, aligned, explained.
    const [a, b] = ['man_01.jpg', 'man_05.jpg'].map((n) => vscode.Uri.file(path.join(folder, 'samples', 'photos', n)));
    const payload = await vscode.commands.executeCommand<ExplanationPayload | undefined>('xssab.explainMatch', a, [a, b]);
    assert.ok(payload, `no result; notifications: ${JSON.stringify(api.notifications)}`);
    assert.ok(payload.score > -1 && payload.score <= 1);
    assert.ok((payload.a.faces?.length ?? 0) > 0, 'a face was detected in the photo');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
