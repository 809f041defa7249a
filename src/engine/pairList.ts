// Lists of image pairs: CSV/text lines `a,b[,label]` with paths relative to the list's folder.
import * as fs from 'fs';
import * as path from 'path';
import type { PairLabel } from '../shared/pairListSummary';
import { UserError } from '../shared/errors';

export interface ImagePair {
  a: string;
  b: string;
  label?: PairLabel;
}

export class PairListError extends UserError {}

const LABELS: Record<string, PairLabel> = {
  same: 'same',
  genuine: 'same',
  match: 'same',
  '1': 'same',
  true: 'same',
  different: 'different',
  impostor: 'different',
  'non-match': 'different',
  '0': 'different',
  false: 'different',
};

/**
 * Reads a pair list. Separators: comma, tab or whitespace; `#` starts a comment; a first line
 * naming the columns (a,b,label) is skipped.
 */
export function readPairList(file: string): ImagePair[] {
  if (!fs.existsSync(file)) throw new PairListError(`${file}: pair list not found`);
  const root = path.dirname(path.resolve(file));
  const pairs: ImagePair[] = [];
  fs.readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const fields = line.split(line.includes(',') ? /\s*,\s*/ : /\s+/);
      if (pairs.length === 0 && /^(a|image_?a|first)$/i.test(fields[0]) && /^(b|image_?b|second)$/i.test(fields[1])) return;
      if (fields.length < 2 || fields.length > 3) throw new PairListError(`${file}:${i + 1}: expected "a,b[,label]", got "${line}"`);
      const pair: ImagePair = { a: path.resolve(root, fields[0]), b: path.resolve(root, fields[1]) };
      if (fields.length === 3) {
        const label = LABELS[fields[2].toLowerCase()];
        if (!label) throw new PairListError(`${file}:${i + 1}: unknown label "${fields[2]}" (use same or different)`);
        pair.label = label;
      }
      pairs.push(pair);
    });
  if (pairs.length === 0) throw new PairListError(`${file}: no pairs in the list`);
  return pairs;
}
