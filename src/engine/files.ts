// The engine's file chores: whole-file atomic writes, and output folders that never take over a
// folder of the user's.
import * as crypto from 'crypto';
import * as fs from 'fs';
import { UserError } from '../shared/errors';

export class OutputError extends UserError {}

/** Writes a temporary file and renames it, so a reader never sees half a file. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  // Unique per writer, so writers of one file (shards sharing a cache) never share a temporary file.
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}

/**
 * A JSON file an xSSAB run wrote (its settings, summary, manifest): one cut short or edited by
 * hand is an OutputError that names it, not a parser's message.
 */
export function readJsonFile<T>(file: string): T {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new OutputError(`${file}: not valid JSON (${e instanceof Error ? e.message : e}); it was cut short or edited: restore it, or choose another output folder`);
  }
}

/**
 * Refuses to write into a folder that holds files of the user's: only an empty folder, a new one,
 * or one that already holds an xSSAB output (one of its `markers` files) is written to.
 */
export function prepareOutputDir(dir: string, markers: string | readonly string[] = 'result.json'): void {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new OutputError(`${dir}: exists and is not a folder`);
    const entries = fs.readdirSync(dir);
    const known: readonly string[] = typeof markers === 'string' ? [markers] : markers;
    if (entries.length > 0 && !entries.some((e) => known.includes(e))) {
      throw new OutputError(`${dir}: folder is not empty and holds no earlier xSSAB result; choose another --out`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
}
