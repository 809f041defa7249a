// "Explain Pair List…": asks for a pair list (and LFW's folder for LFW's pairs.txt) and an output
// folder, runs explain-pairs in a child process under a cancellable progress notification, and
// opens the gallery of the result. Running it again on the same list resumes a stopped run.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { SETTINGS_FILE, SUMMARY_FILE } from '../engine/explainPairs/summary';
import type { PairListRecord, PairListSummary } from '../shared/pairListSummary';
import type { ExplanationPayload } from '../shared/result';
import type { EngineClient } from './engineClient';
import { GalleryPanel, type GalleryPanelHost } from './galleryPanel';
import { PairListRunError, defaultOutput, isLfwPairs, restoredRunFolder, runPairList } from './pairListRun';
import type { Settings } from './settings';
import { formatProgress } from './taskDefinition';

export interface PairListHost {
  extensionUri: vscode.Uri;
  /** dist/cli.js */
  cliPath: string;
  settings(): Settings;
  engine: EngineClient;
  log: vscode.LogOutputChannel;
  notify(level: 'info', message: string): void;
  report(e: unknown): void;
  /** Shows an explanation of the two images in the explanation panel. */
  showExplanation(payload: ExplanationPayload, images: [vscode.Uri, vscode.Uri]): void;
}

/** What scripts and tests may pass instead of the Explorer's file: no dialogs for what is given. */
export interface PairListArguments {
  list: vscode.Uri;
  out?: vscode.Uri;
  lfwRoot?: vscode.Uri;
}

const LIST_FILTERS = { 'Pair lists': ['csv', 'txt'] };

/** The command's handler: the summary shown, or undefined when stopped, cancelled or failed (reported). */
export function explainPairListCommand(host: PairListHost): (clicked?: unknown) => Promise<PairListSummary | undefined> {
  const running = new Set<string>();

  return async (clicked) => {
    const given = clicked instanceof vscode.Uri ? { list: clicked } : isArguments(clicked) ? clicked : undefined;
    const list = given?.list ?? (await pickFile('Explain Pair List: a pair list (a,b[,same|different]) or LFW pairs.txt'));
    if (!list) return undefined;
    if (list.scheme !== 'file') throw new PairListRunError(`${list.toString()}: only files on disk can be explained`);
    const lfw = !given?.lfwRoot && needsLfwRoot(list.fsPath);
    const lfwRoot = given?.lfwRoot ?? (lfw ? await pickFolder(`Explain Pair List: the LFW folder that ${path.basename(list.fsPath)} names`, 'Use as LFW Folder') : undefined);
    if (lfw && !lfwRoot) return undefined;
    const out = given?.out ?? (await pickOutput(list));
    if (!out) return undefined;
    if (running.has(out.fsPath)) {
      host.notify('info', `xSSAB: ${path.basename(list.fsPath)} is already being explained into ${out.fsPath}`);
      return undefined;
    }
    running.add(out.fsPath);
    try {
      if ((await runExplainPairs(host, list, out, lfwRoot)) === 'cancelled') {
        host.notify('info', `xSSAB: stopped; what is done stays in ${out.fsPath}. Run "Explain Pair List" on ${path.basename(list.fsPath)} into that folder again to resume.`);
        return undefined;
      }
    } finally {
      running.delete(out.fsPath);
    }
    const summary = await readSummary(out);
    GalleryPanel.show(host.extensionUri, out, summary, galleryHost(host));
    return summary;
  };
}

/**
 * Takes back a gallery VS Code restores after a window reload, from the run folder its webview
 * saved; closes the panel when the state names no folder with a summary.
 */
export async function reviveGallery(host: PairListHost, panel: vscode.WebviewPanel, state: unknown): Promise<void> {
  const out = restoredRunFolder(state);
  const summary = out ? await readSummary(vscode.Uri.file(out)).catch((e: Error) => host.log.warn(`gallery not restored: ${e.message}`)) : undefined;
  if (!out || !summary) {
    panel.dispose();
    return;
  }
  GalleryPanel.revive(panel, host.extensionUri, vscode.Uri.file(out), summary, galleryHost(host));
}

function galleryHost(host: PairListHost): GalleryPanelHost {
  return {
    openPair: (folder, _summary, record, model) => void openPair(host, folder, record, model),
    log: (line) => host.log.info(line),
  };
}

async function readSummary(out: vscode.Uri): Promise<PairListSummary> {
  return JSON.parse(await fs.promises.readFile(path.join(out.fsPath, SUMMARY_FILE), 'utf8')) as PairListSummary;
}

function isArguments(v: unknown): v is PairListArguments {
  return typeof v === 'object' && v !== null && (v as PairListArguments).list instanceof vscode.Uri;
}

function needsLfwRoot(list: string): boolean {
  return isLfwPairs(list, fs.readFileSync(list, 'utf8').split(/\r?\n/, 1)[0]);
}

/** Runs `xssab explain-pairs` on the list with a cancellable progress notification. */
function runExplainPairs(host: PairListHost, list: vscode.Uri, out: vscode.Uri, lfwRoot: vscode.Uri | undefined) {
  const settings = host.settings();
  const job = { cli: host.cliPath, list: list.fsPath, out: out.fsPath, lfwRoot: lfwRoot?.fsPath, model: settings.model, ep: settings.executionProvider, threshold: settings.threshold, verbose: settings.logLevel === 'debug' };
  host.log.info(`explain-pairs: ${list.fsPath} → ${out.fsPath} (model ${settings.model ?? 'bundled'}, EP ${settings.executionProvider})`);
  const title = `xSSAB: explaining ${path.basename(list.fsPath)}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    progress.report({ message: 'starting (loading the model)…' });
    let percent = 0;
    const events = {
      onProgress: (p: Parameters<typeof formatProgress>[0]) => {
        const now = p.total > 0 ? (100 * p.done) / p.total : 100;
        progress.report({ message: formatProgress(p), increment: now - percent });
        percent = now;
      },
      onLog: (line: string) => host.log.info(`explain-pairs: ${line}`),
    };
    return runPairList(job, events, token);
  });
}

async function openPair(host: PairListHost, out: vscode.Uri, record: PairListRecord, model: 'model-a' | 'model-b'): Promise<void> {
  try {
    const { payload } = await host.engine.pairListPair({ out: out.fsPath, index: record.index, model });
    host.showExplanation(payload, [vscode.Uri.file(record.a), vscode.Uri.file(record.b)]);
  } catch (e) {
    host.report(e);
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

/** The folder next to the list (`<list>.xssab`, resumed when it holds a run) or one the user picks. */
async function pickOutput(list: vscode.Uri): Promise<vscode.Uri | undefined> {
  const sibling = vscode.Uri.file(defaultOutput(list.fsPath));
  const resume = fs.existsSync(path.join(sibling.fsPath, SETTINGS_FILE));
  const items = [
    { label: `$(folder) ${path.basename(sibling.fsPath)}`, description: resume ? 'next to the list: resume the run there' : 'next to the list', folder: sibling },
    { label: '$(folder-opened) Choose a folder…', description: 'an empty folder, or one with an earlier run of this list' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'Explain Pair List: where to write the results' });
  if (!choice) return undefined;
  return 'folder' in choice ? choice.folder : pickFolder('Explain Pair List: the output folder', 'Write Here', vscode.Uri.joinPath(list, '..'));
}
