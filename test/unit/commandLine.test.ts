// The `xssab` command line of the installed extension: the terminal PATH contribution and the
// launchers, run for real with sh on a stand-in CLI that reports how it was started.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { type LauncherContext, contributeTerminalPath, forwardingLaunchers, launchers, onPath, writeLaunchers } from '../../src/extension/commandLine';

const STAND_IN_CLI = `console.log(JSON.stringify({ args: process.argv.slice(2), electronAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null, node: process.execPath }));\n`;

/** An extension context whose environment variable collection records its mutations. */
function fakeContext(root: string) {
  const mutations: { variable: string; value: string; kind: 'prepend' }[] = [];
  const context: LauncherContext = {
    // A quote and spaces in the path: the launchers must quote it.
    extensionPath: path.join(root, "the user's extensions", 'xssab 0.1.0'),
    globalStorageUri: { fsPath: path.join(root, 'global storage') },
    environmentVariableCollection: { prepend: (variable: string, value: string) => void mutations.push({ variable, value, kind: 'prepend' }), description: undefined },
  };
  fs.mkdirSync(path.join(context.extensionPath, 'dist'), { recursive: true });
  fs.writeFileSync(path.join(context.extensionPath, 'dist', 'cli.js'), STAND_IN_CLI);
  return { context, mutations };
}

/** PATH after VS Code applies the collection's mutations, as an integrated terminal gets it. */
const applied = (mutations: ReturnType<typeof fakeContext>['mutations'], base: string) =>
  mutations.filter((m) => m.variable === 'PATH').reduce((value, m) => m.value + value, base);

const run = (command: string, env: NodeJS.ProcessEnv, ...args: string[]) => spawnSync(command, args, { env, encoding: 'utf8' });

(process.platform === 'win32' ? describe.skip : describe)('xssab on the PATH of integrated terminals', () => {
  let tmp: string;
  // The folder of the Node running the tests, so that the launcher's fallback finds a `node`.
  const basePath = `${path.dirname(process.execPath)}${path.delimiter}/usr/bin${path.delimiter}/bin`;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-launcher-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('activation puts the launcher folder first on PATH, and `xssab` there runs the bundled CLI with VS Code\'s Node as Node', () => {
    const { context, mutations } = fakeContext(tmp);
    const dir = contributeTerminalPath(context, process.execPath, process.platform);
    assert.equal(dir, path.join(tmp, 'global storage', 'bin'));
    assert.deepEqual(mutations, [{ variable: 'PATH', value: dir + path.delimiter, kind: 'prepend' }]);
    assert.ok(context.environmentVariableCollection.description);
    // Another `xssab` later on PATH loses.
    const other = path.join(tmp, 'other');
    writeLaunchers(other, [{ name: 'xssab', text: '#!/bin/sh\necho wrong one\n' }]);
    const env = { PATH: applied(mutations, `${other}${path.delimiter}${basePath}`), HOME: tmp };
    assert.equal(env.PATH.split(path.delimiter)[0], dir);
    const r = run('xssab', env, 'explain', 'a b.png', "it's.png");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { args: ['explain', 'a b.png', "it's.png"], electronAsNode: '1', node: process.execPath });
  });

  it('falls back to the user\'s node when VS Code\'s executable is gone, and says when the CLI is gone', () => {
    const { context } = fakeContext(tmp);
    const dir = path.join(tmp, 'bin');
    const cli = path.join(context.extensionPath, 'dist', 'cli.js');
    writeLaunchers(dir, launchers('linux', path.join(tmp, 'no-such-vscode'), cli));
    const env = { PATH: `${dir}${path.delimiter}${basePath}` };
    const r = run('xssab', env, 'help');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).electronAsNode, null);
    fs.rmSync(cli);
    const gone = run('xssab', env, 'help');
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /^xssab: .*cli\.js is gone: the xSSAB extension was updated or removed; run "xSSAB: Install the Command-Line Tool" in VS Code again\n$/);
  });

  it('an installed launcher hands over to the extension\'s, whose paths activation rewrites', () => {
    const { context } = fakeContext(tmp);
    const own = contributeTerminalPath(context, process.execPath, process.platform);
    const installed = path.join(tmp, '.local', 'bin');
    writeLaunchers(installed, forwardingLaunchers('linux', own));
    const env = { PATH: `${installed}${path.delimiter}${basePath}` };
    assert.deepEqual(JSON.parse(run('xssab', env, '--version').stdout).args, ['--version']);
    // An update: a new extension folder; the next activation rewrites the extension's launcher.
    const updated = { ...context, extensionPath: path.join(tmp, 'xssab 0.2.0') };
    fs.mkdirSync(path.join(updated.extensionPath, 'dist'), { recursive: true });
    fs.writeFileSync(path.join(updated.extensionPath, 'dist', 'cli.js'), STAND_IN_CLI.replace('args:', 'updated: true, args:'));
    contributeTerminalPath(updated, process.execPath, process.platform);
    assert.equal(JSON.parse(run('xssab', env, 'help').stdout).updated, true);
  });
});

describe('launcher texts', () => {
  it('Windows gets a .cmd that sets ELECTRON_RUN_AS_NODE, escapes %, and falls back to node', () => {
    const [sh, cmd] = launchers('win32', 'C:\\Program Files (x86)\\Code\\Code.exe', 'C:\\Users\\a%b\\ext\\dist\\cli.js');
    assert.deepEqual([sh.name, cmd.name], ['xssab', 'xssab.cmd']);
    assert.ok(cmd.text.includes('set "ELECTRON_RUN_AS_NODE=1"\r\n"C:\\Program Files (x86)\\Code\\Code.exe" "C:\\Users\\a%%b\\ext\\dist\\cli.js" %*\r\n'), cmd.text);
    assert.ok(cmd.text.includes(':usernode\r\nnode "C:\\Users\\a%%b\\ext\\dist\\cli.js" %*\r\n'), cmd.text);
    assert.doesNotMatch(cmd.text, /\(\s*$/m, 'no ( … ) blocks');
    assert.deepEqual(launchers('linux', '/n', '/c').map((l) => l.name), ['xssab']);
  });

  it('tells whether a folder is on PATH, per platform', () => {
    assert.equal(onPath('/home/u/.local/bin', '/usr/bin:/home/u/.local/bin/', 'linux'), true);
    assert.equal(onPath('/home/u/.local/bin', '/usr/bin:/home/u/bin', 'linux'), false);
    assert.equal(onPath('C:\\Users\\U\\AppData\\Local\\Programs\\xssab', 'C:\\Windows;c:\\users\\u\\appdata\\local\\programs\\xssab', 'win32'), true);
  });
});
