// End-to-end: "Explain Pair List" on the fixture list (six labelled pairs of the bundled crops)
// runs explain-pairs through the bundled CLI and opens the gallery, whose script reports the pairs
// it lists; the summary has the planted errors; the Explorer offers the command on .csv files.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { PairListSummary } from '../../../src/shared/pairListSummary';
import type { TestApi } from '../../../src/extension/extension';
import { until } from './helpers';

const COMMAND = 'xssab.explainPairList';

describe('Explain Pair List', () => {
  it('contributes the command to the palette and to the Explorer on .csv and pairs.txt files', () => {
    const { contributes } = vscode.extensions.getExtension('xssab.xssab-vscode')!.packageJSON;
    assert.deepStrictEqual(contributes.commands.find((c: { command: string }) => c.command === COMMAND), { command: COMMAND, title: 'Explain Pair List…', category: 'xSSAB' });
    const entry = contributes.menus['explorer/context'].find((m: { command: string }) => m.command === COMMAND);
    assert.match(entry.when, /\.csv/);
    assert.match(entry.when, /pairs\.txt/);
  });

  it('explains the fixture list and the gallery lists its six pairs', async () => {
    const api = (await vscode.extensions.getExtension<TestApi>('xssab.xssab-vscode')!.activate())!;
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const list = vscode.Uri.joinPath(folder, 'pair-list.csv');
    const out = vscode.Uri.joinPath(folder, 'pair-list.csv.xssab');
    const summary = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out, by: ['gender'] });
    assert.ok(summary, `no summary; notifications: ${JSON.stringify(api.notifications)}`);
    assert.strictEqual(summary.explained, 6);
    const [model] = summary.models;
    assert.deepStrictEqual([model.falseMatches.map((e) => e.index), model.falseNonMatches.map((e) => e.index)], [[1], [4]]);
    assert.ok(model.fnmMinusTm, 'the headline map (FNM − TM) is written');
    // Grouped by the list's gender column: M holds the false match, F the false non-match.
    const groups = summary.groups!.models[0].groups;
    assert.deepStrictEqual(groups.map((g) => [g.name, g.global.fmr.errors, g.global.fnmr.errors, g.aggregates!.length > 0]), [['gender=F', 0, 1, true], ['gender=M', 1, 0, true]]);

    const tab = await until('the gallery tab', () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('xssab.gallery')),
    );
    assert.strictEqual(tab.label, 'xSSAB: pair-list.csv');
    // The gallery's script ran, rendered the summary and reported how many pairs it lists.
    const state = await until('the gallery to list the pairs', () => {
      const s = api.galleryState();
      return s?.ready && s.pairs !== undefined ? s : undefined;
    });
    assert.deepStrictEqual(state, { ready: true, out: out.fsPath, pairs: 6 });

    // A second run resumes, with the lens it was started with: nothing is left to explain, the same summary comes back.
    const again = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out });
    assert.deepStrictEqual([again?.models, again?.groups], [summary.models, summary.groups]);
  });

  it('opens a run folder\'s results without running anything, and says what is not one', async () => {
    const api = (await vscode.extensions.getExtension<TestApi>('xssab.xssab-vscode')!.activate())!;
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const out = vscode.Uri.joinPath(folder, 'pair-list.csv.xssab');
    const records = vscode.Uri.joinPath(out, 'pairs.jsonl');
    const before = (await vscode.workspace.fs.stat(records)).mtime;
    // From the folder's explain-pairs.json, as the Explorer offers it.
    const summary = await vscode.commands.executeCommand<PairListSummary | undefined>('xssab.openPairListResults', vscode.Uri.joinPath(out, 'explain-pairs.json'));
    assert.strictEqual(summary?.explained, 6);
    const state = await until('the gallery to list the pairs', () => {
      const s = api.galleryState();
      return s?.ready && s.out === out.fsPath && s.pairs !== undefined ? s : undefined;
    });
    assert.strictEqual(state.pairs, 6);
    assert.strictEqual((await vscode.workspace.fs.stat(records)).mtime, before, 'nothing ran');
    const first = api.notifications.length;
    assert.strictEqual(await vscode.commands.executeCommand('xssab.openPairListResults', vscode.Uri.joinPath(folder, 'samples')), undefined);
    const shown = api.notifications.slice(first);
    assert.deepStrictEqual(shown.map((n) => n.level), ['error']);
    assert.match(shown[0].message, /samples: no explain-pairs\.json, not an explain-pairs output folder/);
  });

  it('asks, from the Explorer, where to write and which pairs to explain; Enter takes what it offers first', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const list = vscode.Uri.joinPath(folder, 'asked.csv');
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(folder, 'pair-list.csv'), list);
    let settled = false;
    const running = Promise.resolve(vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, list)).finally(() => (settled = true));
    // Enter on whatever picker is open (the output folder, the pairs to explain, the columns to
    // group by: none picked) until the run ends.
    for (let tries = 0; !settled && tries < 300; tries++) {
      await new Promise((r) => setTimeout(r, 200));
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const summary = await running;
    assert.ok(summary, 'no summary');
    assert.deepStrictEqual([summary.total, summary.explained], [6, 6], 'a six-pair list: every pair is offered first');
    assert.strictEqual(summary.groups, undefined, 'no column picked, no groups');
    await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, 'asked.csv.xssab', 'summary.json'));
  });

  it('scores only when asked to, and resumes a folder with what its run was started with', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const list = vscode.Uri.joinPath(folder, 'pair-list.csv');
    const out = vscode.Uri.joinPath(folder, 'scores-only.xssab');
    const summary = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out, explain: 'none' });
    assert.ok(summary, 'no summary');
    assert.deepStrictEqual([summary.total, summary.explained], [6, 0]);
    assert.deepStrictEqual(summary.models[0].falseMatches.map((e) => e.index), [1], 'the errors are found from the scores alone');
    // Given no selection, the rerun takes the folder's (the CLI refuses a resume with other settings).
    const again = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out });
    assert.deepStrictEqual([again?.total, again?.explained], [6, 0]);
  });

  it('sets a new run\'s threshold at xssab.pairListAtFmr of the list\'s impostors; a resumed run keeps its own', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const list = vscode.Uri.joinPath(folder, 'pair-list.csv');
    const out = vscode.Uri.joinPath(folder, 'at-fmr.xssab');
    const config = vscode.workspace.getConfiguration('xssab');
    await config.update('pairListAtFmr', 0.34, vscode.ConfigurationTarget.Global);
    try {
      const summary = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out, explain: 'none' });
      assert.ok(summary, 'no summary');
      // Three impostors: at FMR 0.34 one of them (pair 1, the highest) is accepted.
      const [m] = summary.models;
      assert.deepStrictEqual([m.thresholdSource, m.atFmr, m.falseMatches.map((e) => e.index)], ['at FMR', 0.34, [1]]);
      await config.update('pairListAtFmr', undefined, vscode.ConfigurationTarget.Global);
      const again = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out });
      assert.deepStrictEqual([again?.models[0].thresholdSource, again?.models[0].threshold], ['at FMR', m.threshold]);
    } finally {
      await config.update('pairListAtFmr', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('compares a second model on every pair: the bundled model against itself agrees everywhere', async () => {
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const list = vscode.Uri.joinPath(folder, 'pair-list.csv');
    const modelB = vscode.Uri.joinPath(vscode.extensions.getExtension('xssab.xssab-vscode')!.extensionUri, 'models', 'mobilefacenet.onnx');
    const out = vscode.Uri.joinPath(folder, 'pair-list.csv.vs-mobilefacenet.xssab');
    const summary = await vscode.commands.executeCommand<PairListSummary | undefined>('xssab.comparePairList', { list, out, modelB });
    assert.ok(summary, 'no summary');
    assert.deepStrictEqual(summary.models.map((m) => [m.key, m.falseMatches.map((e) => e.index)]), [['model-a', [1]], ['model-b', [1]]]);
    assert.deepStrictEqual([summary.comparison?.disagreements, summary.comparison?.mapsComparable], [[], true]);
    // Explain Pair List on that folder resumes it with its model B.
    const again = await vscode.commands.executeCommand<PairListSummary | undefined>(COMMAND, { list, out });
    assert.deepStrictEqual(again?.models.map((m) => m.key), ['model-a', 'model-b']);
  });

  it('shows the engine\'s refusal of a folder holding other files, and writes nothing there', async () => {
    const api = (await vscode.extensions.getExtension<TestApi>('xssab.xssab-vscode')!.activate())!;
    const folder = vscode.workspace.workspaceFolders![0].uri;
    const first = api.notifications.length;
    const result = await vscode.commands.executeCommand(COMMAND, { list: vscode.Uri.joinPath(folder, 'pair-list.csv'), out: folder });
    assert.strictEqual(result, undefined);
    const shown = api.notifications.slice(first);
    assert.strictEqual(shown.length, 1);
    assert.strictEqual(shown[0].level, 'error');
    assert.match(shown[0].message, /folder is not empty and holds no earlier xSSAB result/);
  });
});
