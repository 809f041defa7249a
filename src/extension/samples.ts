// What "Try the Samples" copies out of the installed extension, and the task it adds. vscode-free:
// plain files, so the unit tests run it on temporary folders.
import * as fs from 'fs';
import * as path from 'path';
import type { TaskEntry } from './tasksJson';

/** The default folder's name, inside the workspace. */
export const SAMPLES_FOLDER = 'xssab-samples';

/**
 * Copied with the layout they have in the repository (and the .vsix), so the example notebook's
 * relative paths (`../samples/aligned/…`) and the pair lists' paths hold in the copy.
 */
export const SAMPLE_ENTRIES = ['samples/README.md', 'samples/pairs.csv', 'samples/aligned', 'samples/photos', 'samples/patch-samples', 'examples/explain.ipynb'] as const;

/** The pair "Try the Samples" explains first: two aligned crops of one man, the notebook's first pair. */
export const FIRST_PAIR = ['samples/aligned/man_01_face0.png', 'samples/aligned/man_02_face0.png'] as const;
export const NOTEBOOK = 'examples/explain.ipynb';
export const PATCH_SAMPLES_LABEL = 'Patch-Samples';

export interface CopyOutcome {
  /** Paths relative to the target, posix separators, sorted. */
  copied: string[];
  /** Files that were in the target already: left as they were. */
  kept: string[];
}

/** Every file under the sample entries of `root`, relative paths with posix separators. */
export function sampleFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (rel: string) => {
    const abs = path.join(root, rel);
    if (!fs.statSync(abs).isDirectory()) return void files.push(rel);
    for (const name of fs.readdirSync(abs).sort()) walk(`${rel}/${name}`);
  };
  for (const entry of SAMPLE_ENTRIES) walk(entry);
  return files;
}

/** Copies the samples of `root` into `target`; a file already there is never replaced. */
export function copySamples(root: string, target: string): CopyOutcome {
  const outcome: CopyOutcome = { copied: [], kept: [] };
  for (const rel of sampleFiles(root)) {
    const to = path.join(target, ...rel.split('/'));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    try {
      fs.copyFileSync(path.join(root, ...rel.split('/')), to, fs.constants.COPYFILE_EXCL);
      outcome.copied.push(rel);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      outcome.kept.push(rel);
    }
  }
  return outcome;
}

/**
 * A free name for a new samples folder in `parent`: xssab-samples, else xssab-samples-2, -3, …
 * ("a new folder": copying into an earlier copy would keep the user's edits but mix two copies).
 */
export function newSamplesFolder(parent: string): string {
  for (let n = 1; ; n++) {
    const candidate = path.join(parent, n === 1 ? SAMPLES_FOLDER : `${SAMPLES_FOLDER}-${n}`);
    if (!fs.existsSync(candidate)) return candidate;
  }
}

/**
 * The Patch-Samples task for samples copied into `target`, with paths relative to `base`, the
 * folder whose .vscode/tasks.json receives it (a task's relative paths are taken from there).
 * No problem matcher: the task prints progress, not compiler errors, and without the empty list
 * VS Code asks for one each time it runs.
 */
export function patchSamplesTask(base: string, target: string): TaskEntry {
  const rel = (...parts: string[]) => path.relative(base, path.join(target, ...parts)).split(path.sep).join('/');
  return { label: PATCH_SAMPLES_LABEL, type: 'xssab', command: 'patch-lfw', set: rel('samples', 'patch-samples'), out: rel('xssab-out', 'patch-samples'), problemMatcher: [] };
}
