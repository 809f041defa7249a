// The pair-list gallery: one webview panel, created on first use and reused for every explained
// list. Its UI is dist/renderer/gallery.js. This side keeps the run's records (RunPages) and sends
// the gallery the summary and one page of pairs at a time, with the page's thumbnails as data URIs
// (aggregate maps as webview URIs of the output folder); it opens the pairs the gallery asks for.
import * as vscode from 'vscode';
import { type RunPages, galleryData } from '../engine/explainPairs/load';
import type { RunSettings } from '../engine/explainPairs/store';
import type { ModelEntry, PairListRecord, PairListSummary } from '../shared/pairListSummary';
import { type Envelope, type GalleryHostMessage, type GalleryMessage, parseGalleryMessage, unexpected } from '../shared/protocol';
import { Envelopes } from '../shared/requests';
import { newNonce, scriptPage } from './webviewHtml';

/** A run the gallery shows: its summary and settings, and its records, paged. */
export interface GalleryRun {
  summary: PairListSummary;
  settings: RunSettings;
  pages: RunPages;
}

export interface GalleryPanelHost {
  /** Opens one pair of the run in the explanation panel, explained again with model `key`. */
  openPair(run: GalleryRun, record: PairListRecord, key: ModelEntry['key']): void;
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
  static show(extensionUri: vscode.Uri, out: vscode.Uri, run: GalleryRun, host: GalleryPanelHost): GalleryPanel {
    const existing = GalleryPanel.current;
    if (existing) {
      existing.panel.reveal();
      existing.display(out, run);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(GalleryPanel.viewType, 'xSSAB gallery', vscode.ViewColumn.Active, GalleryPanel.options(extensionUri, out));
    GalleryPanel.current = new GalleryPanel(panel, extensionUri, out, run, host);
    return GalleryPanel.current;
  }

  /** Takes back a gallery VS Code restores after a window reload, showing the run in `out`. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, out: vscode.Uri, run: GalleryRun, host: GalleryPanelHost): void {
    if (GalleryPanel.current) {
      panel.dispose();
      return;
    }
    panel.webview.options = GalleryPanel.options(extensionUri, out);
    GalleryPanel.current = new GalleryPanel(panel, extensionUri, out, run, host);
  }

  static get open(): GalleryPanel | undefined {
    return GalleryPanel.current;
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private out: vscode.Uri,
    private run: GalleryRun,
    private readonly host: GalleryPanelHost,
  ) {
    panel.webview.html = this.html();
    panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m), undefined, this.disposables);
    this.display(out, run);
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

  private display(out: vscode.Uri, run: GalleryRun): void {
    if (out.toString() !== this.out.toString()) this.panel.webview.options = GalleryPanel.options(this.extensionUri, out);
    this.out = out;
    this.run = run;
    this.shownPairs = undefined;
    this.panel.title = `xSSAB: ${run.summary.list.split(/[\\/]/).pop()}`;
    void this.sendGallery();
  }

  private async sendGallery(): Promise<void> {
    // Before 'ready' the gallery would drop the message; 'ready' sends it (also after a reload).
    if (!this.ready) return;
    const [run, out] = [this.run, this.out];
    try {
      const data = await galleryData(run.summary, run.pages, { base: this.panel.webview.asWebviewUri(out).toString() });
      if (run === this.run) void this.post({ type: 'gallery', data, out: out.fsPath });
    } catch (e) {
      this.cannotRead(e);
    }
  }

  /** Answers a page request of the gallery (for the run it showed when it asked). */
  private async sendPage(request: Envelope<GalleryMessage & { type: 'page' }>): Promise<void> {
    const run = this.run;
    try {
      const page = await run.pages.page(request.query, request.offset, request.limit);
      if (run === this.run) void this.panel.webview.postMessage(this.envelopes.reply(request, { type: 'page', page } satisfies GalleryHostMessage));
    } catch (e) {
      this.cannotRead(e);
    }
  }

  /** A thumbnail the run folder no longer holds, say: logged, and said in the gallery. */
  private cannotRead(e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    this.host.log(`gallery: cannot read the pairs of ${this.out.fsPath}: ${reason}`);
    void this.post({ type: 'error', message: `xSSAB: cannot read the pairs of this run: ${reason}` });
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
        void this.sendGallery();
        break;
      case 'page':
        void this.sendPage(message);
        break;
      case 'shown':
        this.shownPairs = message.pairs;
        break;
      case 'openPair': {
        const record = this.run.pages.record(message.index);
        if (record) this.host.openPair(this.run, record, message.model);
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
