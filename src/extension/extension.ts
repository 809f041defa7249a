// The extension host's glue: the "Explain Match" command, the engine worker, the panel, the log.
// Every command is wrapped so that nothing throws into the extension host; the engine's errors are
// written for users and shown as they are.
import * as path from 'path';
import * as vscode from 'vscode';
import { Worker } from 'worker_threads';
import type { ExplanationPayload } from '../shared/result';
import { UsageError } from '../shared/errors';
import type { ExplainOptions, Fallback, JobImage } from '../shared/protocol';
import { CancelledError } from '../shared/requests';
import { contributeTerminalPath, launcherFolder } from './commandLine';
import { EngineClient } from './engineClient';
import { failureReport } from './failures';
import { installCommandLineCommand } from './installCommandLine';
import { IMAGE_EXTENSIONS, IMAGE_FILTERS, explorerSelection, isImagePath } from './images';
import { type InspectionHost, type ModelChoice, ModelSettingWatcher, inspectAndReport, settingsChoice } from './modelInspection';
import { GalleryPanel } from './galleryPanel';
import { RENDERER_ID, answerNotebookRequests } from './notebookMessaging';
import { explainPairListCommand, openPairListResultsCommand, reviveGallery } from './pairListCommand';
import { ExplanationPanel, type PanelHost, type Rerun } from './panel';
import { trySamplesCommand } from './samplesCommand';
import { SECTION, type Settings, resolveSettings } from './settings';
import { registerXssabTasks } from './taskProvider';

type Level = 'error' | 'warning' | 'info';

/** Returned by activate() when the extension runs under a test runner. */
export interface TestApi {
  /** Notifications shown so far, oldest first. */
  notifications: { level: Level; message: string }[];
  panelState(): ExplanationPanel['state'] | undefined;
  /** Hands the open panel a message as if its viewer had posted it. */
  panelMessage(message: unknown): void;
  galleryState(): GalleryPanel['state'] | undefined;
}

export function activate(context: vscode.ExtensionContext): TestApi | undefined {
  const output = vscode.window.createOutputChannel('xSSAB', { log: true });
  const engine = new EngineClient(() => new Worker(path.join(__dirname, 'engineWorker.js')));
  // No deactivate(): the worker, the panel and the log are disposed through these subscriptions.
  context.subscriptions.push(output, { dispose: () => engine.dispose() }, { dispose: () => ExplanationPanel.open?.dispose() }, { dispose: () => GalleryPanel.open?.dispose() });

  const testing = context.extensionMode === vscode.ExtensionMode.Test;
  const notifications: TestApi['notifications'] = [];
  /** Shows a notification; resolves with the button pressed, if any. */
  const notify = (level: Level, message: string, ...buttons: string[]) => {
    if (testing) notifications.push({ level, message });
    const show = { error: vscode.window.showErrorMessage, warning: vscode.window.showWarningMessage, info: vscode.window.showInformationMessage }[level];
    return show(message, ...buttons);
  };

  /** What the user is told about a failure; it is logged, unexpected ones in full. */
  const failureText = (e: unknown): string => {
    const { shown, logged } = failureReport(e);
    output.error(logged);
    return shown;
  };
  const report = (e: unknown) => notify('error', `xSSAB: ${failureText(e)}`);

  // One log line per kind of fallback and session; with `auto`, falling back is expected and only
  // logged; a provider asked for by name gets one notification.
  const noticed = new Set<string>();
  const onFallback = (settings: Settings) => (fallback: Fallback) => {
    if (settings.logLevel === 'debug') output.info(`execution providers tried:\n${fallback.detail}`);
    if (noticed.has(fallback.notice)) return;
    noticed.add(fallback.notice);
    if (settings.executionProvider === 'auto') return output.info(fallback.notice);
    output.warn(fallback.notice);
    notify('warning', `xSSAB: the ${fallback.providers} execution provider is not available (${fallback.reason}); ${fallback.notice.replace(/ \(.*/, '')} instead.`);
  };

  const readSettings = (): Settings => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const settings = resolveSettings(vscode.workspace.getConfiguration(SECTION), vscode.workspace.isTrusted, folder);
    if (settings.ignoredWorkspaceModel && !noticed.has('untrusted model')) {
      noticed.add('untrusted model');
      output.warn(`workspace not trusted: ignored its xssab.model "${settings.ignoredWorkspaceModel}"`);
    }
    return settings;
  };

  /**
   * Explains a pair under a progress indicator and logs it; throws what failed (CancelledError when
   * cancelled). `model` (a notebook request's) replaces the settings' model.
   */
  const explainImages = (images: [JobImage, JobImage], options: ExplainOptions, location: vscode.ProgressLocation) =>
    vscode.window.withProgress({ location, title: 'xSSAB', cancellable: true }, async (progress, token): Promise<ExplanationPayload> => {
      const [a, b] = images;
      const names = images.map((image) => (typeof image === 'string' ? path.basename(image) : image.label)).join(' ↔ ');
      progress.report({ message: `Explaining ${names}…` });
      const start = performance.now();
      try {
        const settings = readSettings();
        const model = options.model ?? settings.model;
        const job = { model, ep: settings.executionProvider, a, b, threshold: options.threshold ?? settings.threshold, faces: options.faces, check: options.check };
        const { payload, loadMs } = await engine.explain(job, { onProgress: (message) => progress.report({ message }), onFallback: onFallback(settings) }, token);
        const load = loadMs !== undefined ? `, model loaded in ${loadMs.toFixed(0)} ms` : '';
        output.info(
          `${names}: model ${payload.model.name} (${options.model ? 'asked for by the request' : settings.modelSource}), EP ${payload.ep} (asked: ${settings.executionProvider}), ` +
            `threshold ${payload.threshold.toFixed(4)} (${payload.thresholdSource}) → score ${payload.score.toFixed(4)}, ${payload.decision}; ` +
            `${(performance.now() - start).toFixed(0)} ms in all${load}, explanation ${payload.timings.totalMs.toFixed(0)} ms`,
        );
        for (const warning of payload.warnings) output.warn(warning);
        // The panel's header says it each time: the model shown is not the one the workspace names.
        if (!options.model && settings.ignoredWorkspaceModel) {
          return { ...payload, warnings: [...payload.warnings, `This workspace is not trusted: its xssab.model "${settings.ignoredWorkspaceModel}" was ignored.`] };
        }
        return payload;
      } catch (e) {
        if (e instanceof CancelledError) output.info(`${names}: cancelled`);
        throw e;
      }
    });

  /** Explains two files; undefined when it failed (reported) or was cancelled. */
  const explainFiles = (images: [vscode.Uri, vscode.Uri], how: Partial<Rerun>, location: vscode.ProgressLocation) =>
    explainImages([images[0].fsPath, images[1].fsPath], how, location).then(
      (payload) => payload,
      (e) => {
        if (!(e instanceof CancelledError)) report(e);
        return undefined;
      },
    );

  /** Explains two files and shows them in the panel; undefined when it failed (reported) or was cancelled. */
  const showPair = async (images: [vscode.Uri, vscode.Uri]) => {
    const payload = await explainFiles(images, {}, vscode.ProgressLocation.Notification);
    if (payload) showExplanation(payload, images);
    return payload;
  };

  const explainMatch = async (clicked?: unknown, selected?: unknown): Promise<ExplanationPayload | undefined> => {
    const images = await pickPair(clicked, selected);
    return images && showPair(images);
  };

  const panelHost: PanelHost = {
    rerun: (shown, how) => explainFiles(shown.images, how, vscode.ProgressLocation.Window),
    log: (line) => output.info(line),
    view: () => readSettings().view,
  };
  const showExplanation = (payload: ExplanationPayload, images: [vscode.Uri, vscode.Uri], model?: string) => ExplanationPanel.show(context.extensionUri, { payload, images, model }, panelHost);
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(ExplanationPanel.viewType, {
      deserializeWebviewPanel: async (panel, state) => ExplanationPanel.revive(panel, context.extensionUri, state, panelHost),
    }),
  );

  const pairListHost = {
    extensionUri: context.extensionUri,
    cliPath: path.join(__dirname, 'cli.js'),
    settings: readSettings,
    explain: (images: [string, string], options: ExplainOptions) => explainImages(images, options, vscode.ProgressLocation.Notification),
    log: output,
    notify,
    report,
    showExplanation,
  };
  const explainPairList = explainPairListCommand(pairListHost);
  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(GalleryPanel.viewType, { deserializeWebviewPanel: (panel, state) => reviveGallery(pairListHost, panel, state) }),
  );

  context.subscriptions.push(vscode.commands.registerCommand('xssab.explainMatch', guarded(explainMatch, report)));
  context.subscriptions.push(vscode.commands.registerCommand('xssab.explainPairList', guarded(explainPairList, report)));
  context.subscriptions.push(vscode.commands.registerCommand('xssab.comparePairList', guarded(explainPairListCommand(pairListHost, true), report)));
  context.subscriptions.push(vscode.commands.registerCommand('xssab.openPairListResults', guarded(openPairListResultsCommand(pairListHost), report)));
  const trySamples = trySamplesCommand({ extensionPath: context.extensionPath, log: output, notify, explainMatch: showPair });
  context.subscriptions.push(vscode.commands.registerCommand('xssab.trySamples', guarded(trySamples, report)));
  // Integrated terminals get `xssab` on PATH; an installed launcher hands over to this folder's.
  const launchers = launcherFolder(context);
  try {
    contributeTerminalPath(context);
  } catch (e) {
    output.warn(`xssab is not on the terminals' PATH: ${e instanceof Error ? e.message : e}`);
  }
  context.subscriptions.push(vscode.commands.registerCommand('xssab.installCommandLine', guarded(installCommandLineCommand({ launcherFolder: launchers, log: output }), report)));
  context.subscriptions.push(registerXssabTasks({ cliPath: path.join(__dirname, 'cli.js'), settings: readSettings, log: output }));
  context.subscriptions.push(
    answerNotebookRequests(vscode.notebooks.createRendererMessaging(RENDERER_ID), {
      isTrusted: () => vscode.workspace.isTrusted,
      workspaceFolders: () => (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
      explain: (images, options) => explainImages(images, options, vscode.ProgressLocation.Window),
      failureText,
      log: output,
    }),
  );
  // The model the settings name is inspected when it changes (and now, when one is set).
  const inspectionHost: InspectionHost = { inspect: (job) => engine.inspect(job), log: output, notify, failureText };
  const modelWatcher = new ModelSettingWatcher(inspectionHost, readSettings);
  context.subscriptions.push(
    { dispose: () => modelWatcher.dispose() },
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration(`${SECTION}.model`) && modelWatcher.changed()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => modelWatcher.changed()),
  );
  modelWatcher.changed();
  /** The Explorer's .onnx file, else the settings' model or a file the user picks. */
  const inspectModel = async (clicked?: unknown) => {
    const file = asUri(clicked);
    const settings = readSettings();
    const choice = file ? chosenModel(file) : await pickModel(settingsChoice(settings), settings.ignoredWorkspaceModel);
    return choice && inspectAndReport(inspectionHost, choice, true);
  };
  context.subscriptions.push(vscode.commands.registerCommand('xssab.inspectModel', guarded(inspectModel, report)));
  if (!testing) return undefined;
  return {
    notifications,
    panelState: () => ExplanationPanel.open?.state,
    panelMessage: (message) => ExplanationPanel.open?.receive(message),
    galleryState: () => GalleryPanel.open?.state,
  };
}

/** A command handler that reports its errors instead of throwing them into the extension host. */
function guarded<A extends unknown[], R>(handler: (...args: A) => Promise<R>, report: (e: unknown) => void): (...args: A) => Promise<R | undefined> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (e) {
      report(e);
      return undefined;
    }
  };
}

function asUri(v: unknown): vscode.Uri | undefined {
  return v instanceof vscode.Uri ? v : undefined;
}

/** The Explorer's two selected files, or else the two files the user picks. */
async function pickPair(clicked: unknown, selected: unknown): Promise<[vscode.Uri, vscode.Uri] | undefined> {
  const uris = Array.isArray(selected) ? selected.filter((v): v is vscode.Uri => v instanceof vscode.Uri) : undefined;
  const inExplorer = explorerSelection(asUri(clicked), uris);
  // The menu's `when` clause cannot count the selection: the count is checked here.
  if (inExplorer && inExplorer.length !== 2) throw new UsageError(`select exactly two images in the Explorer (${inExplorer.length} selected)`);
  const pair: [vscode.Uri, vscode.Uri] | undefined = inExplorer ? [inExplorer[0], inExplorer[1]] : await askForPair();
  for (const uri of pair ?? []) {
    if (uri.scheme !== 'file') throw new UsageError(`${uri.toString()}: only files on disk can be explained`);
    if (!isImagePath(uri.fsPath)) throw new UsageError(`${path.basename(uri.fsPath)} is not an image (expected ${IMAGE_EXTENSIONS.join(', ')})`);
  }
  return pair;
}

/** The settings' model or a model file the user picks; undefined when the user cancelled. */
async function pickModel(configured: ModelChoice, ignoredWorkspaceModel?: string): Promise<ModelChoice | undefined> {
  const ignored = ignoredWorkspaceModel ? ` (this workspace's "${ignoredWorkspaceModel}" is ignored: the workspace is not trusted)` : '';
  const settingsItem = { label: 'The model in the settings', description: (configured.model ?? 'the bundled model') + ignored };
  const fileItem = { label: 'An ONNX model file…', description: 'choose one' };
  const picked = await vscode.window.showQuickPick([settingsItem, fileItem], { title: 'xSSAB: Inspect Model' });
  if (picked === settingsItem) return configured;
  if (picked !== fileItem) return undefined;
  const files = await vscode.window.showOpenDialog({ title: 'xSSAB: the ONNX model to inspect', filters: { 'ONNX models': ['onnx'] }, openLabel: 'Inspect' });
  return files?.[0] && chosenModel(files[0]);
}

function chosenModel(file: vscode.Uri): ModelChoice {
  if (file.scheme !== 'file') throw new UsageError(`${file.toString()}: only files on disk can be inspected`);
  return { model: file.fsPath, origin: 'chosen file' };
}

/** The image in the active editor tab, if any: it becomes the first of the pair. */
function activeImage(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = input instanceof vscode.TabInputCustom || input instanceof vscode.TabInputText ? input.uri : undefined;
  return uri?.scheme === 'file' && isImagePath(uri.fsPath) ? uri : undefined;
}

async function askForPair(): Promise<[vscode.Uri, vscode.Uri] | undefined> {
  const first = activeImage();
  const open = (title: string, many: boolean, near?: vscode.Uri) =>
    vscode.window.showOpenDialog({ title, canSelectMany: many, filters: IMAGE_FILTERS, openLabel: 'Explain Match', defaultUri: near && vscode.Uri.joinPath(near, '..') });
  const secondTitle = (u: vscode.Uri) => `Explain Match: the image to compare with ${path.basename(u.fsPath)}`;
  const picked = first ? await open(secondTitle(first), false, first) : await open('Explain Match: choose two face images', true);
  if (!picked || picked.length === 0) return undefined;
  const files = first ? [first, ...picked] : picked;
  if (files.length === 1) {
    const second = await open(secondTitle(files[0]), false, files[0]);
    if (!second || second.length === 0) return undefined;
    files.push(second[0]);
  }
  if (files.length !== 2) throw new UsageError(`choose exactly two images (${files.length} were chosen)`);
  return [files[0], files[1]];
}
