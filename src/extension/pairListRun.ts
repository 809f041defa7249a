// "Explain Pair List" runs the bundled CLI (`dist/cli.js explain-pairs`) in a child process: the
// extension host's thread stays free, the run survives as files (a rerun resumes it), and
// cancelling is the CLI's own Ctrl+C (SIGINT: it stops between batches, keeping what is done).
// No vscode import, so it runs in plain Node tests.
import { type ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { readLens } from '../engine/explainPairs/lens';
import { compareSpec } from '../engine/explainPairs/attributes';
import { readJsonFile } from '../engine/files';
import type { RunSettings } from '../engine/explainPairs/store';
import type { ModelEntry } from '../shared/pairListSummary';
import { SETTINGS_FILE } from '../engine/explainPairs/summary';
import type { CancellationTokenLike } from '../shared/requests';
import { type Progress, cliEnvironment, parseProgress } from './taskDefinition';
import { UserError } from '../shared/errors';

export interface PairListJob {
  /** The bundled CLI, dist/cli.js. */
  cli: string;
  list: string;
  /** LFW's folder, when `list` is LFW's pairs.txt. */
  lfwRoot?: string;
  out: string;
  /** undefined = the bundled model. */
  model?: string;
  ep: string;
  /** Model A's threshold (--threshold), or the one at this FMR of the list's impostors (--at-fmr); neither: the model card's. */
  threshold?: number;
  atFmr?: number;
  /** Model B's, the same way. */
  thresholdB?: number;
  atFmrB?: number;
  /** Pass --verbose (the xssab.logLevel setting is `debug`). */
  verbose?: boolean;
  /** What is explained: all, errors, none or sample:N (--explain). */
  explain: string;
  /** The fairness lens: attributes of the list's columns (--by), and two groups to compare (ATTR=X,ATTR=Y). */
  by?: string[];
  compare?: string;
  /** A second model compared with the first on every pair (--model-b). */
  modelB?: string;
}

/** The selection, lens, second model and operating point of a run: what the user picks, or what the run a folder holds was started with. */
export type RunPlan = Pick<PairListJob, 'explain' | 'by' | 'compare' | 'modelB' | 'threshold' | 'atFmr' | 'thresholdB' | 'atFmrB'>;

/**
 * As with xssab.model: in a workspace that is not trusted, a run folder does not choose a model
 * that runs; only a model B the user picked (`picked`) is loaded.
 */
export function checkModelB(plan: RunPlan, picked: boolean, trusted: boolean): void {
  if (plan.modelB && !picked && !trusted) {
    throw new PairListRunError(`this workspace is not trusted: the run's model B ${plan.modelB} is not loaded (trust the workspace, or pick model B with "Compare Two Models on a Pair List")`);
  }
}

/**
 * A new run's operating point from the settings: at `atFmr` for both models when set, else model
 * A at `threshold` (B at its card's).
 */
export function settingsPoint(settings: { threshold?: number; pairListAtFmr?: number }, withModelB: boolean): Pick<RunPlan, 'threshold' | 'atFmr' | 'atFmrB'> {
  const atFmr = settings.pairListAtFmr;
  if (atFmr !== undefined) return { atFmr, ...(withModelB ? { atFmrB: atFmr } : {}) };
  return settings.threshold !== undefined ? { threshold: settings.threshold } : {};
}

/** Lists up to this many pairs are explained whole by default (about a minute on a laptop's CPU); longer ones: their errors. */
export const EXPLAIN_EVERY_PAIR_UP_TO = 300;

export const defaultExplain = (pairs: number) => (pairs <= EXPLAIN_EVERY_PAIR_UP_TO ? 'all' : 'errors');

/**
 * The plan of the run `out` holds, which a resume must repeat (the CLI refuses other settings);
 * undefined when it holds none. Its lens must come from the list's own columns (`attributes`):
 * one from an attribute table or group folders is the command line's to resume.
 */
export function resumedPlan(out: string, attributes: readonly string[]): RunPlan | undefined {
  const file = path.join(out, SETTINGS_FILE);
  if (!fs.existsSync(file)) return undefined;
  const settings = readJsonFile<RunSettings>(file);
  const lens = readLens(out);
  const outside = lens?.by.filter((a) => !attributes.includes(a)) ?? [];
  if (outside.length) {
    throw new PairListRunError(
      `${out}: its run groups pairs by ${outside.join(', ')}, which the list's columns do not give (xssab explain-pairs --attributes or --folder-attribute); resume it with the command that started it`,
    );
  }
  const [modelA, modelB] = ['model-a', 'model-b'].map((key) => settings.models?.find((m) => m.key === key));
  // A model's threshold as the run set it: given, at an FMR, or (nothing passed) its card's.
  const point = (m: ModelEntry | undefined, threshold: 'threshold' | 'thresholdB', atFmr: 'atFmr' | 'atFmrB') =>
    m?.thresholdSource === 'user' ? { [threshold]: m.threshold } : m?.thresholdSource === 'at FMR' ? { [atFmr]: m.atFmr } : {};
  return {
    explain: settings.explain ?? 'all',
    ...(lens ? { by: [...lens.by] } : {}),
    ...(lens?.compare ? { compare: compareSpec(lens.compare) } : {}),
    ...(modelB ? { modelB: modelB.path } : {}),
    ...point(modelA, 'threshold', 'atFmr'),
    ...point(modelB, 'thresholdB', 'atFmrB'),
  };
}

export interface PairListEvents {
  onProgress(progress: Progress): void;
  /** The CLI's output lines, for the log. */
  onLog(line: string): void;
}

/** The CLI failed; the message is its own, written for users. */
export class PairListRunError extends UserError {}

/** A stopped CLI gets this long to finish its batch before it is killed (a rerun still resumes). */
const STOP_GRACE_MS = 30_000;

/** `<list>.xssab` next to the list, the default output folder; `<list>.vs-<model B>.xssab` for a comparison. */
export const defaultOutput = (list: string, modelB?: string) => `${list}${modelB ? `.vs-${path.basename(modelB).replace(/\.onnx$/i, '')}` : ''}.xssab`;

/** LFW's pairs.txt starts with "folds pairs-per-fold" (e.g. "10 300"); our lists start with two paths. */
export function isLfwPairs(fileName: string, firstLine: string): boolean {
  return path.basename(fileName).toLowerCase() === 'pairs.txt' && /^\s*\d+\s+\d+\s*$/.test(firstLine);
}

export function cliArguments(job: PairListJob): string[] {
  return [
    job.cli,
    'explain-pairs',
    job.list,
    '--out',
    job.out,
    '--ep',
    job.ep,
    ...(job.lfwRoot ? ['--lfw', job.lfwRoot] : []),
    ...(job.model ? ['--model', job.model] : []),
    ...(job.modelB ? ['--model-b', job.modelB] : []),
    ...(job.threshold !== undefined ? ['--threshold', String(job.threshold)] : []),
    ...(job.atFmr !== undefined ? ['--at-fmr', String(job.atFmr)] : []),
    ...(job.thresholdB !== undefined ? ['--threshold-b', String(job.thresholdB)] : []),
    ...(job.atFmrB !== undefined ? ['--at-fmr-b', String(job.atFmrB)] : []),
    ...(job.verbose ? ['--verbose'] : []),
    '--explain',
    job.explain,
    ...(job.by?.length ? ['--by', job.by.join(',')] : []),
    ...(job.compare ? ['--compare', job.compare] : []),
  ];
}

/** What the CLI said went wrong: its `xssab: …` line without the prefix and the usage text after it. */
export function cliError(stderr: string, code: number | null): string {
  const line = stderr
    .split(/[\r\n]+/)
    .filter((l) => l.startsWith('xssab: ') && !l.startsWith('xssab: warning') && !l.startsWith('xssab: notice'))
    .pop();
  return line ? line.slice('xssab: '.length) : `explain-pairs stopped with exit code ${code}${stderr.trim() ? `: ${stderr.trim().slice(-500)}` : ''}`;
}

/**
 * The run folder a gallery showed, from the state its webview saved ({ out }) for VS Code to
 * restore the panel: an absolute path, else undefined (the state is data from a webview).
 */
export function restoredRunFolder(state: unknown): string | undefined {
  const out = typeof state === 'object' && state !== null ? (state as { out?: unknown }).out : undefined;
  return typeof out === 'string' && path.isAbsolute(out) ? out : undefined;
}

export type Spawn = (command: string, args: string[]) => ChildProcess;

/** The extension host's Node (Electron's, in desktop VS Code, told to act as Node). */
const spawnNode: Spawn = (command, args) => spawn(command, args, { env: cliEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs the job; resolves 'done', or 'cancelled' when the token stopped it; rejects with PairListRunError. */
export function runPairList(job: PairListJob, events: PairListEvents, token?: CancellationTokenLike, start: Spawn = spawnNode): Promise<'done' | 'cancelled'> {
  return new Promise((resolve, reject) => {
    const child = start(process.execPath, cliArguments(job));
    let stderr = '';
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = token?.onCancellationRequested(() => {
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    });
    // Progress lines (written whole after a carriage return) go to the notification, the rest to the log.
    const lines = (text: string) =>
      text.split(/[\r\n]+/).forEach((line) => {
        const progress = parseProgress(line);
        if (progress) events.onProgress(progress);
        else if (line.trim()) events.onLog(line);
      });
    child.stdout?.setEncoding('utf8').on('data', lines);
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-20_000);
      lines(text);
    });
    child.on('error', (e) => {
      stop?.dispose();
      reject(new PairListRunError(`could not start explain-pairs: ${e.message}`));
    });
    child.on('close', (code) => {
      stop?.dispose();
      clearTimeout(killTimer);
      if (token?.isCancellationRequested) resolve('cancelled');
      else if (code === 0) resolve('done');
      else reject(new PairListRunError(cliError(stderr, code)));
    });
  });
}
