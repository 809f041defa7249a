// Measured tensor shapes kept on disk per model, so that a model is probed once rather than at
// every start (the probe of IResNet-100 costs ~4 s: a session and a forward run with every tensor
// an output). A cache entry that is missing, unreadable or does not fit the graph is measured anew.
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
  const dir = cacheDir();
  const inputDims = model.graph!.input?.find((v) => v.name === input)?.type?.tensorType?.shape?.dim?.map((d) => d.dimValue ?? d.dimParam);
  const key = crypto.createHash('sha256').update(JSON.stringify([FORMAT, modelSha256, input, inputDims])).digest('hex');
  const file = dir ? path.join(dir, 'shapes', `${key}.json`) : undefined;
  const names = tensorNames(model, input);
  const cached = file ? readShapes(file, model, names) : undefined;
  if (cached) return cached;
  const shapes = await measureShapes(model, input);
  if (file) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      writeFileAtomic(file, JSON.stringify(Object.fromEntries([...shapes].filter(([name]) => names.has(name)))));
    } catch {
      // A cache that cannot be written only costs the next start the probe.
    }
  }
  return shapes;
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
