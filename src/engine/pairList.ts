// Lists of image pairs: CSV/text lines `a,b[,label]` with paths relative to the list's folder; with
// a header row, any further named column is an attribute of the pair (the fairness lens groups by
// them, explainPairs/attributes.ts).
import * as fs from 'fs';
import * as path from 'path';
import type { PairLabel } from '../shared/pairListSummary';
import { UserError } from '../shared/errors';

/** An attribute of the pair as a whole (a list column), or one value per side (`gender` F and M). */
export type PairAttribute = string | [string, string];

export interface ImagePair {
  a: string;
  b: string;
  label?: PairLabel;
  attributes?: Record<string, PairAttribute>;
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

const FIRST = /^(a|image_?a|first|p1)$/i;
const SECOND = /^(b|image_?b|second|p2)$/i;

/** Where a header row puts the images, the label and the attributes. */
interface Columns {
  a: number;
  b: number;
  label?: number;
  /** Attribute name → its column, or its two columns (`X1`, `X2`: one per side, BFW style). */
  attributes: [string, number | [number, number]][];
  width: number;
}

/** Columns named by a header row; undefined when the line is not one (it names no a and b). */
function headerColumns(fields: string[]): Columns | undefined {
  const a = fields.findIndex((f) => FIRST.test(f));
  const b = fields.findIndex((f) => SECOND.test(f));
  if (a < 0 || b < 0) return undefined;
  const label = fields.findIndex((f) => /^label$/i.test(f));
  const used = new Set([a, b, label]);
  const attributes: Columns['attributes'] = [];
  fields.forEach((name, i) => {
    if (used.has(i)) return;
    const side = name.match(/^(.+)1$/);
    const other = side ? fields.indexOf(`${side[1]}2`) : -1;
    if (side && other >= 0 && !used.has(other)) {
      attributes.push([side[1], [i, other]]);
      used.add(other);
    } else attributes.push([name, i]);
    used.add(i);
  });
  return { a, b, ...(label >= 0 ? { label } : {}), attributes, width: fields.length };
}

/**
 * Reads a pair list. Separators: comma, tab or whitespace; `#` starts a comment. A first line
 * naming the columns is a header: it must name the two images (a/b, image_a/image_b, first/second
 * or p1/p2), may name `label`, and every other column is an attribute of the pair; columns `X1`
 * and `X2` are one attribute X with a value per side. Without attribute columns a row is
 * `a,b[,label]`; with them every row has the header's columns.
 */
export function readPairList(file: string): ImagePair[] {
  if (!fs.existsSync(file)) throw new PairListError(`${file}: pair list not found`);
  const root = path.dirname(path.resolve(file));
  const { columns, rows } = listRows(fs.readFileSync(file, 'utf8'));
  const pairs = rows.map(({ fields, line, text }) => {
    const where = `${file}:${line}`;
    if (columns?.attributes.length) return attributedPair(root, where, fields, columns);
    if (fields.length < 2 || fields.length > 3) throw new PairListError(`${where}: expected "a,b[,label]", got "${text}"`);
    return { a: path.resolve(root, fields[0]), b: path.resolve(root, fields[1]), ...labelOf(where, fields[2]) };
  });
  if (pairs.length === 0) throw new PairListError(`${file}: no pairs in the list`);
  return pairs;
}

/**
 * A list's number of pairs and the attributes its header names, from its text alone (no path
 * is resolved, no row checked): what a dialog offers before the run reads the list.
 */
export function pairListOutline(text: string): { pairs: number; attributes: string[] } {
  const { columns, rows } = listRows(text);
  return { pairs: rows.length, attributes: columns?.attributes.map(([name]) => name) ?? [] };
}

/**
 * The list's header (its first row, when it names the columns) and its other rows split into
 * fields (comma-separated, else by whitespace), blank and comment-only lines left out.
 */
function listRows(text: string): { columns?: Columns; rows: { fields: string[]; line: number; text: string }[] } {
  const rows: { fields: string[]; line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line) rows.push({ fields: line.split(line.includes(',') ? /\s*,\s*/ : /\s+/), line: i + 1, text: line });
  });
  const columns = rows.length ? headerColumns(rows[0].fields) : undefined;
  return { columns, rows: columns ? rows.slice(1) : rows };
}

function labelOf(where: string, field: string | undefined): { label?: PairLabel } {
  if (field === undefined || field === '') return {};
  const label = LABELS[field.toLowerCase()];
  if (!label) throw new PairListError(`${where}: unknown label "${field}" (use same or different)`);
  return { label };
}

function attributedPair(root: string, where: string, fields: string[], columns: Columns): ImagePair {
  if (fields.length !== columns.width) {
    throw new PairListError(`${where}: ${fields.length} column(s) where the header names ${columns.width}`);
  }
  const attributes: Record<string, PairAttribute> = {};
  for (const [name, at] of columns.attributes) attributes[name] = typeof at === 'number' ? fields[at] : [fields[at[0]], fields[at[1]]];
  return {
    a: path.resolve(root, fields[columns.a]),
    b: path.resolve(root, fields[columns.b]),
    ...labelOf(where, columns.label === undefined ? undefined : fields[columns.label]),
    attributes,
  };
}
