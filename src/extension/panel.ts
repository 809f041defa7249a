// The explanation panel: one webview panel, created on first use and reused for every pair. Its
// UI is the browser viewer (dist/renderer/panel.js); this side feeds it explanations and acts on
// its validated requests (threshold changes, another detected face, exports). It survives a
// window reload: VS Code keeps the viewer's state and the extension revives the panel from it.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { mapsNpy } from '../engine/npy';
import type { ExplanationPayload, ExplanationResult } from '../shared/result';
import { type Envelope, type PanelHostMessage, type PanelMessage, parsePanelMessage, unexpected, type ViewPreferences } from '../shared/protocol';
import { Envelopes } from '../shared/requests';
import { restoredPair } from './images';
import { LatestRunner } from './latestRunner';
import { newNonce, scriptPage } from './webviewHtml';

/** A shown explanation: the payload and the two image files it came from. */
export interface Shown {
  payload: ExplanationPayload;
  images: [vscode.Uri, vscode.Uri];
  /** The model file a re-run uses (a pair of a pair-list run: the run's); undefined = the settings' model. */
  model?: string;
}

/**
 * How to explain a pair again: the threshold (undefined: the settings' or the model card's) and
 * the face used in each image (0 = the largest).
 */
export interface Rerun {
  threshold?: number;
  faces: [number, number];
  /** With the trust check of the maps (kept once asked for). */
  check?: boolean;
  /** The shown explanation's model file, when not the settings' one. */
  model?: string;
}

export interface PanelHost {
  /** Explains the shown pair again; undefined when it failed or was cancelled (already reported). */
  rerun(shown: Shown, how: Rerun): Thenable<ExplanationPayload | undefined>;
  log(line: string): void;
  /** The map and opacity the viewer starts with (the user's settings). */
  view(): ViewPreferences;
}

/** Quiet time after the last threshold change before the host re-runs (the viewer debounces too). */
const RERUN_DEBOUNCE_MS = 250;

export class ExplanationPanel {
  static readonly viewType = 'xssab.explanation';
  private static current?: ExplanationPanel;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly envelopes = new Envelopes('host-');
  private shown: Shown;
  /** The viewer posted 'ready': its script runs and messages reach it. */
  private ready = false;
  private delivered?: ExplanationPayload;
  private readonly reruns = new LatestRunner((threshold: number) => this.rerunAt(threshold), RERUN_DEBOUNCE_MS);

  /** Shows `shown` in the panel, creating the panel when there is none. */
  static show(extensionUri: vscode.Uri, shown: Shown, host: PanelHost): ExplanationPanel {
    const existing = ExplanationPanel.current;
    if (existing) {
      existing.panel.reveal(undefined, true);
      existing.display(shown);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(ExplanationPanel.viewType, 'xSSAB', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: ExplanationPanel.roots(extensionUri, shown),
    });
    ExplanationPanel.current = new ExplanationPanel(panel, extensionUri, shown, host);
    return ExplanationPanel.current;
  }

  /**
   * Takes back a panel VS Code restores after a window reload. Its viewer shows the explanation it
   * saved; the host takes the pair from that state so that re-runs and exports work again. Nothing
   * runs until the user asks. A state without a valid pair, or a second panel, is closed.
   */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: unknown, host: PanelHost): void {
    const pair = restoredPair(state);
    if (!pair || ExplanationPanel.current) {
      panel.dispose();
      return;
    }
    const payload = (state as { payload: ExplanationPayload }).payload;
    const shown: Shown = { payload, images: [vscode.Uri.file(pair[0]), vscode.Uri.file(pair[1])] };
    panel.webview.options = { enableScripts: true, localResourceRoots: ExplanationPanel.roots(extensionUri, shown) };
    ExplanationPanel.current = new ExplanationPanel(panel, extensionUri, shown, host);
  }

  /** The open panel, if any (for tests and for disposal on deactivation). */
  static get open(): ExplanationPanel | undefined {
    return ExplanationPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    shown: Shown,
    private readonly host: PanelHost,
  ) {
    this.shown = shown;
    panel.webview.html = this.html();
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m), undefined, this.disposables);
    this.display(shown);
  }

  /** What the viewer has been given: whether it is ready and the last explanation it received. */
  get state(): { ready: boolean; delivered?: ExplanationPayload } {
    return { ready: this.ready, delivered: this.delivered };
  }

  dispose(): void {
    if (ExplanationPanel.current === this) ExplanationPanel.current = undefined;
    this.reruns.dispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** The extension's viewer bundle and the folders of the two images (for the original photos). */
  private static roots(extensionUri: vscode.Uri, shown: Shown): vscode.Uri[] {
    const folders = shown.images.map((u) => vscode.Uri.joinPath(u, '..'));
    return [vscode.Uri.joinPath(extensionUri, 'dist', 'renderer'), ...folders];
  }

  private display(shown: Shown): void {
    const imagesChanged = shown.images.some((u, i) => u.toString() !== this.shown.images[i].toString());
    this.shown = shown;
    if (imagesChanged) this.panel.webview.options = { enableScripts: true, localResourceRoots: ExplanationPanel.roots(this.extensionUri, shown) };
    const [a, b] = shown.images;
    this.panel.title = `xSSAB: ${path.basename(a.fsPath)} ↔ ${path.basename(b.fsPath)}`;
    this.sendExplanation();
  }

  private sendExplanation(): void {
    // Before 'ready' the viewer would drop the message; 'ready' sends it (also after a reload).
    if (!this.ready) return;
    const [a, b] = this.shown.images.map((u) => this.panel.webview.asWebviewUri(u).toString());
    const payload = this.shown.payload;
    void this.post({ type: 'explanation', payload, photos: { a, b }, view: this.host.view() }).then((ok) => {
      if (ok) this.delivered = payload;
    });
  }

  private post(message: PanelHostMessage): Thenable<boolean> {
    return this.panel.webview.postMessage(this.envelopes.message(message));
  }

  /** Acts on a message from the viewer, once it passes validation (tests send theirs here too). */
  receive(raw: unknown): void {
    let message: Envelope<PanelMessage>;
    try {
      message = parsePanelMessage(raw);
    } catch (e) {
      this.host.log(`panel: ignored an invalid message: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendExplanation();
        break;
      case 'setThreshold':
        this.reruns.request(message.threshold);
        break;
      case 'exportResult':
        void this.exportResult();
        break;
      case 'exportMap':
        void this.exportMap(message.side, message.kind, message.png);
        break;
      case 'exportMaps':
        void this.exportMaps();
        break;
      case 'chooseFace':
        void this.chooseFace(message.side, message.face);
        break;
      case 'checkMap':
        if (!this.shown.payload.check) void this.rerun({ ...this.shownRun(), check: true }, 'Checking the map…');
        break;
      default:
        unexpected(message);
    }
  }

  /** What a re-run keeps of the shown explanation: a threshold the user chose, and the faces. */
  private shownRun(): Rerun {
    const { payload } = this.shown;
    return {
      threshold: payload.thresholdSource === 'user' || payload.thresholdSource === 'at FMR' ? payload.threshold : undefined,
      faces: [payload.a.faceIndex ?? 0, payload.b.faceIndex ?? 0],
      ...(payload.check ? { check: true } : {}),
      ...(this.shown.model ? { model: this.shown.model } : {}),
    };
  }

  private async rerunAt(threshold: number): Promise<void> {
    if (threshold === this.shown.payload.threshold) return;
    await this.rerun({ ...this.shownRun(), threshold }, `Explaining again at threshold ${threshold}…`);
  }

  private async chooseFace(side: 'a' | 'b', face: number): Promise<void> {
    const how = this.shownRun();
    const i = side === 'a' ? 0 : 1;
    const count = this.shown.payload[side].faces?.length ?? 0;
    if (face >= count || face === how.faces[i]) {
      this.host.log(`panel: ignored a choice of face ${face} of ${side.toUpperCase()} (${count} detected, face ${how.faces[i]} shown)`);
      return;
    }
    how.faces[i] = face;
    await this.rerun(how, `Explaining again with face ${face + 1} of ${count} in ${side.toUpperCase()}…`);
  }

  private async rerun(how: Rerun, progress: string): Promise<void> {
    const shown = this.shown;
    void this.post({ type: 'progress', message: progress });
    const payload = await this.host.rerun(shown, how);
    // A new pair shown meanwhile wins over this re-run; a failed re-run (already reported)
    // sends the shown explanation again, which also resets the viewer's threshold and face controls.
    if (this.shown !== shown) return;
    if (payload) this.display({ ...shown, payload });
    else this.sendExplanation();
  }

  private async exportResult(): Promise<void> {
    const { images: _images, maps: _maps, ...result } = this.shown.payload;
    const [a, b] = this.shown.images;
    const name = `${stem(a)}_vs_${stem(b)}.xssab.json`;
    await this.save(name, { JSON: ['json'] }, Buffer.from(JSON.stringify(result satisfies ExplanationResult, null, 2) + '\n'));
  }

  private async exportMaps(): Promise<void> {
    const [a, b] = this.shown.images;
    let data: Buffer;
    try {
      data = mapsNpy(this.shown.payload);
    } catch (e) {
      void vscode.window.showErrorMessage(`xSSAB: cannot export these maps: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    await this.save(`${stem(a)}_vs_${stem(b)}.maps.npy`, { NumPy: ['npy'] }, data);
  }

  private async exportMap(side: 'a' | 'b', kind: string, png: string): Promise<void> {
    const image = this.shown.images[side === 'a' ? 0 : 1];
    const data = Buffer.from(png.slice(png.indexOf(',') + 1), 'base64');
    await this.save(`${stem(image)}_${kind}.png`, { PNG: ['png'] }, data);
  }

  /**
   * Asks where to save (the dialog itself confirms replacing a file), offering the workspace's
   * xssab-exports folder rather than the images' (a dataset's) folder; writes there and says so.
   */
  private async save(name: string, filters: Record<string, string[]>, data: Buffer): Promise<void> {
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(await exportFolder(this.shown.images[0]), name), filters });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, data);
      this.host.log(`exported ${target.fsPath}`);
    } catch (e) {
      void vscode.window.showErrorMessage(`xSSAB: could not write ${target.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const choice = await vscode.window.showInformationMessage(`xSSAB: saved ${path.basename(target.fsPath)} in ${path.dirname(target.fsPath)}`, 'Open', 'Reveal');
    if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
    if (choice === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', target);
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = newNonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'renderer', 'panel.js'));
    const allowed = [`img-src ${webview.cspSource} data: blob:`, `style-src ${webview.cspSource} 'unsafe-inline'`];
    // A stylesheet exists only when the viewer's bundle emits one.
    const cssFile = path.join(this.extensionUri.fsPath, 'dist', 'renderer', 'panel.css');
    const css = fs.existsSync(cssFile) ? `<link rel="stylesheet" href="${webview.asWebviewUri(vscode.Uri.file(cssFile))}">` : '';
    return scriptPage({ title: 'xSSAB', script: script.toString(), nonce, allowed, head: css });
  }
}

/** xssab-exports in the workspace folder (created), else the image's folder when no workspace is open. */
async function exportFolder(image: vscode.Uri): Promise<vscode.Uri> {
  const workspace = vscode.workspace.getWorkspaceFolder(image) ?? vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  if (!workspace) return vscode.Uri.joinPath(image, '..');
  const folder = vscode.Uri.joinPath(workspace.uri, 'xssab-exports');
  try {
    await vscode.workspace.fs.createDirectory(folder);
    return folder;
  } catch {
    return vscode.Uri.joinPath(image, '..');
  }
}

function stem(uri: vscode.Uri): string {
  return path.parse(uri.fsPath).name;
}
