// "Explain Pair List…": asks for a pair list (and LFW's folder for LFW's pairs.txt), an output
// folder, which pairs to explain and, when the list's columns give attributes, which to group the
// error rates by; runs explain-pairs in a child process under a cancellable progress notification,
// and opens the gallery of the result. Running it again on the same list resumes a stopped run
// with what it was started with. "Open Pair List Results" opens the gallery of a finished run
// folder (a merged cluster run, say) without running anything.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { RunPages, asRunResult, lensGroups, runExplanation } from '../engine/explainPairs/load';
import { readLens } from '../engine/explainPairs/lens';
import { pairListOutline } from '../engine/pairList';
import { openRunStore } from '../engine/explainPairs/store';
import { SETTINGS_FILE } from '../engine/explainPairs/summary';
import type { ExplainOptions } from '../shared/protocol';
import type { PairListRecord, PairListSummary } from '../shared/pairListSummary';
import type { ExplanationPayload } from '../shared/result';
import { CancelledError } from '../shared/requests';
import { GalleryPanel, type GalleryPanelHost, type GalleryRun } from './galleryPanel';
import { DEFAULT_SAMPLE } from '../engine/explainPairs/select';
import { PairListRunError, type RunPlan, checkModelB, defaultExplain, defaultOutput, isLfwPairs, restoredRunFolder, resumedPlan, runPairList, settingsPoint } from './pairListRun';
import type { Settings } from './settings';
import { formatProgress } from './taskDefinition';

export interface PairListHost {
  extensionUri: vscode.Uri;
  /** dist/cli.js */
  cliPath: string;
  settings(): Settings;
  /** Explains two image files under a progress notification (throws CancelledError when cancelled). */
  explain(images: [string, string], options: ExplainOptions): Thenable<ExplanationPayload>;
  log: vscode.LogOutputChannel;
  notify(level: 'info', message: string): void;
  report(e: unknown): void;
  /** Shows an explanation of the two images in the explanation panel; `model`: the file its re-runs use, when not the settings' one. */
  showExplanation(payload: ExplanationPayload, images: [vscode.Uri, vscode.Uri], model?: string): void;
}

/**
 * What scripts and tests may pass instead of the Explorer's file: no dialogs for what is given,
 * nor for the plan (by default every pair of a short list, the errors of a long one, no --by).
 */
export interface PairListArguments {
  list: vscode.Uri;
  out?: vscode.Uri;
  lfwRoot?: vscode.Uri;
  /** all, errors, none or sample:N. */
  explain?: string;
  /** Attributes of the list's columns to group the error rates by. */
  by?: string[];
  /** A second model to compare on every pair (what "Compare Two Models on a Pair List" asks for). */
  modelB?: vscode.Uri;
}

const LIST_FILTERS = { 'Pair lists': ['csv', 'txt'] };

/**
 * The command's handler: the summary shown, or undefined when stopped, cancelled or failed
 * (reported). `compare`: "Compare Two Models on a Pair List", which also asks for model B (the
 * settings' model is A) and writes next to the list under B's name.
 */
export function explainPairListCommand(host: PairListHost, compare = false): (clicked?: unknown) => Promise<PairListSummary | undefined> {
  const running = new Set<string>();
  const title = compare ? 'Compare Two Models' : 'Explain Pair List';

  return async (clicked) => {
    const scripted = isArguments(clicked) ? clicked : undefined;
    const given = clicked instanceof vscode.Uri ? { list: clicked } : scripted;
    const list = given?.list ?? (await pickFile(`${title}: a pair list (a,b[,same|different]) or LFW pairs.txt`));
    if (!list) return undefined;
    if (list.scheme !== 'file') throw new PairListRunError(`${list.toString()}: only files on disk can be explained`);
    const lfw = !given?.lfwRoot && needsLfwRoot(list.fsPath);
    const lfwRoot = given?.lfwRoot ?? (lfw ? await pickFolder(`${title}: the LFW folder that ${path.basename(list.fsPath)} names`, 'Use as LFW Folder') : undefined);
    if (lfw && !lfwRoot) return undefined;
    const modelB = given?.modelB ?? (compare ? await pickModel(host) : undefined);
    if (compare && !modelB) return undefined;
    if (modelB && modelB.scheme !== 'file') throw new PairListRunError(`${modelB.toString()}: only models on disk can be compared`);
    const out = given?.out ?? (await pickOutput(list, title, modelB));
    if (!out) return undefined;
    const outline = pairListOutline(fs.readFileSync(list.fsPath, 'utf8'));
    // LFW's pairs.txt: its first line ("10 300") is no pair.
    const pairs = lfw || given?.lfwRoot ? outline.pairs - 1 : outline.pairs;
    const resumed = resumedPlan(out.fsPath, outline.attributes);
    const chosen: RunPlan | undefined = scripted
      ? { ...resumed, explain: scripted.explain ?? resumed?.explain ?? defaultExplain(pairs), ...(scripted.by ? { by: scripted.by } : {}) }
      : (resumed ?? (await pickPlan(pairs, outline.attributes, title)));
    if (!chosen) return undefined;
    // A new run takes its operating point from the settings; a resumed one keeps its own.
    const picked = resumed ? chosen : { ...chosen, ...settingsPoint(host.settings(), modelB !== undefined) };
    // The model asked for is B, whatever the folder's run was: the CLI refuses a run of other models.
    const plan = modelB ? { ...picked, modelB: modelB.fsPath } : picked;
    checkModelB(plan, modelB !== undefined, vscode.workspace.isTrusted);
    if (running.has(out.fsPath)) {
      host.notify('info', `xSSAB: ${path.basename(list.fsPath)} is already being explained into ${out.fsPath}`);
      return undefined;
    }
    running.add(out.fsPath);
    try {
      if ((await runExplainPairs(host, list, out, lfwRoot, plan)) === 'cancelled') {
        host.notify('info', `xSSAB: stopped; what is done stays in ${out.fsPath}. Run "Explain Pair List" on ${path.basename(list.fsPath)} into that folder again to resume.`);
        return undefined;
      }
    } finally {
      running.delete(out.fsPath);
    }
    const run = openRun(out);
    GalleryPanel.show(host.extensionUri, out, run, galleryHost(host));
    return run.summary;
  };
}

/**
 * "Open Pair List Results": the gallery of a run folder (explain-pairs' --out, or what `merge`
 * wrote from a cluster's shards), clicked in the Explorer (the folder or its explain-pairs.json)
 * or picked; nothing is run.
 */
export function openPairListResultsCommand(host: PairListHost): (clicked?: unknown) => Promise<PairListSummary | undefined> {
  return async (clicked) => {
    const picked = clicked instanceof vscode.Uri ? clicked : await pickFolder('Open Pair List Results: an explain-pairs output folder', 'Open Results');
    if (!picked) return undefined;
    if (picked.scheme !== 'file') throw new PairListRunError(`${picked.toString()}: only folders on disk can be opened`);
    const out = path.basename(picked.fsPath) === SETTINGS_FILE ? vscode.Uri.file(path.dirname(picked.fsPath)) : picked;
    const run = openRun(out);
    GalleryPanel.show(host.extensionUri, out, run, galleryHost(host));
    return run.summary;
  };
}

/**
 * Takes back a gallery VS Code restores after a window reload, from the run folder its webview
 * saved; closes the panel when the state names no folder with a summary.
 */
export async function reviveGallery(host: PairListHost, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
  const out = restoredRunFolder(state);
  let run: GalleryRun | undefined;
  try {
    run = out ? openRun(vscode.Uri.file(out)) : undefined;
  } catch (e) {
    host.log.warn(`gallery not restored: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!out || !run) {
    panel.dispose();
    return;
  }
  GalleryPanel.revive(panel, host.extensionUri, vscode.Uri.file(out), run, galleryHost(host));
}

function galleryHost(host: PairListHost): GalleryPanelHost {
  return {
    openPair: (run, record, model) => void openPair(host, run, record, model),
    log: (line) => host.log.info(line),
  };
}

/** The run in `out`: its records are read once here and paged for the gallery. */
function openRun(out: vscode.Uri): GalleryRun {
  const store = openRunStore(out.fsPath);
  return { summary: store.summary, settings: store.settings, pages: new RunPages(store, lensGroups(readLens(out.fsPath))) };
}

function isArguments(v: unknown): v is PairListArguments {
  return typeof v === 'object' && v !== null && (v as PairListArguments).list instanceof vscode.Uri;
}

function needsLfwRoot(list: string): boolean {
  return isLfwPairs(list, fs.readFileSync(list, 'utf8').split(/\r?\n/, 1)[0]);
}

/** Runs `xssab explain-pairs` on the list with a cancellable progress notification. */
function runExplainPairs(host: PairListHost, list: vscode.Uri, out: vscode.Uri, lfwRoot: vscode.Uri | undefined, plan: RunPlan) {
  const settings = host.settings();
  const job = { cli: host.cliPath, list: list.fsPath, out: out.fsPath, lfwRoot: lfwRoot?.fsPath, model: settings.model, ep: settings.executionProvider, verbose: settings.logLevel === 'debug', ...plan };
  const lens = plan.by ? `, by ${plan.by.join(',')}${plan.compare ? `, comparing ${plan.compare}` : ''}` : '';
  const point = plan.atFmr !== undefined ? `at FMR ${plan.atFmr}` : plan.threshold !== undefined ? `threshold ${plan.threshold}` : "the card's threshold";
  host.log.info(`explain-pairs: ${list.fsPath} → ${out.fsPath} (model ${settings.model ?? 'bundled'}${plan.modelB ? ` vs ${plan.modelB}` : ''}, EP ${settings.executionProvider}, ${point}, explain ${plan.explain}${lens})`);
  const title = `xSSAB: explaining ${path.basename(list.fsPath)}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    progress.report({ message: 'starting (loading the model)…' });
    let percent = 0;
    const events = {
      onProgress: (p: Parameters<typeof formatProgress>[0]) => {
        // The bar follows the pairs; the scoring stage before them (images embedded) says how far it is in words.
        if (p.unit === 'images') return progress.report({ message: formatProgress(p) });
        const now = p.total > 0 ? (100 * p.done) / p.total : 100;
        progress.report({ message: formatProgress(p), increment: now - percent });
        percent = now;
      },
      onLog: (line: string) => host.log.info(`explain-pairs: ${line}`),
    };
    return runPairList(job, events, token);
  });
}

/** Explains a pair of the run again, live, with the run's model and threshold, and shows it in the explanation panel. */
async function openPair(host: PairListHost, run: GalleryRun, record: PairListRecord, key: 'model-a' | 'model-b'): Promise<void> {
  try {
    const { model, a, b, threshold } = runExplanation(run.settings, record, key);
    // As with xssab.model: a workspace that is not trusted does not choose the model that runs.
    const inExtension = path.relative(host.extensionUri.fsPath, model.path);
    const bundled = !inExtension.startsWith('..') && !path.isAbsolute(inExtension);
    if (!vscode.workspace.isTrusted && !bundled && model.path !== host.settings().model) {
      throw new PairListRunError(`this workspace is not trusted: the run's model ${model.path} is not loaded (trust the workspace, or name the model in your user settings' xssab.model)`);
    }
    const payload = await host.explain([a, b], { model: model.path, threshold });
    host.showExplanation(asRunResult(payload, model), [vscode.Uri.file(a), vscode.Uri.file(b)], model.path);
  } catch (e) {
    if (!(e instanceof CancelledError)) host.report(e);
  }
}

async function pickFile(title: string): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, filters: LIST_FILTERS, canSelectMany: false, openLabel: 'Explain Pair List' });
  return picked?.[0];
}

async function pickFolder(title: string, openLabel: string, near?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel, defaultUri: near });
  return picked?.[0];
}

/**
 * Which pairs to explain (the list's length picks the first offered) and, when the list's
 * columns give attributes, which to group the error rates by; undefined when dismissed.
 */
async function pickPlan(pairs: number, attributes: readonly string[], title: string): Promise<RunPlan | undefined> {
  const choices = [
    { explain: 'all', label: 'Every pair', description: `maps of all ${pairs} pairs` },
    { explain: 'errors', label: 'Errors', description: `every false match and false non-match, and ${DEFAULT_SAMPLE} pairs per kind for the mean maps` },
    { explain: 'none', label: 'Scores only', description: 'error rates and score histograms; a pair opened in the gallery is explained then' },
  ];
  const first = defaultExplain(pairs);
  const items = [...choices.filter((c) => c.explain === first), ...choices.filter((c) => c.explain !== first)];
  const choice = await vscode.window.showQuickPick(items, { title: `${title}: which of the ${pairs} pairs to explain (every pair is scored)` });
  if (!choice) return undefined;
  if (!attributes.length) return { explain: choice.explain };
  const by = await vscode.window.showQuickPick(
    attributes.map((label) => ({ label })),
    { title: `${title}: error rates by group of (none picked: no groups)`, canPickMany: true, placeHolder: `the list's attribute columns: ${attributes.join(', ')}` },
  );
  if (!by) return undefined;
  return { explain: choice.explain, ...(by.length ? { by: by.map((b) => b.label) } : {}) };
}

/** Model B, an ONNX file the user picks (model A is the settings' model). */
async function pickModel(host: PairListHost): Promise<vscode.Uri | undefined> {
  const a = host.settings().model;
  const picked = await vscode.window.showOpenDialog({
    title: `Compare Two Models: model B, compared on every pair with model A (${a ? path.basename(a) : 'the bundled model'})`,
    filters: { 'ONNX models': ['onnx'] },
    canSelectMany: false,
    openLabel: 'Use as Model B',
  });
  return picked?.[0];
}

/** The folder next to the list (`<list>.xssab`, or `<list>.vs-<model B>.xssab`; resumed when it holds a run) or one the user picks. */
async function pickOutput(list: vscode.Uri, title: string, modelB?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const sibling = vscode.Uri.file(defaultOutput(list.fsPath, modelB?.fsPath));
  const resume = fs.existsSync(path.join(sibling.fsPath, SETTINGS_FILE));
  const items = [
    { label: `$(folder) ${path.basename(sibling.fsPath)}`, description: resume ? 'next to the list: resume the run there' : 'next to the list', folder: sibling },
    { label: '$(folder-opened) Choose a folder…', description: 'an empty folder, or one with an earlier run of this list' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: `${title}: where to write the results` });
  if (!choice) return undefined;
  return 'folder' in choice ? choice.folder : pickFolder(`${title}: the output folder`, 'Write Here', vscode.Uri.joinPath(list, '..'));
}
