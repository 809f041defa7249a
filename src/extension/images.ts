// Which files "Explain Match" accepts. The Explorer menu's `when` clause in package.json lists
// the same extensions (a unit test keeps the two in step).
import * as path from 'path';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif', '.tif', '.tiff'] as const;

export function isImagePath(p: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(path.extname(p).toLowerCase());
}

/** Filters for the open dialog: one entry, extensions without dots. */
export const IMAGE_FILTERS = { Images: IMAGE_EXTENSIONS.map((e) => e.slice(1)) };

/**
 * The files an Explorer command acts on: VS Code passes the clicked file and the whole selection
 * (empty or absent without a multi-selection). Undefined when not run from the Explorer.
 */
export function explorerSelection<T>(clicked: T | undefined, selected: readonly T[] | undefined): T[] | undefined {
  if (selected && selected.length > 0) return [...selected];
  return clicked !== undefined ? [clicked] : undefined;
}

/**
 * The two image files of an explanation panel that VS Code restores after a reload, read from the
 * state its viewer saved ({ payload: { a: { path }, b: { path } } }). Undefined unless both are
 * absolute paths of images: the state is data from a webview, not trusted as it is.
 */
export function restoredPair(state: unknown): [string, string] | undefined {
  const field = (v: unknown, key: string): unknown => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined);
  const payload = field(state, 'payload');
  const paths = ['a', 'b'].map((side) => field(field(payload, side), 'path'));
  if (!paths.every((p): p is string => typeof p === 'string' && path.isAbsolute(p) && isImagePath(p))) return undefined;
  return [paths[0], paths[1]];
}
