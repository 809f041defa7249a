// "xSSAB: Try the Samples": copies the bundled sample faces, pair lists and example notebook into
// a folder the user picks (default: a new xssab-samples folder in the workspace), adds a
// Patch-Samples task to that workspace's .vscode/tasks.json, and explains a first pair.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { FIRST_PAIR, NOTEBOOK, PATCH_SAMPLES_LABEL, copySamples, newSamplesFolder, patchSamplesTask } from './samples';
import { TasksJsonError, addTask } from './tasksJson';
import { UserError } from '../shared/errors';

export interface SamplesHost {
  extensionPath: string;
  log: vscode.LogOutputChannel;
  notify(level: 'info' | 'warning', message: string): void;
  /** Explains the pair and shows it in the panel. */
  explainMatch(images: [vscode.Uri, vscode.Uri]): Promise<unknown>;
}

/** What scripts and tests may pass: the target folder, without asking. */
export interface SamplesArguments {
  folder: vscode.Uri;
}

export interface SamplesOutcome {
  folder: string;
  copied: string[];
  kept: string[];
  /** The tasks.json the task went into, or why it did not. */
  task: { file: string; added: boolean } | { skipped: string };
  explained: unknown;
}

/** A problem with the folder the user chose; its message is shown as it is. */
export class SamplesError extends UserError {}

export function trySamplesCommand(host: SamplesHost): (args?: unknown) => Promise<SamplesOutcome | undefined> {
  return async (args) => {
    const folder = isArguments(args) ? args.folder : await pickTarget();
    if (!folder) return undefined;
    if (folder.scheme !== 'file') throw new SamplesError(`${folder.toString()}: the samples can only be copied to a folder on disk`);
    const target = folder.fsPath;
    const { copied, kept } = copySamples(host.extensionPath, target);
    host.log.info(`samples: ${copied.length} files copied into ${target}${kept.length ? `, ${kept.length} already there kept as they were` : ''}`);
    const task = addPatchSamplesTask(target, host);
    const explained = await host.explainMatch(FIRST_PAIR.map((rel) => vscode.Uri.file(path.join(target, ...rel.split('/')))) as [vscode.Uri, vscode.Uri]);
    const keptNote = kept.length ? ` (${kept.length} files already there were kept as they were)` : '';
    const taskNote = 'file' in task ? `; the "${PATCH_SAMPLES_LABEL}" task runs the DPR protocol on them (Terminal → Run Task)` : '';
    void vscode.commands.executeCommand('revealInExplorer', folder);
    void vscode.window
      .showInformationMessage(`xSSAB: the samples are in ${target}${keptNote}${taskNote}. Right-click two images of samples/aligned or samples/photos → Explain Match.`, 'Open the Notebook')
      .then((choice) => choice && vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path.join(target, ...NOTEBOOK.split('/')))));
    return { folder: target, copied, kept, task, explained };
  };
}

/**
 * Adds the Patch-Samples task to the tasks.json of the workspace folder holding `target` (or of
 * `target` itself when no workspace folder holds it). A tasks.json that does not parse is left
 * alone, and the user is told.
 */
function addPatchSamplesTask(target: string, host: SamplesHost): SamplesOutcome['task'] {
  const base = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target))?.uri.fsPath ?? target;
  const file = path.join(base, '.vscode', 'tasks.json');
  try {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    const edited = addTask(text, patchSamplesTask(base, target));
    if (edited === undefined) {
      host.log.info(`samples: ${file} has a "${PATCH_SAMPLES_LABEL}" task already; left as it is`);
      return { file, added: false };
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, edited);
    host.log.info(`samples: added the "${PATCH_SAMPLES_LABEL}" task to ${file}`);
    return { file, added: true };
  } catch (e) {
    if (!(e instanceof TasksJsonError)) throw e;
    host.log.warn(`samples: ${file}: ${e.message}`);
    host.notify('warning', `xSSAB: no "${PATCH_SAMPLES_LABEL}" task was added: ${file}: ${e.message}.`);
    return { skipped: e.message };
  }
}

/** A new xssab-samples folder in the (first) workspace folder, or a folder the user picks. */
async function pickTarget(): Promise<vscode.Uri | undefined> {
  const workspace = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const pick = async () =>
    (await vscode.window.showOpenDialog({ title: 'Try the Samples: the folder to copy them into', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Copy Here', defaultUri: workspace?.uri }))?.[0];
  if (!workspace) return pick();
  const fresh = vscode.Uri.file(newSamplesFolder(workspace.uri.fsPath));
  const items = [
    { label: `$(new-folder) ${path.basename(fresh.fsPath)}`, description: `a new folder in ${workspace.name}`, folder: fresh },
    { label: '$(folder-opened) Choose a folder…', description: 'files already there are kept as they are' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'Try the Samples: where to copy the sample faces, pair lists and notebook' });
  if (!choice) return undefined;
  return 'folder' in choice ? choice.folder : pick();
}

function isArguments(v: unknown): v is SamplesArguments {
  return typeof v === 'object' && v !== null && (v as SamplesArguments).folder instanceof vscode.Uri;
}
