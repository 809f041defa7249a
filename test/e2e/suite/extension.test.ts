// End-to-end tests of the extension in a running VS Code: contributions, "Explain Match" on the
// sample pair (the panel receives the score the engine computes), and errors that leave the
// extension working. The workspace holds the sample pair and the fixtures (see ../build.ts).
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { Engine } from '../../../src/engine/engine';
import type { ModelInspection } from '../../../src/shared/protocol';
import type { ExplanationPayload, ExplanationResult } from '../../../src/shared/result';
import type { TestApi } from '../../../src/extension/extension';
import { GROUP_PHOTOS, PAIR } from '../pair';
import { until } from './helpers';

const EXTENSION_ID = 'xssab.xssab-vscode';
const COMMAND = 'xssab.explainMatch';

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests need the fixture workspace open');
  return vscode.Uri.joinPath(folder.uri, name);
}

const explainMatch = (clicked: vscode.Uri, selected: vscode.Uri[]) =>
  vscode.commands.executeCommand<ExplanationPayload | undefined>(COMMAND, clicked, selected);

describe('xSSAB extension', () => {
  let extension: vscode.Extension<TestApi | undefined>;
  let api: TestApi;
  let expected: ExplanationResult;
  const [a, b] = PAIR.map(workspaceFile);

  before(async () => {
    extension = vscode.extensions.getExtension<TestApi | undefined>(EXTENSION_ID)!;
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    const activated = await extension.activate();
    assert.ok(activated, 'activate() returns the test API when run by a test runner');
    api = activated;
    // The reference: the engine itself, on the model the extension bundles.
    const engine = await Engine.create({ model: path.join(extension.extensionPath, 'models', 'mobilefacenet.onnx'), ep: 'cpu' });
    try {
      expected = (await engine.explainPair({ source: a.fsPath, label: a.fsPath }, { source: b.fsPath, label: b.fsPath })).result;
    } finally {
      await engine.dispose();
    }
  });

  // The runner then opens the panel through the Explorer's context menu, and looks for its tab.
  after(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  it('registers "Explain Match" and contributes it to the Explorer context menu for images', async () => {
    assert.ok((await vscode.commands.getCommands(true)).includes(COMMAND));
    const { contributes } = extension.packageJSON;
    assert.deepStrictEqual(
      contributes.commands.find((c: { command: string }) => c.command === COMMAND),
      { command: COMMAND, title: 'Explain Match', category: 'xSSAB' },
    );
    const entry = contributes.menus['explorer/context'].find((m: { command: string }) => m.command === COMMAND);
    assert.ok(entry, 'no explorer/context entry');
    assert.match(entry.when, /listMultiSelection/);
    assert.match(entry.when, /resourceExtname/);
  });

  it('explains the sample pair and the panel shows the engine\'s score', async () => {
    const payload = await explainMatch(a, [a, b]);
    assert.ok(payload, `no result; notifications: ${JSON.stringify(api.notifications)}`);
    assert.ok(Math.abs(payload.score - expected.score) < 1e-4, `score ${payload.score}, engine ${expected.score}`);

    // The window's tab list reaches the extension host shortly after the panel opens.
    const tab = await until('the panel\'s tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('xssab.explanation')),
    );
    assert.strictEqual(tab.label, `xSSAB: ${PAIR[0]} ↔ ${PAIR[1]}`);
    // The viewer's script ran (it said 'ready') and received this explanation.
    const shown = await until('the panel to receive the explanation', () => {
      const state = api.panelState();
      return state?.ready && state.delivered === payload ? state.delivered : undefined;
    });
    assert.ok(Math.abs(shown.score - expected.score) < 1e-4);
    assert.strictEqual(shown.decision, expected.decision);
    assert.strictEqual(shown.threshold, expected.threshold);
  });

  it('reports a file that is not an image, and keeps working', async () => {
    const notes = workspaceFile('notes.txt');
    const first = api.notifications.length;
    assert.strictEqual(await explainMatch(notes, [notes, a]), undefined);
    // Named like an image, but text: the engine's decoder rejects it in the worker.
    const fake = workspaceFile('not-really.png');
    assert.strictEqual(await explainMatch(fake, [fake, a]), undefined);
    const shown = api.notifications.slice(first);
    assert.deepStrictEqual(shown.map((n) => n.level), ['error', 'error']);
    assert.match(shown[0].message, /notes\.txt is not an image/);
    assert.match(shown[1].message, /not-really\.png: not an image/);

    const again = await explainMatch(b, [b, a]);
    assert.ok(again, `the extension stopped working; notifications: ${JSON.stringify(api.notifications.slice(first))}`);
    assert.ok(Math.abs(again.score - expected.score) < 1e-4, 'the cosine score is symmetric');
  });

  it('inspects the model when xssab.model changes: a file that is no model gives one error notification; Inspect Model reports the bundled one', async () => {
    const config = vscode.workspace.getConfiguration('xssab');
    const first = api.notifications.length;
    await config.update('model', workspaceFile('notes.txt').fsPath, vscode.ConfigurationTarget.Global);
    try {
      const shown = await until('the notification about the model', () => (api.notifications.length > first ? api.notifications.slice(first) : undefined));
      assert.strictEqual(shown[0].level, 'error');
      assert.match(shown[0].message, /^xSSAB cannot use notes\.txt \(user settings\): .*notes\.txt: not an ONNX model/);
    } finally {
      await config.update('model', undefined, vscode.ConfigurationTarget.Global);
    }
    const bundled = vscode.Uri.file(path.join(extension.extensionPath, 'models', 'mobilefacenet.onnx'));
    const inspection = await vscode.commands.executeCommand<ModelInspection | undefined>('xssab.inspectModel', bundled);
    assert.ok(inspection, `no inspection; notifications: ${JSON.stringify(api.notifications.slice(first))}`);
    assert.match(inspection.lines[0], /^model MobileFaceNet/);
    assert.strictEqual(inspection.problem, undefined);
    assert.strictEqual(api.notifications.length, first + 1, 'an explainable model gets no notification');
  });

  it('explains another detected face of a group photo when the viewer asks for it', async () => {
    const [group, other] = GROUP_PHOTOS.map((name) => workspaceFile(`photos/${name}`));
    const engine = await Engine.create({ model: path.join(extension.extensionPath, 'models', 'mobilefacenet.onnx'), ep: 'cpu' });
    let reference: ExplanationResult;
    try {
      reference = (await engine.explainPair({ source: group.fsPath, label: group.fsPath, face: 2 }, { source: other.fsPath, label: other.fsPath })).result;
    } finally {
      await engine.dispose();
    }
    const first = await explainMatch(group, [group, other]);
    assert.ok(first, `no result; notifications: ${JSON.stringify(api.notifications)}`);
    assert.deepStrictEqual([first.a.faceIndex, first.a.faces?.length, first.b.faceIndex], [0, 3, 0]);
    await until('the panel to receive the explanation', () => (api.panelState()?.delivered === first ? true : undefined));

    const notices = api.notifications.length;
    api.panelMessage({ type: 'chooseFace', id: 'e2e-1', side: 'a', face: 7 }); // not detected: ignored (logged)
    api.panelMessage({ type: 'chooseFace', id: 'e2e-2', side: 'a', face: 2 });
    const shown = await until('the panel to show face 3 of A', () => {
      const delivered = api.panelState()?.delivered;
      return delivered?.a.faceIndex === 2 ? delivered : undefined;
    });
    assert.ok(Math.abs(shown.score - reference.score) < 1e-4, `score ${shown.score}, engine with face 2: ${reference.score}`);
    assert.notStrictEqual(shown.score.toFixed(4), first.score.toFixed(4));
    assert.deepStrictEqual([shown.b.faceIndex, shown.threshold], [0, first.threshold]);
    assert.deepStrictEqual(api.notifications.slice(notices), [], 'nothing to report');
  });
});
