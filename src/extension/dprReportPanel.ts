// The finished Patch-LFW report (report.html: tables and inline SVG curves) in one webview panel,
// reused for every run. The page needs no scripts: the CSP allows none, and the panel may read
// nothing outside the run's output folder.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { reportForWebview } from './taskDefinition';

export class DprReportPanel {
  static readonly viewType = 'xssab.dprReport';
  private static current?: vscode.WebviewPanel;

  /** Shows `folder`/report.html, creating the panel when there is none. */
  static show(folder: string): void {
    const html = fs.readFileSync(path.join(folder, 'report.html'), 'utf8');
    let panel = DprReportPanel.current;
    if (panel) panel.reveal(undefined, true);
    else {
      panel = vscode.window.createWebviewPanel(DprReportPanel.viewType, '', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, {});
      panel.onDidDispose(() => (DprReportPanel.current = undefined));
      DprReportPanel.current = panel;
    }
    panel.title = `Patch-LFW: ${path.basename(folder)}`;
    panel.webview.options = { enableScripts: false, localResourceRoots: [vscode.Uri.file(folder)] };
    panel.webview.html = reportForWebview(html, panel.webview.cspSource);
  }

  static dispose(): void {
    DprReportPanel.current?.dispose();
  }
}
