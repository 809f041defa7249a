// "xSSAB: Install the Command-Line Tool": writes a small `xssab` launcher into a folder the user
// picks (offered: ~/.local/bin, or %LOCALAPPDATA%\Programs\xssab on Windows) and says how to put
// that folder on PATH when it is not there yet.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { defaultInstallFolder, forwardingLaunchers, onPath, pathAdvice, writeLaunchers } from './commandLine';
import { UserError } from '../shared/errors';

export interface InstallHost {
  /** The extension's own launcher folder, which the installed launcher hands over to. */
  launcherFolder: string;
  log: vscode.LogOutputChannel;
}

/** What scripts and tests may pass: the folder, without asking. */
export interface InstallArguments {
  folder: vscode.Uri;
}

export function installCommandLineCommand(host: InstallHost): (args?: unknown) => Promise<string[] | undefined> {
  return async (args) => {
    const folder = isArguments(args) ? args.folder : await pickFolder();
    if (!folder) return undefined;
    const dir = folder.fsPath;
    // A launcher of someone else's (another tool's `xssab`) is not replaced.
    const foreign = forwardingLaunchers(process.platform, host.launcherFolder)
      .map((l) => path.join(dir, l.name))
      .filter((f) => fs.existsSync(f) && !fs.readFileSync(f, 'utf8').includes('xSSAB extension for VS Code'));
    if (foreign.length > 0) throw new InstallError(`${foreign.join(', ')} exists and was not written by xSSAB; it was left as it is. Choose another folder.`);
    const written = writeLaunchers(dir, forwardingLaunchers(process.platform, host.launcherFolder));
    host.log.info(`command line: wrote ${written.join(', ')} (→ ${host.launcherFolder})`);
    const advice = onPath(dir) ? 'it is on your PATH: run "xssab help" in a new shell.' : `it is not on your PATH yet: ${pathAdvice(dir)}.`;
    void vscode.window.showInformationMessage(`xSSAB: installed the command-line tool as ${written[written.length - 1]}; ${advice} (VS Code's integrated terminals have xssab on PATH already.)`);
    return written;
  };
}

/** A problem with the folder the user chose; its message is shown as it is. */
export class InstallError extends UserError {}

async function pickFolder(): Promise<vscode.Uri | undefined> {
  const offered = defaultInstallFolder();
  const items = [
    { label: `$(folder) ${offered}`, description: onPath(offered) ? 'on your PATH' : 'not on your PATH yet (you will be told how)', folder: vscode.Uri.file(offered) },
    { label: '$(folder-opened) Choose a folder…', description: 'one on your PATH, for instance' },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: 'Install the Command-Line Tool: where to write the xssab launcher' });
  if (!choice) return undefined;
  if ('folder' in choice) return choice.folder;
  const picked = await vscode.window.showOpenDialog({ title: 'Install the Command-Line Tool: the folder for the xssab launcher', canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Install Here' });
  return picked?.[0];
}

function isArguments(v: unknown): v is InstallArguments {
  return typeof v === 'object' && v !== null && (v as InstallArguments).folder instanceof vscode.Uri;
}
