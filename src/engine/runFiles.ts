// Files of long, resumable runs (the Patch-LFW evaluation, explained pair lists): whole-file
// atomic writes, and JSON-lines records of finished pairs that survive a killed run.
import * as fs from 'fs';
import * as path from 'path';
import { prepareOutputDir, readJsonFile, writeFileAtomic } from './files';
import { UserError } from '../shared/errors';

export class RecordsError extends UserError {}

/** How far a long run is: pairs explained or evaluated, or (explain-pairs' scoring stage) images embedded. */
export interface RunProgress {
  unit: 'pairs' | 'images';
  done: number;
  total: number;
  perSecond: number;
  secondsLeft: number;
}

/** Progress after `finished` of the `total` this run set out to do, since `started` (performance.now). */
export function progressOf(unit: RunProgress['unit'], done: number, total: number, finished: number, started: number): RunProgress {
  const perSecond = finished / ((performance.now() - started) / 1000);
  return { unit, done, total, perSecond, secondsLeft: (total - done) / perSecond };
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

/**
 * Runs (or resumes) the pairs `mine`, `step` at a time: the pairs already recorded in `file` are
 * skipped, and each step's records are appended as soon as `run` returns them, so a killed or
 * aborted run keeps what it finished; `committed` is told each step's records once they are in the
 * file. The signal is checked between steps. Returns all records of the file in index order.
 */
export async function runRecordedPairs<P extends { index: number }, R extends { index: number }>(
  file: string,
  mine: readonly P[],
  step: number,
  run: (pairs: P[]) => Promise<R[]>,
  hooks: { onProgress?: (p: RunProgress) => void; signal?: AbortSignal; committed?: (records: R[]) => void } = {},
): Promise<R[]> {
  const records = readIndexedRecords<R>(file);
  const done = new Set(records.map((r) => r.index));
  const todo = mine.filter((p) => !done.has(p.index));
  const started = performance.now();
  let finished = 0;
  for (let start = 0; start < todo.length; start += step) {
    if (hooks.signal?.aborted) throw hooks.signal.reason;
    const stepRecords = await run(todo.slice(start, start + step));
    fs.appendFileSync(file, stepRecords.map((r) => JSON.stringify(r) + '\n').join(''));
    hooks.committed?.(stepRecords);
    records.push(...stepRecords);
    finished += stepRecords.length;
    hooks.onProgress?.(progressOf('pairs', records.length, mine.length, finished, started));
  }
  return records.sort((a, b) => a.index - b.index);
}

/** What a sharded run keeps in its folder: its settings file (with the shard) and its records. */
export interface ShardedRunFiles<S> {
  settingsFile: string;
  recordsFile: string;
  /** The part of the settings every shard of one run shares (default: all but the shard). */
  common?: (settings: S) => unknown;
  /** The error thrown for unusable shard folders. */
  error: (message: string) => Error;
}

/**
 * Joins the shard folders of one run into `out` as one whole run: the settings (shard 1/1) and the
 * records of all shards in index order. Refuses folders without the settings file, settings that
 * differ between shards, and a pair recorded by two shards. `out` must be new or hold a run.
 * `shardOf` tells the folder each pair's record came from.
 */
export function mergeShardRecords<S extends { shard: { index: number; count: number } }, R extends { index: number }>(
  out: string,
  shardDirs: readonly string[],
  files: ShardedRunFiles<S>,
): { settings: S; records: R[]; shardOf: Map<number, string> } {
  if (shardDirs.length === 0) throw files.error('merge needs at least one shard folder');
  const common = files.common ?? ((s: S) => ({ ...s, shard: undefined }));
  const runs = shardDirs.map((dir) => {
    const file = path.join(dir, files.settingsFile);
    if (!fs.existsSync(file)) throw files.error(`${dir}: no ${files.settingsFile}, not an output folder of a run`);
    return { dir, settings: readJsonFile<S>(file), records: readIndexedRecords<R>(path.join(dir, files.recordsFile)) };
  });
  const key = (s: S) => JSON.stringify(common(s));
  for (const r of runs) {
    if (key(r.settings) !== key(runs[0].settings)) throw files.error(`${r.dir}: its run settings differ from those of ${runs[0].dir}`);
  }
  const records = runs.flatMap((r) => r.records).sort((a, b) => a.index - b.index);
  const duplicate = records.find((r, i) => i > 0 && records[i - 1].index === r.index);
  if (duplicate) throw files.error(`pair ${duplicate.index} appears in more than one shard`);
  const settings: S = { ...runs[0].settings, shard: { index: 1, count: 1 } };
  prepareOutputDir(out, files.settingsFile);
  writeFileAtomic(path.join(out, files.settingsFile), JSON.stringify(settings, null, 1) + '\n');
  writeFileAtomic(path.join(out, files.recordsFile), records.map((r) => JSON.stringify(r) + '\n').join(''));
  const shardOf = new Map(runs.flatMap((r) => r.records.map((record) => [record.index, r.dir] as const)));
  return { settings, records, shardOf };
}
