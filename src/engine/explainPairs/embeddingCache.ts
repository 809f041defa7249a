// The scoring stage of explain-pairs: every distinct image (by content) is embedded once, and the
// unit embeddings are kept on disk, keyed by the model's content, its preprocessing and input size,
// and the image's content, so later runs, other lists and parallel shards reuse them. Entries are
// written whole (a temporary file renamed), so two shards writing one entry leave a valid entry.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Engine } from '../engine';
import { FaceError } from '../engine';
import { writeFileAtomic } from '../files';
import { POOL_MIN_FACES } from '../embedPool';
import { type RunProgress, progressOf } from '../runFiles';
import { ImageError, type RgbImage } from '../image';
import type { PreparedFace } from '../pair';

/** What scoring found for one image: its unit embedding, or why it has none. */
export type ImageEmbedding = Float32Array | { failed: string };

export interface EmbeddingStats {
  /** Distinct image contents of the list. */
  images: number;
  /** Of those, found in the cache. */
  hits: number;
  /** Embedded by this run. */
  embedded: number;
}

const sha256 = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/** The cache folder of one model as this engine runs it (content, preprocessing, input size). */
export function modelCacheDir(root: string, engine: Engine): string {
  const m = engine.model;
  return path.join(root, sha256(JSON.stringify({ version: 1, model: m.sha256, preprocessing: m.preprocessing, input: m.inputShape })).slice(0, 32));
}

function readEntry(file: string, size: number): Float32Array | undefined {
  if (!fs.existsSync(file)) return undefined;
  const bytes = fs.readFileSync(file);
  // A torn entry cannot happen (atomic writes), but an entry of another size is not this model's.
  if (bytes.length !== size * 4) return undefined;
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

/**
 * Unit embeddings of the images at `paths` (each decoded, detected and aligned as for explaining),
 * by path. `root` undefined keeps nothing on disk. An image whose face cannot be found or read
 * gets its failure instead (failures are not cached: a later run tries again).
 */
export async function embedImagesCached(
  engine: Engine,
  paths: readonly string[],
  root: string | undefined,
  batch: number,
  signal?: AbortSignal,
  /** After each chunk: the images embedded (cache hits aside) of those to embed. */
  onProgress?: (p: RunProgress) => void,
): Promise<{ embeddings: Map<string, ImageEmbedding>; stats: EmbeddingStats }> {
  const dir = root === undefined ? undefined : modelCacheDir(root, engine);
  const size = engine.model.embeddingSize;
  const contentOf = new Map<string, string>();
  const byContent = new Map<string, ImageEmbedding>();
  const missing = new Map<string, string>(); // content hash → one path holding it
  for (const p of new Set(paths)) {
    let content: string;
    try {
      content = sha256(fs.readFileSync(p));
    } catch {
      // A missing or unreadable file fails its pairs with the message explaining it would give.
      const face = await prepare(engine, p);
      contentOf.set(p, `unreadable:${p}`);
      byContent.set(`unreadable:${p}`, { failed: typeof face === 'string' ? face : `${p}: cannot be read` });
      continue;
    }
    contentOf.set(p, content);
    if (byContent.has(content) || missing.has(content)) continue;
    const cached = dir && readEntry(path.join(dir, content.slice(0, 2), `${content}.f32`), size);
    if (cached) byContent.set(content, cached);
    else missing.set(content, p);
  }
  const images = new Set(contentOf.values()).size;
  const hits = byContent.size - [...byContent.values()].filter((e) => !(e instanceof Float32Array)).length;
  const todo = [...missing.entries()];
  // Chunks big enough for the CPU's embedding workers (embedPool.ts), each next one decoded and
  // aligned while the last is embedded; of each face only its crop is kept.
  const chunk = Math.max(batch, POOL_MIN_FACES);
  const prepareChunk = (start: number) =>
    Promise.all(todo.slice(start, start + chunk).map(([content, p]) => prepare(engine, p).then((f) => [content, typeof f === 'string' ? f : { crop: f.crop }] as const)));
  const started = performance.now();
  let next = todo.length ? prepareChunk(0) : undefined;
  for (let start = 0; next; start += chunk) {
    const faces = await next;
    if (signal?.aborted) throw signal.reason;
    next = start + chunk < todo.length ? prepareChunk(start + chunk) : undefined;
    const ready = faces.filter((f): f is readonly [string, { crop: RgbImage }] => typeof f[1] !== 'string');
    const embedded = ready.length ? await engine.embedFaces(ready.map((f) => f[1]), batch) : [];
    for (const [content, f] of faces) if (typeof f === 'string') byContent.set(content, { failed: f });
    for (const [k, [content]] of ready.entries()) {
      byContent.set(content, embedded[k]);
      if (dir) {
        const file = path.join(dir, content.slice(0, 2), `${content}.f32`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        writeFileAtomic(file, Buffer.from(embedded[k].buffer, embedded[k].byteOffset, embedded[k].byteLength));
      }
    }
    const done = Math.min(start + chunk, todo.length);
    onProgress?.(progressOf('images', done, todo.length, done, started));
  }
  const embeddings = new Map([...contentOf].map(([p, content]) => [p, byContent.get(content)!]));
  return { embeddings, stats: { images, hits, embedded: todo.length } };
}

/** A face that cannot be found or read fails its pairs, not the run: its message instead. */
export async function prepare(engine: Engine, p: string): Promise<PreparedFace | string> {
  try {
    return await engine.prepareFace(p, p);
  } catch (e) {
    if (e instanceof FaceError || e instanceof ImageError) return e.message;
    throw e;
  }
}
