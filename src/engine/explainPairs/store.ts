// The read side of an explain-pairs output folder: its summary, its settings, every per-pair
// record and the thumbnails of explained pairs. The gallery, the notebook output, the report and
// opening a pair read a run only through this, so the files behind it can change.
import * as fs from 'fs';
import * as path from 'path';
import type { MethodSetting } from '../methods/method';
import { SETTINGS_FILE, SUMMARY_FILE } from './summary';
import type { ModelEntry, PairListRecord, PairListSummary } from '../../shared/pairListSummary';
import { UserError } from '../../shared/errors';

export class ExplainPairsError extends UserError {}

export const RECORDS_FILE = 'pairs.jsonl';

/** Settings of a run, stored in explain-pairs.json: a resumed run must use the same. */
export interface RunSettings {
  version: 1;
  list: string;
  lfwRoot?: string;
  shard: { index: number; count: number };
  /** Pairs in the whole list. */
  pairs: number;
  models: ModelEntry[];
  /** Which pairs are explained (selectionSpec), when not all. */
  explain?: string;
  /** The explanation method with its parameters (explain-pairs runs xSSAB). */
  method: MethodSetting;
}

export interface RunStore {
  readonly out: string;
  /** summary.json. */
  readonly summary: PairListSummary;
  /** explain-pairs.json. */
  readonly settings: RunSettings;
  /** Every record, in list order (a merged run holds all shards'). */
  records(): PairListRecord[];
  /** The pair's thumbnail as PNG bytes; undefined for pairs that were not explained. */
  thumbnail(record: PairListRecord): Promise<Buffer | undefined>;
}

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** The complete lines of a JSON Lines file; a last line a running or killed writer left unfinished is not read (nor cut). */
export function completeLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

/** Opens a finished (or running) explain-pairs output folder for reading. */
export function openRunStore(out: string): RunStore {
  for (const file of [SETTINGS_FILE, SUMMARY_FILE]) {
    if (!fs.existsSync(path.join(out, file))) throw new ExplainPairsError(`${out}: no ${file}, not an explain-pairs output folder`);
  }
  const summary = readJson<PairListSummary>(path.join(out, SUMMARY_FILE));
  const settings = readJson<RunSettings>(path.join(out, SETTINGS_FILE));
  return {
    out,
    summary,
    settings,
    records: () => completeLines(path.join(out, RECORDS_FILE)).map((line) => JSON.parse(line) as PairListRecord).sort((a, b) => a.index - b.index),
    thumbnail: async (record) => (record.outcomes && !record.scoredOnly ? fs.promises.readFile(path.join(out, record.dir, 'thumb.png')) : undefined),
  };
}
