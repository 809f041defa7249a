// Benchmark inputs: LFW's folder layout and View-2 pairs.txt, our CSV pair lists, and the
// reference implementation's patch coordinate files.
import * as fs from 'fs';
import * as path from 'path';
import type { ImagePair } from '../pairList';
import type { PairLabel } from '../../shared/pairListSummary';
import { readPairList } from '../pairList';
import { UserError } from '../../shared/errors';

export class LfwError extends UserError {}

export interface BenchImage {
  /** Unique name of the image in the set, e.g. `Aaron_Peirsol_0001`. */
  id: string;
  identity: string;
  path: string;
}

export interface BenchPair {
  /** Position in the pair list, from 0. */
  index: number;
  label: PairLabel;
  a: BenchImage;
  b: BenchImage;
}

/** `<root>/<Name>/<Name>_0001.jpg`: LFW numbers the images of a person from 1, four digits. */
export function lfwImage(root: string, name: string, number: number): BenchImage {
  const id = `${name}_${String(number).padStart(4, '0')}`;
  return { id, identity: name, path: path.join(root, name, `${id}.jpg`) };
}

/**
 * Reads a View-2 pairs.txt: a first line `folds pairsPerFold` (`10 300`), then per fold
 * `pairsPerFold` genuine lines `Name i j` and as many impostor lines `Name1 i Name2 j`.
 */
export function readLfwPairs(root: string, pairsFile: string): BenchPair[] {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new LfwError(`${root}: LFW folder not found`);
  if (!fs.existsSync(pairsFile)) throw new LfwError(`${pairsFile}: pairs file not found`);
  const lines = fs.readFileSync(pairsFile, 'utf8').split(/\r?\n/);
  const header = lines[0].trim().split(/\s+/).map(Number);
  if (header.length !== 2 || !header.every((v) => Number.isInteger(v) && v > 0)) {
    throw new LfwError(`${pairsFile}:1: expected "folds pairs-per-fold" (e.g. "10 300"), got "${lines[0].trim()}"`);
  }
  const count = (field: string, line: number) => {
    const n = Number(field);
    if (!/^\d+$/.test(field) || n < 1) throw new LfwError(`${pairsFile}:${line}: "${field}" is not an image number (1, 2, …)`);
    return n;
  };
  const pairs: BenchPair[] = [];
  lines.slice(1).forEach((raw, i) => {
    const f = raw.trim().split(/\s+/);
    const line = i + 2;
    if (f.length === 1 && f[0] === '') return;
    const index = pairs.length;
    if (f.length === 3) pairs.push({ index, label: 'same', a: lfwImage(root, f[0], count(f[1], line)), b: lfwImage(root, f[0], count(f[2], line)) });
    else if (f.length === 4) pairs.push({ index, label: 'different', a: lfwImage(root, f[0], count(f[1], line)), b: lfwImage(root, f[2], count(f[3], line)) });
    else throw new LfwError(`${pairsFile}:${line}: expected "Name i j" or "Name1 i Name2 j", got "${raw.trim()}"`);
  });
  const [folds, perFold] = header;
  if (pairs.length !== folds * perFold * 2) {
    throw new LfwError(`${pairsFile}: the header announces ${folds}×2×${perFold} = ${folds * perFold * 2} pairs, the file has ${pairs.length}`);
  }
  return pairs;
}

/**
 * Pairs of a labelled CSV list (see pairList.ts). Its images carry no names, so an identity is a
 * group of images joined by genuine pairs: every image of a genuine pair shares its partner's
 * identity, and an image that is in no genuine pair is its own identity.
 */
export function readListPairs(file: string): BenchPair[] {
  const list = readPairList(file);
  const unlabelled = list.findIndex((p) => !p.label);
  if (unlabelled >= 0) throw new LfwError(`${file}: pair ${unlabelled + 1} has no same/different label`);
  const parent = new Map<string, string>();
  const find = (p: string): string => {
    const up = parent.get(p) ?? p;
    if (up === p) return p;
    const top = find(up);
    parent.set(p, top);
    return top;
  };
  for (const p of list) {
    // The group is named after its first member in sort order, so names do not depend on list order.
    const [x, y] = [find(p.a), find(p.b)].sort();
    if (p.label === 'same' && x !== y) parent.set(y, x);
  }
  // Names are file names without extension, or paths relative to the list where those clash.
  const root = path.dirname(path.resolve(file));
  const stem = (p: string) => path.basename(p, path.extname(p));
  const paths = [...new Set(list.flatMap((p) => [p.a, p.b]))];
  const clash = new Set(paths.map(stem)).size < paths.length;
  const name = (p: string) => (clash ? path.relative(root, p).replace(/\.[^./\\]+$/, '') : stem(p));
  const image = (p: string): BenchImage => ({ id: name(p), identity: name(find(p)), path: p });
  return list.map((p, index) => ({ index, label: p.label!, a: image(p.a), b: image(p.b) }));
}

/** Throws one error naming the first missing images, before any work starts. */
export function checkImagesExist(paths: readonly string[]): void {
  const missing = [...new Set(paths)].filter((p) => !fs.existsSync(p));
  if (missing.length) {
    throw new LfwError(`${missing.length} image(s) of the pair list not found: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`);
  }
}

/** LFW View-2 pairs as a labelled pair list (for calibrate and explain-pairs). */
export function lfwPairList(root: string, pairsFile: string): ImagePair[] {
  const pairs = readLfwPairs(root, pairsFile);
  checkImagesExist(pairs.flatMap((p) => [p.a.path, p.b.path]));
  return pairs.map((p) => ({ a: p.a.path, b: p.b.path, label: p.label }));
}

/** Patch coordinates of one pair from the reference's files: bottom rows and left columns. */
export interface ReferencePlacement {
  rows: number[];
  cols: number[];
  /** Genuine pairs: the image slot the patches come from. */
  sourceSlot?: number;
}

/**
 * Parses `patch_idx_imp.txt` (`id1, id2 \t [rows] \t [cols]`) or `patch_idx_gen.txt`
 * (`id1, id2 \t source_id \t [rows] \t [cols]`). The reference numbers the images by slot in
 * pairs.txt order from 0: pair k holds slots 2k and 2k+1, so id1 = 2k and id2 = 2k+1. A first
 * line naming the columns is skipped; a list may wrap over lines (numpy printing), and
 * `np.int64(5)` is read as 5. Returns the placements by pair index.
 */
export function parseReferenceFile(text: string, file: string, kind: 'impostor' | 'genuine'): Map<number, ReferencePlacement> {
  const records: { text: string; line: number }[] = [];
  let open = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (open > 0) records[records.length - 1].text += ' ' + raw;
    else if (raw.trim()) records.push({ text: raw, line: i + 1 });
    open += (raw.match(/\[/g)?.length ?? 0) - (raw.match(/\]/g)?.length ?? 0);
  });
  if (open !== 0) throw new LfwError(`${file}: unbalanced brackets at the end of the file`);
  const placements = new Map<number, ReferencePlacement>();
  for (const { text: record, line } of records) {
    if (/^\s*id1\b/.test(record)) continue;
    const where = `${file}:${line}`;
    const lists = [...record.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1].replace(/np\.\w+\(([^)]*)\)/g, '$1'));
    const head = record.slice(0, record.indexOf('[')).split(/[\s,]+/).filter(Boolean);
    const expected = kind === 'genuine' ? 3 : 2;
    if (lists.length !== 2 || head.length !== expected || !head.every((v) => /^\d+$/.test(v))) {
      throw new LfwError(`${where}: expected "id1, id2${kind === 'genuine' ? ' \\t source_id' : ''} \\t [rows] \\t [cols]", got "${record.trim().slice(0, 80)}"`);
    }
    const [id1, id2] = head.map(Number);
    if (id1 % 2 !== 0 || id2 !== id1 + 1) throw new LfwError(`${where}: ids ${id1}, ${id2} are not the two slots 2k, 2k+1 of one pair`);
    const [rows, cols] = lists.map((l) => l.split(/[\s,]+/).filter(Boolean).map(Number));
    if (rows.length !== cols.length || [...rows, ...cols].some((v) => !Number.isInteger(v))) {
      throw new LfwError(`${where}: the row and column lists must hold the same number of integers`);
    }
    const pair = id1 / 2;
    if (placements.has(pair)) throw new LfwError(`${where}: pair ${id1}, ${id2} is listed twice`);
    placements.set(pair, { rows, cols, ...(kind === 'genuine' ? { sourceSlot: Number(head[2]) } : {}) });
  }
  return placements;
}
