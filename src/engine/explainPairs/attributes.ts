// Attributes of the pairs of a list, for the fairness lens: the list's own attribute columns
// (pairList.ts), a per-image table joined by --attributes, or the image's folder (RFW style).
import * as fs from 'fs';
import * as path from 'path';
import { type ImagePair, type PairAttribute, PairListError } from '../pairList';
import { groupOf } from './fairness';

/** An attribute table: image path (absolute) → attribute → value. */
export type ImageAttributes = Map<string, Record<string, string>>;

/**
 * Reads `image,attr…` (comma or tab separated, `#` comments) with a header row naming the
 * attributes; image paths are relative to the table's folder.
 */
export function readImageAttributes(file: string): ImageAttributes {
  if (!fs.existsSync(file)) throw new PairListError(`${file}: attribute table not found`);
  const root = path.dirname(path.resolve(file));
  const table: ImageAttributes = new Map();
  let names: string[] | undefined;
  fs.readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      const fields = line.split(line.includes(',') ? /\s*,\s*/ : /\t/);
      const where = `${file}:${i + 1}`;
      if (!names) {
        if (fields.length < 2 || !/^(image|path|file)$/i.test(fields[0])) {
          throw new PairListError(`${where}: expected a header row "image,ATTRIBUTE…", got "${line}"`);
        }
        names = fields.slice(1);
        return;
      }
      if (fields.length !== names.length + 1) throw new PairListError(`${where}: ${fields.length} column(s) where the header names ${names.length + 1}`);
      const image = path.resolve(root, fields[0]);
      if (table.has(image)) throw new PairListError(`${where}: ${fields[0]} is already in the table`);
      table.set(image, Object.fromEntries(names.map((n, k) => [n, fields[k + 1]])));
    });
  if (!names || table.size === 0) throw new PairListError(`${file}: no images in the attribute table`);
  return table;
}

/** Adds each image's attributes from the table to its pairs, one value per side; every image must be in it. */
export function joinImageAttributes(pairs: readonly ImagePair[], table: ImageAttributes, tableFile: string): ImagePair[] {
  return pairs.map((pair, i) => {
    const [a, b] = [pair.a, pair.b].map((image) => {
      const values = table.get(image);
      if (!values) throw new PairListError(`${tableFile}: no row for ${image} (pair ${i + 1} of the list)`);
      return values;
    });
    const joined: Record<string, PairAttribute> = { ...pair.attributes };
    for (const name of Object.keys(a)) joined[name] = [a[name], b[name]];
    return { ...pair, attributes: joined };
  });
}

/**
 * RFW style: one folder per group. The first path component of each image, relative to `root`
 * (the list's folder), is its value of attribute `name`.
 */
export function folderAttribute(pairs: readonly ImagePair[], root: string, name: string): ImagePair[] {
  const group = (image: string, i: number) => {
    const parts = path.relative(root, image).split(path.sep);
    if (parts.length < 2 || parts[0] === '..') throw new PairListError(`pair ${i + 1}: ${image} is not in a group folder under ${root}`);
    return parts[0];
  };
  return pairs.map((pair, i) => ({ ...pair, attributes: { ...pair.attributes, [name]: [group(pair.a, i), group(pair.b, i)] } }));
}

/** The attributes every pair has, in the first pair's order. */
export function attributeNames(pairs: readonly ImagePair[]): string[] {
  const names = Object.keys(pairs[0]?.attributes ?? {});
  return names.filter((n) => pairs.every((p) => p.attributes && n in p.attributes));
}

/** Checks --by against the list's attributes. */
export function checkGroupBy(pairs: readonly ImagePair[], by: readonly string[]): void {
  const known = attributeNames(pairs);
  const unknown = by.filter((n) => !known.includes(n));
  if (unknown.length) {
    throw new PairListError(
      `--by ${unknown.join(',')}: no such attribute; ${known.length ? `the pairs have ${known.join(', ')}` : 'the pairs have none (give attribute columns with a header row, or --attributes FILE)'}`,
    );
  }
}

/** `--compare ATTR=X,ATTR=Y` as given: two values of one attribute. */
export interface CompareRequest {
  attribute: string;
  x: string;
  y: string;
}

/** Two groups of one attribute whose mean maps are subtracted: x minus y, named as the group table names groups (`gender=F/F`). */
export interface GroupCompare {
  attribute: string;
  x: string;
  y: string;
}

/** A comparison as --compare takes it: `gender=F/F,gender=M/M`. */
export const compareSpec = (c: GroupCompare) => `${c.x},${c.y}`;

/**
 * Checks --compare against --by and the pairs' values and names its groups; a per-image value
 * may be given in either order (`M/F` is the group `gender=F/M`).
 */
export function resolveCompare(pairs: readonly ImagePair[], by: readonly string[], request: CompareRequest): GroupCompare {
  const { attribute } = request;
  if (!by.includes(attribute)) throw new PairListError(`--compare ${attribute}=…: ${attribute} is not one of --by (${by.join(',') || 'none given'})`);
  const names = [...new Set(pairs.map((p) => groupOf(p.attributes!, [attribute]).name))].sort();
  const resolve = (value: string) => {
    const sides = value.split('/');
    const name = [value, ...(sides.length === 2 ? [[...sides].sort().join('/')] : [])].map((v) => `${attribute}=${v}`).find((n) => names.includes(n));
    if (!name) throw new PairListError(`--compare ${attribute}=${value}: no pair has it; the pairs have ${names.join(', ')}`);
    return name;
  };
  const [x, y] = [resolve(request.x), resolve(request.y)];
  if (x === y) throw new PairListError(`--compare: ${request.x} and ${request.y} are one group (${x}); name two groups`);
  return { attribute, x, y };
}

/** Where a run's pair attributes come from, besides the list's own columns. */
export interface AttributeSources {
  /** A per-image table (`image,attr…`). */
  attributes?: string;
  /** RFW style: the attribute named so is each image's group folder under the list's folder. */
  folderAttribute?: string;
  /** Attributes to group by: each must be known. */
  by?: readonly string[];
  /** Two groups of one --by attribute whose mean maps are subtracted. */
  compare?: CompareRequest;
}

/** The pairs with every attribute the sources give, checked against `by`. */
export function withAttributes(pairs: ImagePair[], listFile: string, sources: AttributeSources): ImagePair[] {
  let out = pairs;
  if (sources.attributes) out = joinImageAttributes(out, readImageAttributes(sources.attributes), sources.attributes);
  if (sources.folderAttribute) out = folderAttribute(out, path.dirname(path.resolve(listFile)), sources.folderAttribute);
  if (sources.by) checkGroupBy(out, sources.by);
  return out;
}
