// Measurements kept on disk per model, so that a model is probed once rather than at every start
// (the probe of IResNet-100 costs ~4 s: a session and a forward run with every tensor an output):
// tensor shapes, and how the model runs batches (batch.ts). An entry that is missing, unreadable
// or does not fit the graph is measured anew.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { measureShapes } from './autodiff/graphInfo';
import { type Model, tensorDims } from './onnx/proto';
import { writeFileAtomic } from './files';

/** Bumped when what is stored changes meaning. */
const FORMAT = 1;

/**
 * The engine's cache folder: `XSSAB_CACHE_DIR` (empty: no cache), else the platform's per-user
 * cache folder.
 */
export function cacheDir(): string | undefined {
  const set = process.env.XSSAB_CACHE_DIR;
  if (set !== undefined) return set || undefined;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'xssab', 'Cache');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'xssab');
  return path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'xssab');
}

/**
 * Shapes of the graph's input and node outputs at batch 1, from the cache when it holds them for
 * this model (its content hash) and input, else measured and stored.
 */
export async function modelShapes(model: Model, input: string, modelSha256: string): Promise<Map<string, number[]>> {
  const file = entryFile('shapes', [FORMAT, modelSha256, input, inputDims(model, input)]);
  const names = tensorNames(model, input);
  const cached = file ? readShapes(file, model, names) : undefined;
  if (cached) return cached;
  const shapes = await measureShapes(model, input);
  if (file) store(file, Object.fromEntries([...shapes].filter(([name]) => names.has(name))));
  return shapes;
}

/** Bumped when the batch verdict's meaning or the measurement behind it changes. */
const BATCH_FORMAT = 2;

/**
 * The batch verdict of this model content with this input and output: from the cache when it
 * holds one that `valid` accepts, else measured and stored.
 */
export async function cachedVerdict<T>(model: Model, input: string, output: string, modelSha256: string, valid: (stored: unknown) => stored is T, measure: () => Promise<T>): Promise<T> {
  const file = entryFile('batch', [BATCH_FORMAT, modelSha256, input, output, inputDims(model, input)]);
  if (file) {
    try {
      const stored: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (valid(stored)) return stored;
    } catch {
      // Missing or unreadable: measured below.
    }
  }
  const verdict = await measure();
  if (file) store(file, verdict);
  return verdict;
}

const inputDims = (model: Model, input: string) => model.graph!.input?.find((v) => v.name === input)?.type?.tensorType?.shape?.dim?.map((d) => d.dimValue ?? d.dimParam);

/** The cache file of an entry of `kind` known by `key`, or undefined without a cache folder. */
function entryFile(kind: string, key: unknown[]): string | undefined {
  const dir = cacheDir();
  return dir ? path.join(dir, kind, `${crypto.createHash('sha256').update(JSON.stringify(key)).digest('hex')}.json`) : undefined;
}

function store(file: string, value: unknown): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(value));
  } catch {
    // A cache that cannot be written only costs the next start the measurement.
  }
}

/** The tensors the probe measures that the cache keeps: the input and every node output. */
function tensorNames(model: Model, input: string): Set<string> {
  const names = new Set([input]);
  for (const n of model.graph!.node ?? []) for (const o of n.output ?? []) if (o) names.add(o);
  return names;
}

/** The cached shapes with the initializers' own, or undefined unless every tensor is there as a list of sizes. */
function readShapes(file: string, model: Model, names: ReadonlySet<string>): Map<string, number[]> | undefined {
  let stored: unknown;
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof stored !== 'object' || stored === null) return undefined;
  const shapes = new Map<string, number[]>();
  for (const name of names) {
    const dims = Object.hasOwn(stored, name) ? (stored as Record<string, unknown>)[name] : undefined;
    if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) return undefined;
    shapes.set(name, dims);
  }
  for (const t of model.graph!.initializer ?? []) shapes.set(t.name ?? '', tensorDims(t));
  return shapes;
}
