// The Patch-LFW builder (spec §4): the first image of every pair gets 27 patches of 16×16 px copied
// from the same place of a source image — the partner for impostor pairs (planted similarity),
// an image of another identity for genuine pairs (planted dissimilarity).
import * as fs from 'fs';
import * as path from 'path';
import type { PreparedFace } from '../pair';
import { type RgbImage, decodeImage, encodePng } from '../image';
import type { PairLabel } from '../../shared/pairListSummary';
import { NumpyRandomState } from '../numpyRandom';
import { Random } from '../random';
import { prepareOutputDir, readJsonFile, writeFileAtomic } from '../files';
import { type BenchImage, type BenchPair, LfwError, type ReferencePlacement } from './lfw';

export const PATCH_COUNT = 27;
export const PATCH_SIZE = 16;
export const MANIFEST = 'manifest.json';
/** Written before anything else, so a stopped build's folder is known as ours and can be rebuilt. */
export const BUILD_MARKER = 'build.json';

/** Patch k covers rows rows[k]−16 … rows[k]−1 and columns cols[k] … cols[k]+15. */
export interface PatchPlacement {
  rows: number[];
  cols: number[];
}

export interface ManifestImage {
  id: string;
  identity: string;
  /** The aligned crop, relative to the manifest's folder. */
  crop: string;
}

export interface ManifestPair extends PatchPlacement {
  index: number;
  label: PairLabel;
  a: ManifestImage;
  b: ManifestImage;
  source: ManifestImage;
  /** The patched first image, for looking at; the evaluation rebuilds it from the crops. */
  patched?: string;
}

export interface Manifest {
  version: 1;
  /** `mulberry32` with `seed`, or `reference` when the coordinates came from the reference's files. */
  generator: Generator;
  seed?: number;
  size: [height: number, width: number];
  patch: { count: number; size: number };
  pairs: ManifestPair[];
}

/** Like the reference: the 27 columns (0 … W−17) first, then the 27 bottom rows (16 … H−1). */
export function drawPatches(random: Random, height: number, width: number): PatchPlacement {
  const cols = Array.from({ length: PATCH_COUNT }, () => random.int(0, width - PATCH_SIZE - 1));
  const rows = Array.from({ length: PATCH_COUNT }, () => random.int(PATCH_SIZE, height - 1));
  return { rows, cols };
}

/** A copy of `target` with the patches copied in from the same places of `source`. */
export function applyPatches(target: RgbImage, source: RgbImage, placement: PatchPlacement): RgbImage {
  if (target.width !== source.width || target.height !== source.height) throw new Error('patch source and target differ in size');
  const data = target.data.slice();
  placement.rows.forEach((bottom, k) => {
    const left = placement.cols[k];
    if (bottom < PATCH_SIZE || bottom > target.height || left < 0 || left + PATCH_SIZE > target.width) {
      throw new LfwError(`patch ${k} (bottom row ${bottom}, column ${left}) lies outside the ${target.width}×${target.height} image`);
    }
    for (let y = bottom - PATCH_SIZE; y < bottom; y++) {
      const start = (y * target.width + left) * 3;
      data.set(source.data.subarray(start, start + PATCH_SIZE * 3), start);
    }
  });
  return { width: target.width, height: target.height, data };
}

/**
 * Where the coordinates come from: our per-build mulberry32 stream, numpy's legacy stream drawn as
 * the reference draws it, or the reference's coordinate files.
 */
export type Generator = 'mulberry32' | 'numpy' | 'reference';
export const RNGS = ['mulberry32', 'numpy'] as const;

export interface BuildOptions {
  pairs: readonly BenchPair[];
  out: string;
  seed?: number;
  /** The generator of the draws (default mulberry32); ignored with `reference`. */
  rng?: (typeof RNGS)[number];
  /** Coordinates (and genuine sources) from the reference's files, by pair index. */
  reference?: Map<number, ReferencePlacement>;
  /** Brings an image into the model's frame: Engine.prepareFace. */
  prepare: (source: string, label: string) => Promise<PreparedFace>;
  /** Write each patched first image as a PNG (default true). */
  writePatched?: boolean;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export const DEFAULT_SEED = 3;

/** Builds the set into `out`: crops/ (aligned crops), pairs/<index>/a_patched.png, manifest.json. */
export async function buildPatchedSet(options: BuildOptions): Promise<Manifest> {
  const { pairs, out } = options;
  const seed = options.seed ?? DEFAULT_SEED;
  const random = new Random(seed);
  const generator: Generator = options.reference ? 'reference' : (options.rng ?? 'mulberry32');
  let numpy: Map<number, Draw> | undefined;
  const images = [...new Map(pairs.flatMap((p) => [p.a, p.b]).map((im) => [im.path, im])).values()];
  prepareOutputDir(out, [BUILD_MARKER, MANIFEST]);
  // The build is deterministic: a stopped one is finished by running it again from the start.
  writeFileAtomic(path.join(out, BUILD_MARKER), JSON.stringify({ generator, seed, pairs: pairs.length }) + '\n');

  // Crops already in the model's frame are referenced where they are; others are aligned once.
  const crops = new Map<string, { crop: RgbImage; file: string }>();
  const cropOf = async (image: BenchImage) => {
    let entry = crops.get(image.path);
    if (!entry) {
      const face = await options.prepare(image.path, image.id);
      let file = image.path;
      if (face.info.alignment !== 'crop') {
        file = path.join(out, 'crops', `${image.id.replace(/[\\/]/g, '__')}.png`);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, await encodePng(face.crop.width, face.crop.height, 3, face.crop.data));
      }
      crops.set(image.path, (entry = { crop: face.crop, file }));
    }
    return entry;
  };
  const record = async (image: BenchImage): Promise<ManifestImage> => ({
    id: image.id,
    identity: image.identity,
    crop: path.relative(out, (await cropOf(image)).file).split(path.sep).join('/'),
  });

  const manifestPairs: ManifestPair[] = [];
  let size: [number, number] | undefined;
  for (const pair of pairs) {
    if (options.signal?.aborted) throw options.signal.reason;
    const a = await cropOf(pair.a);
    size ??= [a.crop.height, a.crop.width];
    let placement: PatchPlacement;
    let source: BenchImage;
    const ref = options.reference?.get(pair.index);
    if (options.reference) {
      if (!ref) throw new LfwError(`the reference coordinate files have no entry for pair ${pair.index} (${pair.a.id}, ${pair.b.id})`);
      placement = { rows: ref.rows, cols: ref.cols };
      source = pair.label === 'same' ? slotImage(pairs, ref.sourceSlot) : pair.b;
    } else if (generator === 'numpy') {
      // Its two passes draw for all pairs at once, once the frame's size is known.
      numpy ??= numpyDraws(pairs, seed, a.crop.height, a.crop.width);
      ({ placement, source } = numpy.get(pair.index)!);
    } else {
      placement = drawPatches(random, a.crop.height, a.crop.width);
      source = pair.label === 'same' ? otherIdentity(random, images, pair.a.identity) : pair.b;
    }
    if (pair.label === 'same' && source.identity === pair.a.identity) {
      throw new LfwError(`pair ${pair.index}: the patch source ${source.id} shows the same identity ${source.identity}`);
    }
    const entry: ManifestPair = { index: pair.index, label: pair.label, a: await record(pair.a), b: await record(pair.b), source: await record(source), ...placement };
    if (options.writePatched ?? true) {
      const patched = applyPatches(a.crop, (await cropOf(source)).crop, placement);
      entry.patched = `pairs/${pair.index}/a_patched.png`;
      fs.mkdirSync(path.join(out, 'pairs', String(pair.index)), { recursive: true });
      fs.writeFileSync(path.join(out, entry.patched), await encodePng(patched.width, patched.height, 3, patched.data));
    }
    manifestPairs.push(entry);
    options.onProgress?.(manifestPairs.length, pairs.length);
  }
  const manifest: Manifest = {
    version: 1,
    generator,
    ...(options.reference ? {} : { seed }),
    size: size ?? [0, 0],
    patch: { count: PATCH_COUNT, size: PATCH_SIZE },
    pairs: manifestPairs,
  };
  // One line per coordinate list keeps the manifest readable.
  const text = JSON.stringify(manifest, null, 1).replace(/\[[\d,\s]*\]/g, (list) => list.replace(/\s+/g, ''));
  writeFileAtomic(path.join(out, MANIFEST), text + '\n');
  return manifest;
}

/**
 * Genuine pairs take their patches from a uniformly drawn image of the set whose identity NAME
 * differs (the reference excludes by array position, which can pick the same person).
 */
function otherIdentity(random: Random, images: readonly BenchImage[], identity: string): BenchImage {
  const others = images.filter((im) => im.identity !== identity);
  if (others.length === 0) throw new LfwError(`no image of an identity other than ${identity} to take patches from`);
  return others[random.int(0, others.length - 1)];
}

interface Draw {
  placement: PatchPlacement;
  source: BenchImage;
}

/**
 * The reference's draws from numpy's legacy stream: seeded before the impostor pass, where each
 * impostor pair in file order draws 27 columns then 27 bottom rows, and seeded again before the
 * genuine pass, where each genuine pair draws its columns, its rows, then its patch source with
 * choice() among the image slots of other identities (slots in file order, two per pair).
 */
export function numpyDraws(pairs: readonly BenchPair[], seed: number, height: number, width: number): Map<number, Draw> {
  const draws = new Map<number, Draw>();
  const slots = pairs.flatMap((p) => [p.a, p.b]);
  for (const label of ['different', 'same'] as const) {
    const random = new NumpyRandomState(seed);
    for (const pair of pairs.filter((p) => p.label === label)) {
      const cols = random.randint(0, width - PATCH_SIZE, PATCH_COUNT);
      const rows = random.randint(PATCH_SIZE, height, PATCH_COUNT);
      let source = pair.b;
      if (label === 'same') {
        const others = slots.filter((im) => im.identity !== pair.a.identity);
        if (others.length === 0) throw new LfwError(`no image of an identity other than ${pair.a.identity} to take patches from`);
        [source] = random.choice(others, 1);
      }
      draws.set(pair.index, { placement: { rows, cols }, source });
    }
  }
  return draws;
}

function slotImage(pairs: readonly BenchPair[], slot: number | undefined): BenchImage {
  const pair = slot === undefined ? undefined : pairs[Math.floor(slot / 2)];
  if (!pair || slot === undefined) throw new LfwError(`reference source slot ${slot} lies outside the ${pairs.length * 2} image slots`);
  return slot % 2 === 0 ? pair.a : pair.b;
}

export interface PatchedPair {
  entry: ManifestPair;
  patched: RgbImage;
  original: RgbImage;
  b: RgbImage;
}

/** Reads a built set's manifest. */
export function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST);
  if (!fs.existsSync(file)) throw new LfwError(`${dir}: no ${MANIFEST} (build the set with "xssab patch-lfw build")`);
  const manifest = readJsonFile<Manifest>(file);
  if (manifest.version !== 1 || !Array.isArray(manifest.pairs)) throw new LfwError(`${file}: not a Patch-LFW manifest of version 1`);
  return manifest;
}

/** The images of one pair: the patched first image is rebuilt from the crops and coordinates. */
export async function loadPatchedPair(dir: string, entry: ManifestPair): Promise<PatchedPair> {
  const load = (im: ManifestImage) => decodeImage(path.resolve(dir, im.crop));
  const [original, b, source] = await Promise.all([load(entry.a), load(entry.b), load(entry.source)]);
  return { entry, original, b, patched: applyPatches(original, source, entry) };
}
