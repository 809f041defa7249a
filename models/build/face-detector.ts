// Rebuilds models/face-detector.onnx and models/face-landmarks.onnx from the npm package
// faceplugin-face-recognition-js@0.0.1 (see models/face-detector.md).
//
//   npx tsx models/build/face-detector.ts [path/to/faceplugin-face-recognition-js-0.0.1.tgz]
//
// Without a tarball it runs `npm pack` in a temporary folder to fetch it from the registry.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

const PACKAGE = 'faceplugin-face-recognition-js@0.0.1';
const COPIES: [string, string][] = [
  ['package/model/fr_detect.onnx', 'face-detector.onnx'],
  ['package/model/fr_landmark.onnx', 'face-landmarks.onnx'],
];

function main(): void {
  const modelsDir = path.resolve(__dirname, '..');
  const work = mkdtempSync(path.join(os.tmpdir(), 'xssab-face-detector-'));
  try {
    const tarball = process.argv[2] ? path.resolve(process.argv[2]) : pack(work);
    const members = COPIES.map(([member]) => member);
    execFileSync('tar', ['-xzf', tarball, '-C', work, ...members], { stdio: 'inherit' });
    for (const [member, target] of COPIES) {
      const destination = path.join(modelsDir, target);
      copyFileSync(path.join(work, member), destination);
      const sha = createHash('sha256').update(readFileSync(destination)).digest('hex');
      console.log(`${sha}  models/${target}  (from ${member})`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function pack(dir: string): string {
  execFileSync('npm', ['pack', PACKAGE, '--silent'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${PACKAGE} produced no tarball`);
  return path.join(dir, tarball);
}

main();
