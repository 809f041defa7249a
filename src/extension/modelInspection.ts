// What the engine makes of the model the settings name (`xssab inspect`, run in the engine worker):
// when xssab.model changes, at activation when it is set, and on "xSSAB: Inspect Model". The
// report goes to the output channel; a model that cannot be explained (an op without a gradient
// rule, a file the engine cannot load or use) gets one notification with a button to the output.
// vscode is imported for types only: extension.ts passes the window in, so this runs in plain
// Node tests.
import * as path from 'path';
import type * as vscode from 'vscode';
import type { InspectJob, ModelInspection } from '../shared/protocol';
import { LatestRunner } from './latestRunner';
import type { Settings } from './settings';

export const SHOW_OUTPUT = 'Show Output';

/** Typing a path in the settings editor changes the setting at every pause: only the last is inspected. */
export const SETTING_DEBOUNCE_MS = 500;

/** What the extension provides to inspect models and report on them. */
export interface InspectionHost {
  inspect(job: InspectJob): PromiseLike<ModelInspection>;
  log: Pick<vscode.LogOutputChannel, 'info' | 'warn' | 'show'>;
  /** Shows a notification with buttons; resolves with the button pressed. */
  notify(level: 'error' | 'warning', message: string, ...buttons: string[]): PromiseLike<string | undefined>;
  /** The user's text for a failure; it is logged (unexpected ones in full). */
  failureText(error: unknown): string;
}

/** A model to inspect and, for the log and the notification, where it came from. */
export interface ModelChoice {
  /** Absolute path; undefined = the bundled model. */
  model?: string;
  /** "user settings", "workspace settings", "chosen file", "bundled". */
  origin: string;
}

export function settingsChoice(settings: Pick<Settings, 'model' | 'modelSource'>): ModelChoice {
  return { model: settings.model, origin: settings.modelSource === 'bundled' ? 'bundled' : `${settings.modelSource} settings` };
}

const modelName = (choice: ModelChoice) => (choice.model ? path.basename(choice.model) : 'the bundled model');

/**
 * Inspects one model and writes the report to the log; `reveal` shows the log (the command does).
 * A model that cannot be explained, or that the engine cannot read, gets one notification whose
 * button shows the log. Never throws: undefined when the inspection failed.
 */
export async function inspectAndReport(host: InspectionHost, choice: ModelChoice, reveal: boolean): Promise<ModelInspection | undefined> {
  const name = modelName(choice);
  host.log.info(`inspecting ${choice.model ?? name} (${choice.origin})`);
  if (reveal) host.log.show(true);
  let inspection: ModelInspection;
  try {
    inspection = await host.inspect({ model: choice.model });
  } catch (e) {
    const text = host.failureText(e);
    offerOutput(host, 'error', `xSSAB cannot use ${name} (${choice.origin}): ${text}`, reveal);
    return undefined;
  }
  host.log.info(inspection.lines.join('\n'));
  if (inspection.problem) {
    host.log.warn(`${name} cannot be explained: ${inspection.problem}`);
    offerOutput(host, 'warning', `xSSAB cannot explain with ${name} (${choice.origin}): ${inspection.problem}`, reveal);
  }
  return inspection;
}

/** One notification; its button shows the log unless the log is shown already. */
function offerOutput(host: InspectionHost, level: 'error' | 'warning', message: string, shown: boolean): void {
  const buttons = shown ? [] : [SHOW_OUTPUT];
  void Promise.resolve(host.notify(level, message, ...buttons)).then((pressed) => pressed === SHOW_OUTPUT && host.log.show(true));
}

/**
 * Inspects the settings' model whenever it changes (also through Restricted Mode: an ignored
 * workspace model does not change it). `changed()` is called at activation and on every change of
 * xssab.model or of the workspace's trust; at activation only a model that is set is inspected.
 */
export class ModelSettingWatcher {
  /** The model last seen; undefined = the bundled model. */
  private model?: string;
  private started = false;
  private readonly runner: LatestRunner<ModelChoice>;

  constructor(
    private readonly host: InspectionHost,
    private readonly settings: () => Pick<Settings, 'model' | 'modelSource'>,
    debounceMs = SETTING_DEBOUNCE_MS,
  ) {
    this.runner = new LatestRunner((choice) => inspectAndReport(host, choice, false).then(() => undefined), debounceMs);
  }

  changed(): void {
    const choice = settingsChoice(this.settings());
    const first = !this.started;
    this.started = true;
    if (!first && choice.model === this.model) return;
    this.model = choice.model;
    if (choice.model) this.runner.request(choice);
    else if (!first) {
      this.runner.dispose();
      this.host.log.info('xssab.model is empty: the bundled model is used');
    }
  }

  dispose(): void {
    this.runner.dispose();
  }
}
