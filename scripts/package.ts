// Builds one .vsix per target platform at the repository root (xssab-<target>.vsix), each with
// that platform's onnxruntime-node and sharp binaries only, then checks each with check-vsix.
//   npx tsx scripts/package.ts                 # all five targets (npm run package:all)
//   npx tsx scripts/package.ts linux-x64 …     # only these
// The native modules are installed by npm for the target (--os/--cpu/--libc) into a staging copy
// of the extension, never into this checkout's node_modules; the bundles are built once.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkVsix } from './check-vsix';
import { TARGETS, type VsixTarget, vsixName } from './vsixTargets';

const root = path.resolve(__dirname, '..');
/** The modules that stay outside the bundles (esbuild.js) and so must be in the package. */
const NATIVE = ['onnxruntime-node', 'sharp'];
/** What the staging copy needs of the checkout; .vscodeignore then picks the files. */
const COPIED = ['README.md', 'CHANGELOG.md', '.vscodeignore', '.npmrc', 'dist', 'models', 'samples', 'examples', 'media'];

function installedVersion(name: string): string {
  return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** The manifest without what packaging needs no more: the dependencies are the native modules, at the versions this checkout runs. */
function stagedManifest(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  manifest.dependencies = Object.fromEntries(NATIVE.map((n) => [n, installedVersion(n)]));
  delete manifest.devDependencies;
  delete manifest.scripts;
  return JSON.stringify(manifest, null, 2) + '\n';
}

/** .vscodeignore lets one onnxruntime-node platform folder through: the target's. */
function stagedIgnore(text: string, t: VsixTarget): string {
  const line = '!node_modules/onnxruntime-node/bin/napi-v6/linux/x64/**';
  if (!text.includes(line)) throw new Error(`.vscodeignore has no line ${line}`);
  return text.replace(line, `!node_modules/onnxruntime-node/bin/napi-v6/${t.os}/${t.cpu}/**`);
}

function packageTarget(t: VsixTarget, manifest: string): string {
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), `xssab-package-${t.name}-`));
  try {
    for (const entry of COPIED) if (fs.existsSync(path.join(root, entry))) fs.cpSync(path.join(root, entry), path.join(stage, entry), { recursive: true });
    fs.writeFileSync(path.join(stage, 'package.json'), manifest);
    fs.writeFileSync(path.join(stage, '.vscodeignore'), stagedIgnore(fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8'), t));
    const libc = t.os === 'linux' ? ['--libc=glibc'] : [];
    // No install scripts: onnxruntime-node's only downloads CUDA libraries (skipped anyway).
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=dev', '--prefer-offline', `--os=${t.os}`, `--cpu=${t.cpu}`, ...libc], { cwd: stage, stdio: ['ignore', 'ignore', 'inherit'] });
    // The tarball holds the macOS library twice; the binding loads libonnxruntime.1.dylib only.
    const ortBin = path.join(stage, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', t.os, t.cpu);
    for (const f of fs.readdirSync(ortBin).filter((n) => /^libonnxruntime\.1\.\d+\.\d+\.dylib$/.test(n))) fs.rmSync(path.join(ortBin, f));
    const out = path.join(root, vsixName(t));
    // VS Code's extension page loads README images only from https URLs (it drops relative and data:
    // sources; its CSP allows img-src https:). XSSAB_BASE_IMAGES_URL, the https address the
    // repository's files are served from, has vsce rewrite the relative image links to it; without it
    // they stay relative (shown by GitHub and editors, not by the extension page).
    const imagesUrl = process.env.XSSAB_BASE_IMAGES_URL;
    const links = imagesUrl ? ['--baseImagesUrl', imagesUrl] : ['--no-rewrite-relative-links'];
    execFileSync(process.execPath, [path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', t.name, '--skip-license', '--allow-missing-repository', ...links, '--out', out], { cwd: stage, stdio: 'inherit' });
    return out;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !TARGETS.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`package: unknown target ${unknown.join(', ')} (targets: ${TARGETS.map((t) => t.name).join(', ')})`);
    return 2;
  }
  const targets = names.length > 0 ? TARGETS.filter((t) => names.includes(t.name)) : TARGETS;
  execFileSync(process.execPath, [path.join(root, 'esbuild.js'), '--production'], { cwd: root, stdio: 'inherit' });
  const manifest = stagedManifest();
  let failed = 0;
  for (const t of targets) {
    const started = Date.now();
    const vsix = packageTarget(t, manifest);
    const problems = await checkVsix(vsix, t);
    console.log(`${path.basename(vsix)}: ${(fs.statSync(vsix).size / 2 ** 20).toFixed(1)} MB, ${((Date.now() - started) / 1000).toFixed(0)} s${problems.length ? '' : ', native files check out'}`);
    for (const p of problems) console.error(`  ${p}`);
    if (problems.length) failed++;
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`package: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  },
);
