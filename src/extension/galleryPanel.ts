// The pair-list gallery: one webview panel, created on first use and reused for every explained
// list. Its UI is dist/renderer/gallery.js; this side sends it the summary (images as webview URIs
// of the output folder) and opens the pairs it asks for.
import * as vscode from 'vscode';
import type { GalleryData, ModelEntry, PairListRecord, PairListSummary } from '../shared/pairListSummary';
import { type Envelope, type GalleryHostMessage, type GalleryMessage, parseGalleryMessage, unexpected } from '../shared/protocol';
import { Envelopes } from '../shared/requests';
import { newNonce, scriptPage } from './webviewHtml';

export interface GalleryPanelHost {
  /** Opens one pair of the list (explained by model `key`) in the explanation panel. */
  openPair(out: vscode.Uri, summary: PairListSummary, record: PairListRecord, key: ModelEntry['key']): void;
  log(line: string): void;
}

export class GalleryPanel {
  static readonly viewType = 'xssab.gallery';
  private static current?: GalleryPanel;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly envelopes = new Envelopes('host-');
  /** The gallery posted 'ready': its script runs and messages reach it. */
  private ready = false;
  /** Pairs the gallery lists, as it last reported. */
  private shownPairs?: number;

  /** Shows the summary of the output folder `out`, creating the panel when there is none. */
  static show(extensionUri: vscode.Uri, out: vscode.Uri, summary: PairListSummary, host: GalleryPanelHost): GalleryPanel {
    const existing = GalleryPanel.current;
    if (existing) {
      existing.panel.reveal();
      existing.display(out, summary);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(GalleryPanel.viewType, 'xSSAB gallery', vscode.ViewColumn.Active, GalleryPanel.options(extensionUri, out));
    GalleryPanel.current = new GalleryPanel(panel, extensionUri, out, summary, host);
    return GalleryPanel.current;
  }

  /** Takes back a gallery VS Code restores after a window reload, showing the run in `out`. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, out: vscode.Uri, summary: PairListSummary, host: GalleryPanelHost): void {
    if (GalleryPanel.current) {
      panel.dispose();
      return;
    }
    panel.webview.options = GalleryPanel.options(extensionUri, out);
    GalleryPanel.current = new GalleryPanel(panel, extensionUri, out, summary, host);
  }

  static get open(): GalleryPanel | undefined {
    return GalleryPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private out: vscode.Uri,
    private summary: PairListSummary,
    private readonly host: GalleryPanelHost,
  ) {
    panel.webview.html = this.html();
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m), undefined, this.disposables);
    this.display(out, summary);
  }

  /** For tests: whether the gallery runs, the folder it shows and how many pairs it lists. */
  get state(): { ready: boolean; out: string; pairs?: number } {
    return { ready: this.ready, out: this.out.fsPath, pairs: this.shownPairs };
  }

  dispose(): void {
    if (GalleryPanel.current === this) GalleryPanel.current = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Scripts; files from the gallery's bundle and the output folder only. */
  private static options(extensionUri: vscode.Uri, out: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'renderer'), out] };
  }

  private display(out: vscode.Uri, summary: PairListSummary): void {
    if (out.toString() !== this.out.toString()) this.panel.webview.options = GalleryPanel.options(this.extensionUri, out);
    this.out = out;
    this.summary = summary;
    this.shownPairs = undefined;
    this.panel.title = `xSSAB: ${summary.list.split(/[\\/]/).pop()}`;
    this.sendGallery();
  }

  private sendGallery(): void {
    // Before 'ready' the gallery would drop the message; 'ready' sends it (also after a reload).
    if (!this.ready) return;
    const data: GalleryData = { summary: this.summary, files: { base: this.panel.webview.asWebviewUri(this.out).toString() } };
    void this.post({ type: 'gallery', data, out: this.out.fsPath });
  }

  private post(message: GalleryHostMessage): Thenable<boolean> {
    return this.panel.webview.postMessage(this.envelopes.message(message));
  }

  private receive(raw: unknown): void {
    let message: Envelope<GalleryMessage>;
    try {
      message = parseGalleryMessage(raw);
    } catch (e) {
      this.host.log(`gallery: ignored an invalid message: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendGallery();
        break;
      case 'shown':
        this.shownPairs = message.pairs;
        break;
      case 'openPair': {
        const record = this.summary.pairs.find((p) => p.index === message.index);
        if (record) this.host.openPair(this.out, this.summary, record, message.model);
        else this.host.log(`gallery: no pair ${message.index} in this list`);
        break;
      }
      case 'openRun':
        // Only the run's own folder and report: the message names neither path.
        if (message.what === 'report') void vscode.env.openExternal(vscode.Uri.joinPath(this.out, 'report.html'));
        else void vscode.commands.executeCommand('revealFileInOS', this.out);
        break;
      default:
        unexpected(message);
    }
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = newNonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'renderer', 'gallery.js'));
    // The gallery's <style> elements carry the script's nonce; element geometry goes through the CSSOM.
    const allowed = [`img-src ${webview.cspSource} data:`, `style-src 'nonce-${nonce}'`];
    return scriptPage({ title: 'xSSAB gallery', script: script.toString(), nonce, allowed });
  }
}
