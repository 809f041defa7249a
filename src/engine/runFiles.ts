// Files of long, resumable runs (the Patch-LFW evaluation, explained pair lists): whole-file
// atomic writes, and JSON-lines records of finished pairs that survive a killed run.
import * as fs from 'fs';

export class RecordsError extends Error {}

export interface RunProgress {
  done: number;
  total: number;
  pairsPerSecond: number;
  secondsLeft: number;
}

/** Writes a temporary file and renames it, so a reader never sees half a file. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}

/** Reads the finished pairs; a last line cut short by a killed run is dropped from the file. */
export function readIndexedRecords<T extends { index: number }>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  if (complete.length !== text.length) fs.truncateSync(file, Buffer.byteLength(complete));
  const seen = new Set<number>();
  return complete
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const r = JSON.parse(line) as T;
      if (seen.has(r.index)) throw new RecordsError(`${file}:${i + 1}: pair ${r.index} is recorded twice`);
      seen.add(r.index);
      return r;
    });
}
