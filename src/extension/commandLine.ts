// The `xssab` command line of the installed extension: launcher scripts that run its bundled CLI
// (dist/cli.js) with the Node that VS Code ships (its own executable with ELECTRON_RUN_AS_NODE=1),
// or the user's `node` when that executable is gone; the folder holding them goes first on the
// PATH of VS Code's integrated terminals. vscode is imported for types only (unit-tested in Node).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';

export interface Launcher {
  name: string;
  text: string;
}

/** Single-quoted for sh: a ' inside ends the quote, is escaped, and starts it again. */
const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Double-quoted for cmd.exe: a % would start a variable. */
const cmd = (s: string) => `"${s.replace(/%/g, '%%')}"`;

const GONE = 'the xSSAB extension was updated or removed; run "xSSAB: Install the Command-Line Tool" in VS Code again';

/**
 * Launchers that run `cli` with `node` (VS Code's executable, as Node) or else the `node` on PATH:
 * `xssab` (sh) everywhere, and `xssab.cmd` on Windows (cmd.exe and PowerShell; sh serves Git Bash).
 */
export function launchers(platform: NodeJS.Platform, node: string, cli: string): Launcher[] {
  const unix = [
    '#!/bin/sh',
    '# xssab: the command line of the xSSAB extension for VS Code (written by the extension).',
    `node=${sh(node)}`,
    `cli=${sh(cli)}`,
    `[ -f "$cli" ] || { echo "xssab: $cli is gone: ${GONE.replace(/"/g, '\\"')}" >&2; exit 1; }`,
    'if [ -x "$node" ]; then ELECTRON_RUN_AS_NODE=1 exec "$node" "$cli" "$@"; fi',
    'exec node "$cli" "$@"',
    '',
  ].join('\n');
  if (platform !== 'win32') return [{ name: 'xssab', text: unix }];
  // goto, not ( … ) blocks: a path such as "Program Files (x86)" would end a block early.
  const windows = [
    '@echo off',
    'rem xssab: the command line of the xSSAB extension for VS Code (written by the extension).',
    'setlocal',
    `if not exist ${cmd(cli)} goto gone`,
    `if not exist ${cmd(node)} goto usernode`,
    'set "ELECTRON_RUN_AS_NODE=1"',
    `${cmd(node)} ${cmd(cli)} %*`,
    'exit /b %ERRORLEVEL%',
    ':usernode',
    `node ${cmd(cli)} %*`,
    'exit /b %ERRORLEVEL%',
    ':gone',
    `echo xssab: ${cli.replace(/%/g, '%%')} is gone: ${GONE} 1>&2`,
    'exit /b 1',
    '',
  ].join('\r\n');
  return [{ name: 'xssab', text: unix }, { name: 'xssab.cmd', text: windows }];
}

/**
 * Launchers that hand over to the ones in `target` (the extension's own, which it rewrites at
 * every start): a launcher installed once keeps working after the extension updates.
 */
export function forwardingLaunchers(platform: NodeJS.Platform, target: string): Launcher[] {
  const unix = ['#!/bin/sh', '# xssab: hands over to the launcher of the xSSAB extension for VS Code.', `launcher=${sh(path.join(target, 'xssab'))}`,
    `[ -f "$launcher" ] || { echo "xssab: $launcher is gone: the xSSAB extension was removed, or has not started since it was updated" >&2; exit 1; }`, 'exec "$launcher" "$@"', ''].join('\n');
  if (platform !== 'win32') return [{ name: 'xssab', text: unix }];
  const target_ = path.win32.join(target, 'xssab.cmd');
  const windows = ['@echo off', 'rem xssab: hands over to the launcher of the xSSAB extension for VS Code.', `if not exist ${cmd(target_)} goto gone`, `${cmd(target_)} %*`, 'exit /b %ERRORLEVEL%', ':gone',
    `echo xssab: ${target_.replace(/%/g, '%%')} is gone: the xSSAB extension was removed, or has not started since it was updated 1>&2`, 'exit /b 1', ''].join('\r\n');
  return [{ name: 'xssab', text: unix }, { name: 'xssab.cmd', text: windows }];
}

/** Writes the launchers into `dir` (created), executable; a file with the same text is not touched. */
export function writeLaunchers(dir: string, files: Launcher[]): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return files.map(({ name, text }) => {
    const file = path.join(dir, name);
    const same = fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text;
    if (!same) fs.writeFileSync(file, text, { mode: 0o755 });
    return file;
  });
}

/** The part of the extension context the terminal contribution uses. */
export interface LauncherContext {
  extensionPath: string;
  globalStorageUri: Pick<vscode.Uri, 'fsPath'>;
  environmentVariableCollection: Pick<vscode.GlobalEnvironmentVariableCollection, 'prepend' | 'description'>;
}

/** The extension's own launcher folder (in its global storage). */
export const launcherFolder = (context: Pick<LauncherContext, 'globalStorageUri'>) => path.join(context.globalStorageUri.fsPath, 'bin');

/**
 * Writes the extension's launchers (for this VS Code's executable and this version's CLI) and puts
 * their folder first on PATH in the integrated terminals; returns the folder.
 */
export function contributeTerminalPath(context: LauncherContext, node = process.execPath, platform = process.platform): string {
  const dir = launcherFolder(context);
  writeLaunchers(dir, launchers(platform, node, path.join(context.extensionPath, 'dist', 'cli.js')));
  context.environmentVariableCollection.description = 'Puts the xSSAB command line (`xssab`) on PATH.';
  context.environmentVariableCollection.prepend('PATH', dir + path.delimiter);
  return dir;
}

/** The folder offered for an installed launcher: ~/.local/bin, or %LOCALAPPDATA%\\Programs\\xssab on Windows. */
export function defaultInstallFolder(platform = process.platform, env = process.env, home = os.homedir()): string {
  if (platform === 'win32') return path.win32.join(env.LOCALAPPDATA ?? path.win32.join(home, 'AppData', 'Local'), 'Programs', 'xssab');
  return path.join(home, '.local', 'bin');
}

/** Whether `dir` is one of the folders of a PATH value. */
export function onPath(dir: string, pathValue = process.env.PATH ?? '', platform = process.platform): boolean {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const norm = (d: string) => (platform === 'win32' ? p.resolve(d).toLowerCase() : p.resolve(d));
  return pathValue.split(platform === 'win32' ? ';' : ':').some((d) => d !== '' && norm(d) === norm(dir));
}

/** How to put `dir` on PATH, for the platform's usual shell. */
export function pathAdvice(dir: string, platform = process.platform): string {
  if (platform === 'win32') return `add ${dir} to your user Path (Settings → "Edit environment variables for your account"), or in PowerShell: [Environment]::SetEnvironmentVariable('Path', "${dir};" + [Environment]::GetEnvironmentVariable('Path', 'User'), 'User')`;
  const rc = platform === 'darwin' ? '~/.zshrc' : '~/.profile (or ~/.bashrc)';
  const shown = dir.startsWith(os.homedir() + path.sep) ? `$HOME${dir.slice(os.homedir().length)}` : dir;
  return `add this line to ${rc} and open a new shell: export PATH="${shown}:$PATH"`;
}
