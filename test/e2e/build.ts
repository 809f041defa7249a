// What both end-to-end runners share: the compiled suite and the workspace the tests open.
import * as esbuild from 'esbuild';
import * as fs from 'fs';
import * as path from 'path';
import { GROUP_PHOTOS, NOTEBOOK, PAIR } from './pair';

export const repoRoot = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, 'fixtures', 'workspace');
export const suiteBundle = path.join(repoRoot, 'dist', 'test', 'e2e', 'suite', 'index.js');

/** Bundles the suite with the engine (used to compute expected scores); vscode and native modules stay external. */
export async function buildSuite(): Promise<void> {
  await esbuild.build({
    entryPoints: [path.join(__dirname, 'suite', 'index.ts')],
    outfile: suiteBundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: ['vscode', 'mocha', 'onnxruntime-node', 'sharp'],
    logLevel: 'warning',
  });
}

/**
 * Fills `dir` with the fixture files, the sample pair and two group photos (photos/), with the example notebook and the
 * aligned samples its cells name, and with Patch-Samples for the tasks (examples/,
 * samples/aligned/ and samples/patch-samples/, laid out as in the repository); the tests read only
 * the opened folder.
 */
export function prepareWorkspace(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(fixtures, dir, { recursive: true });
  for (const name of PAIR) fs.copyFileSync(path.join(repoRoot, 'samples', 'aligned', name), path.join(dir, name));
  fs.mkdirSync(path.join(dir, 'photos'));
  for (const name of GROUP_PHOTOS) fs.copyFileSync(path.join(repoRoot, 'samples', 'photos', name), path.join(dir, 'photos', name));
  fs.mkdirSync(path.join(dir, 'examples'));
  fs.copyFileSync(path.join(repoRoot, NOTEBOOK), path.join(dir, NOTEBOOK));
  fs.cpSync(path.join(repoRoot, 'samples', 'aligned'), path.join(dir, 'samples', 'aligned'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'samples', 'patch-samples'), path.join(dir, 'samples', 'patch-samples'), { recursive: true });
}
