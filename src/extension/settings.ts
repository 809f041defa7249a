// The extension's settings, resolved from a configuration that VS Code (or a test) provides.
// vscode is imported for types only, so this file runs in plain Node tests.
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';
// Types only from the engine: its runtime module loads onnxruntime, which belongs in the worker.
import type { ExecutionProviderChoice } from '../engine/runtime';
import { DEFAULT_RANGE_PERCENTILE } from '../shared/colour';
import { DEFAULT_OPACITY, MAP_CHOICES, type ViewPreferences } from '../shared/protocol';

export const SECTION = 'xssab';

export interface Settings {
  /** Absolute model path, or undefined for the bundled model. */
  model?: string;
  /** Where `model` came from, for the log: a model from workspace settings runs code the workspace chose. */
  modelSource: 'bundled' | 'user' | 'workspace';
  /** undefined = the model card's threshold. */
  threshold?: number;
  /** Pair lists: the threshold at this false match rate of the list's impostors (0 < rate < 1), instead of `threshold`. */
  pairListAtFmr?: number;
  /** As written in the settings; the worker checks it against the engine's providers. */
  executionProvider: ExecutionProviderChoice;
  /** `debug`: the log also gets what each execution provider said when it could not be used. */
  logLevel: 'info' | 'debug';
  /** Set when a workspace's model setting was ignored because the workspace is not trusted. */
  ignoredWorkspaceModel?: string;
  /** How the explanation panel starts. */
  view: Required<ViewPreferences>;
}


/** The part of vscode.WorkspaceConfiguration read here. */
export type ConfigSource = Pick<vscode.WorkspaceConfiguration, 'get' | 'inspect'>;

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

/**
 * Reads the settings. In an untrusted workspace, `xssab.model` is taken from the user's own
 * settings only: a workspace could otherwise point the extension at a model of its choosing.
 * Relative model paths resolve against `workspaceFolder` (user settings: against the home folder).
 */
export function resolveSettings(config: ConfigSource, trusted: boolean, workspaceFolder?: string): Settings {
  const model = config.inspect<string>('model');
  const workspaceModel = (model?.workspaceFolderValue || model?.workspaceValue || '').trim();
  const userModel = (model?.globalValue || '').trim();
  const useWorkspace = trusted && workspaceModel !== '';
  const chosen = useWorkspace ? workspaceModel : userModel;
  const base = useWorkspace && workspaceFolder ? workspaceFolder : os.homedir();

  const threshold = config.get<number | null>('threshold');
  const atFmr = config.get<number | null>('pairListAtFmr');
  const ep = config.get<string>('executionProvider');
  const map = config.get<string>('defaultMap');
  const opacity = config.get<number>('overlayOpacity');
  const colourRange = config.get<number>('colourRange');
  const smoothing = config.get<number>('displaySmoothing');
  const logLevel = config.get<string>('logLevel');
  return {
    model: chosen ? path.resolve(base, expandHome(chosen)) : undefined,
    modelSource: chosen ? (useWorkspace ? 'workspace' : 'user') : 'bundled',
    threshold: typeof threshold === 'number' && Number.isFinite(threshold) ? Math.min(1, Math.max(-1, threshold)) : undefined,
    ...(typeof atFmr === 'number' && atFmr > 0 && atFmr < 1 ? { pairListAtFmr: atFmr } : {}),
    executionProvider: (ep || 'auto') as ExecutionProviderChoice,
    logLevel: logLevel === 'debug' ? 'debug' : 'info',
    ignoredWorkspaceModel: !trusted && workspaceModel ? workspaceModel : undefined,
    view: {
      map: MAP_CHOICES.find((m) => m === map) ?? 'combined',
      opacity: typeof opacity === 'number' && opacity >= 0 && opacity <= 1 ? opacity : DEFAULT_OPACITY,
      colourRange: typeof colourRange === 'number' && colourRange >= 90 && colourRange <= 100 ? colourRange : DEFAULT_RANGE_PERCENTILE,
      smoothing: typeof smoothing === 'number' && smoothing >= 0 && smoothing <= 8 ? smoothing : 0,
    },
  };
}
