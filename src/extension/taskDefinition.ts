// The vscode-free part of the `xssab` task: its definition (mirrors `contributes.taskDefinitions`
// in package.json), the CLI runs a definition turns into, the terminal's rendering of the CLI's
// progress, and the report page as the webview shows it. vscode is imported for types only, so
// this file runs in plain Node tests.
import * as path from 'path';
import type * as vscode from 'vscode';
import { PROGRESS_ENV } from '../cli/progress';
import type { RunProgress } from '../engine/runFiles';
import { cspMeta } from './webviewHtml';
import { UserError } from '../shared/errors';

export const TASK_TYPE = 'xssab';
export const TASK_COMMANDS = ['patch-lfw', 'patch-lfw-build', 'calibrate'] as const;
export type TaskCommand = (typeof TASK_COMMANDS)[number];

/** The properties of an `xssab` task in tasks.json; package.json describes each. */
export interface XssabTaskProperties {
  command: TaskCommand;
  /** A built Patch-LFW set (its folder holds manifest.json). */
  set?: string;
  /** An LFW root (`<Name>/<Name>_0001.jpg`); with it, `pairs` is a View-2 pairs.txt. */
  lfw?: string;
  /** pairs.txt with `lfw`, else a labelled pair list (a,b,same|different). */
  pairs?: string;
  out?: string;
  model?: string;
  methods?: string[];
  threshold?: number;
  /** `i/n`: this run's share of the pairs. */
  shard?: string;
  /** The reference code's DPR arithmetic (`--reference-compat`). */
  referenceCompat?: boolean;
}

export type XssabTaskDefinition = vscode.TaskDefinition & XssabTaskProperties;

/** Which properties each command takes; a property outside its list is refused (likely a typo). */
const USES: Record<TaskCommand, readonly (keyof XssabTaskProperties)[]> = {
  'patch-lfw': ['command', 'set', 'lfw', 'pairs', 'out', 'model', 'methods', 'threshold', 'shard', 'referenceCompat'],
  'patch-lfw-build': ['command', 'lfw', 'pairs', 'out', 'model'],
  calibrate: ['command', 'lfw', 'pairs', 'model'],
};

/** Every property name, checked by the compiler against the interface (and by a test against package.json). */
export const TASK_PROPERTIES: Record<keyof XssabTaskProperties, 'string' | 'number' | 'boolean' | 'string[]'> = {
  command: 'string',
  set: 'string',
  lfw: 'string',
  pairs: 'string',
  out: 'string',
  model: 'string',
  methods: 'string[]',
  threshold: 'number',
  shard: 'string',
  referenceCompat: 'boolean',
};

/** A definition that cannot run, or a report that cannot be shown: its message is shown in the task's terminal as it is. */
export class TaskError extends UserError {}

/** One run of the CLI (`dist/cli.js ARGS`). */
export interface CliStep {
  args: string[];
  /** When this file exists the step's output is already there, and the step is skipped. */
  doneWhen?: string;
}

export interface TaskPlan {
  steps: CliStep[];
  /** The folder whose report.html opens when all steps succeeded. */
  report?: string;
}

/** What the extension's settings add to a definition. */
export interface TaskDefaults {
  /** Absolute path of the settings' model; undefined = the bundled model. */
  model?: string;
  executionProvider: string;
  /** Pass --verbose: what each execution provider said when it could not be used. */
  verbose?: boolean;
}

/** Relative paths are taken from the task's workspace folder. */
export function resolvePath(value: string, base: string | undefined, name: string): string {
  if (path.isAbsolute(value)) return path.normalize(value);
  if (base === undefined) throw new TaskError(`"${name}": the relative path "${value}" needs an open workspace folder (or give an absolute path)`);
  return path.resolve(base, value);
}

function checkTypes(definition: Record<string, unknown>): XssabTaskProperties {
  const command = definition.command;
  if (!(TASK_COMMANDS as readonly unknown[]).includes(command)) {
    throw new TaskError(`"command" must be one of ${TASK_COMMANDS.join(', ')}${command === undefined ? '' : `, got ${JSON.stringify(command)}`}`);
  }
  const uses = USES[command as TaskCommand] as readonly string[];
  for (const [key, value] of Object.entries(definition)) {
    if (key === 'type' || value === undefined) continue;
    if (!uses.includes(key)) throw new TaskError(`"${key}" is not a property of the ${String(command)} task (it takes ${uses.join(', ')})`);
    const kind = TASK_PROPERTIES[key as keyof XssabTaskProperties];
    const ok =
      kind === 'string[]'
        ? Array.isArray(value) && value.every((v) => typeof v === 'string')
        : kind === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : kind === 'boolean'
            ? typeof value === 'boolean'
            : typeof value === 'string' && value.trim() !== '';
    const wanted = { 'string[]': 'a list of strings', number: 'a number', boolean: 'true or false', string: 'a non-empty string' }[kind];
    if (!ok) throw new TaskError(`"${key}" must be ${wanted}, got ${JSON.stringify(value)}`);
  }
  return definition as unknown as XssabTaskProperties;
}

/**
 * The CLI runs of a task. `patch-lfw` evaluates `set` into `out`; without `set` it first builds
 * the set from `pairs` (and `lfw`) into `out/set` (once) and evaluates into `out/results`.
 */
export function planTask(definition: Record<string, unknown>, base: string | undefined, defaults: TaskDefaults): TaskPlan {
  const d = checkTypes(definition);
  const at = (name: 'set' | 'lfw' | 'pairs' | 'out' | 'model') => {
    const value = d[name];
    return value === undefined ? undefined : resolvePath(value, base, name);
  };
  const missing = (name: string, why: string): never => {
    throw new TaskError(`the ${d.command} task needs "${name}" (${why})`);
  };
  const need = (name: 'set' | 'pairs' | 'out', why: string) => at(name) ?? missing(name, why);
  const model = at('model') ?? defaults.model;
  const engine = [...(model ? ['--model', model] : []), '--ep', defaults.executionProvider, ...(defaults.verbose ? ['--verbose'] : [])];
  const lfw = at('lfw');
  const pairsFrom = (pairs: string) => (lfw ? ['--lfw', lfw, '--pairs', pairs] : ['--list', pairs]);
  const build = (out: string): CliStep => ({
    args: ['patch-lfw', 'build', ...pairsFrom(need('pairs', 'pairs.txt with "lfw", or a pair list')), '--out', out, ...engine],
    doneWhen: path.join(out, 'manifest.json'),
  });
  const evaluate = (set: string, out: string): CliStep => ({
    args: [
      'patch-lfw', 'evaluate', '--set', set, '--out', out,
      ...(d.methods ? ['--methods', d.methods.join(',')] : []),
      ...(d.threshold === undefined ? [] : ['--threshold', String(d.threshold)]),
      ...(d.shard ? ['--shard', d.shard] : []),
      ...(d.referenceCompat ? ['--reference-compat'] : []),
      ...engine,
    ],
  });

  switch (d.command) {
    case 'patch-lfw': {
      const out = need('out', 'the folder of the results');
      const set = at('set');
      if (set) {
        if (d.pairs || lfw) throw new TaskError('give either "set" (a built set) or "pairs" (to build one), not both');
        return { steps: [evaluate(set, out)], report: out };
      }
      if (!d.pairs) missing('set', 'a built set, or "pairs" to build one');
      const built = path.join(out, 'set');
      const results = path.join(out, 'results');
      return { steps: [build(built), evaluate(built, results)], report: results };
    }
    case 'patch-lfw-build':
      return { steps: [build(need('out', 'the folder of the set'))] };
    case 'calibrate': {
      const pairs = need('pairs', 'pairs.txt with "lfw", or a labelled pair list');
      return { steps: [{ args: ['calibrate', ...(lfw ? ['--lfw', lfw] : []), pairs, ...engine] }] };
    }
  }
}

/**
 * The environment of the CLI run from the extension host: Electron's runtime acting as plain Node
 * (desktop VS Code), and progress lines written live for parseProgress.
 */
export function cliEnvironment(): NodeJS.ProcessEnv {
  return { ...process.env, ELECTRON_RUN_AS_NODE: '1', [PROGRESS_ENV]: 'live' };
}

/** A run's progress line, as the CLI writes it after a carriage return (runProgressText). */
const PROGRESS = /^(embedding )?(\d+)\/(\d+) (pairs|images), ([\d.]+) \4\/s, (\d+) s left\s*$/;

export type Progress = RunProgress;

export function parseProgress(line: string): Progress | undefined {
  const m = PROGRESS.exec(line);
  if (!m || (m[1] !== undefined) !== (m[4] === 'images')) return undefined;
  return { unit: m[4] as Progress['unit'], done: Number(m[2]), total: Number(m[3]), perSecond: Number(m[5]), secondsLeft: Number(m[6]) };
}

/** 75 → "1:15", 3725 → "1:02:05". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

export function formatProgress(p: Progress): string {
  const percent = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
  return `${p.unit === 'images' ? 'embedding ' : ''}${p.done}/${p.total} ${p.unit} (${percent}%) · ${p.perSecond.toFixed(2)} ${p.unit}/s · ${formatDuration(p.secondsLeft)} left`;
}

/**
 * Turns one output stream of the CLI into terminal text: line ends become CRLF (a pseudoterminal
 * does not translate them), and evaluation progress lines are rewritten in place. A progress
 * line is written whole after a carriage return, so a chunk ending in one is shown at once; any
 * other unfinished line waits for its end.
 */
export class TerminalText {
  private pending = '';

  push(chunk: string): string {
    const text = this.pending + chunk;
    const cut = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r')) + 1;
    const tail = text.slice(cut);
    const whole = PROGRESS.test(tail);
    this.pending = whole ? '' : tail;
    return render(whole ? text : text.slice(0, cut));
  }

  /** What is left when the stream ends. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return render(rest);
  }
}

function render(text: string): string {
  return text
    .split(/(\r\n|\n|\r)/)
    .map((part) => {
      if (part === '\n' || part === '\r\n') return '\r\n';
      const progress = parseProgress(part);
      // Clear the line: a rewritten progress line can be shorter than the one before.
      return progress ? `\x1b[2K${formatProgress(progress)}` : part;
    })
    .join('');
}

/** report.html for a webview: a Content-Security-Policy that allows no scripts and no remote content. */
export function reportForWebview(html: string, cspSource: string): string {
  const meta = cspMeta([`img-src ${cspSource} data:`, `style-src ${cspSource} 'unsafe-inline'`]);
  if (!/<head[^>]*>/i.test(html)) throw new TaskError('report.html has no <head>: not a report of this extension');
  return html.replace(/<head[^>]*>/i, (head) => `${head}${meta}`);
}
