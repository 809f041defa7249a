// Lists the native files (.node, .so, .dll, .dylib) of each .vsix and fails on a missing or a
// foreign one: every native file must be of the package's platform (its binary header's format
// and machine, and no other platform's folder in its path), and the target's onnxruntime-node and
// sharp binaries must all be there.
//   npx tsx scripts/check-vsix.ts [FILE.vsix …]     # default: every xssab-<target>.vsix at the root
import * as fs from 'fs';
import * as path from 'path';
import yauzl from 'yauzl';
import { TARGETS, type VsixTarget, vsixName } from './vsixTargets';

const MANIFEST = 'extension.vsixmanifest';
const NATIVE = /\.(node|dll|dylib|so)$|\.so\.\d+(\.\d+)*$/;

interface Entry {
  name: string;
  size: number;
  /** The first 64 KiB of a native file or of the manifest. */
  head?: Buffer;
}

/** The binary format and machine of a native file, from its header. */
export function binaryKind(head: Buffer): string {
  if (head.length >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    const machine = head.readUInt16LE(18);
    return `ELF ${({ 0x3e: 'x64', 0xb7: 'arm64', 0x03: 'x86', 0x28: 'arm' } as Record<number, string>)[machine] ?? `machine 0x${machine.toString(16)}`}`;
  }
  if (head.length >= 64 && head.readUInt16LE(0) === 0x5a4d) {
    const pe = head.readUInt32LE(0x3c);
    if (pe + 6 <= head.length && head.readUInt32LE(pe) === 0x4550) {
      const machine = head.readUInt16LE(pe + 4);
      return `PE ${({ 0x8664: 'x64', 0xaa64: 'arm64', 0x14c: 'x86' } as Record<number, string>)[machine] ?? `machine 0x${machine.toString(16)}`}`;
    }
  }
  if (head.length >= 8 && head.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = head.readUInt32LE(4);
    return `Mach-O ${({ 0x0100000c: 'arm64', 0x01000007: 'x64' } as Record<number, string>)[cpu] ?? `cpu 0x${cpu.toString(16)}`}`;
  }
  if (head.length >= 8 && head.readUInt32BE(0) === 0xcafebabe) return 'Mach-O universal';
  return 'unknown';
}

function readEntries(file: string): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`${file}: cannot open`));
      const entries: Entry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (e: yauzl.Entry) => {
        const entry: Entry = { name: e.fileName, size: e.uncompressedSize };
        entries.push(entry);
        if (!NATIVE.test(e.fileName) && e.fileName !== MANIFEST) return zip.readEntry();
        zip.openReadStream(e, (error, stream) => {
          if (error || !stream) return reject(error);
          const chunks: Buffer[] = [];
          let length = 0;
          stream.on('data', (c: Buffer) => {
            if (length < 65536) chunks.push(c);
            length += c.length;
          });
          stream.on('error', reject);
          stream.on('end', () => {
            entry.head = Buffer.concat(chunks).subarray(0, 65536);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** Path segments that name another platform's build (`linux/x64`, `sharp-win32-arm64`, `linuxmusl`, …). */
function foreignPlatform(name: string, t: VsixTarget): string | undefined {
  const napi = /\/napi-v\d+\/(\w+)\/(\w+)\//.exec(name);
  if (napi && (napi[1] !== t.os || napi[2] !== t.cpu)) return `${napi[1]}-${napi[2]}`;
  const img = /\/@img\/sharp-(?:libvips-)?([a-z]+\d*)-(\w+)\//.exec(name);
  if (img && `${img[1]}-${img[2]}` !== t.name) return `${img[1]}-${img[2]}`;
  return undefined;
}

/** What is wrong with the .vsix for target `t` (empty: nothing); prints its native files. */
export async function checkVsix(file: string, t: VsixTarget): Promise<string[]> {
  const entries = await readEntries(file);
  const problems: string[] = [];
  const manifest = entries.find((e) => e.name === MANIFEST)?.head?.toString('utf8');
  const platform = manifest && /TargetPlatform="([^"]*)"/.exec(manifest)?.[1];
  if (platform !== t.name) problems.push(`${MANIFEST} names target ${platform ?? '(none)'}, not ${t.name}`);
  const natives = entries.filter((e) => NATIVE.test(e.name));
  const expected = `${t.format} ${t.cpu}`;
  console.log(`${path.basename(file)} (${t.name}): ${natives.length} native files`);
  for (const e of natives) {
    const kind = binaryKind(e.head ?? Buffer.alloc(0));
    const foreign = foreignPlatform(e.name, t);
    console.log(`  ${kind.padEnd(12)} ${(e.size / 2 ** 20).toFixed(1).padStart(6)} MB  ${e.name}`);
    if (kind !== expected) problems.push(`${e.name}: ${kind}, not ${expected}`);
    if (foreign) problems.push(`${e.name}: a ${foreign} file in the ${t.name} package`);
  }
  for (const required of t.required) if (!natives.some((e) => required.test(e.name))) problems.push(`missing: ${required.source.slice(1, -1).replace(/\\/g, '')}`);
  return problems;
}

async function main(): Promise<number> {
  const root = path.resolve(__dirname, '..');
  const given = process.argv.slice(2);
  const files = given.length > 0 ? given : TARGETS.map((t) => path.join(root, vsixName(t))).filter((f) => fs.existsSync(f));
  if (files.length === 0) {
    console.error('check-vsix: no xssab-<target>.vsix at the repository root (npm run package:all builds them)');
    return 2;
  }
  let failed = 0;
  for (const file of files) {
    const t = TARGETS.find((x) => path.basename(file) === vsixName(x));
    if (!t) {
      console.error(`check-vsix: ${file}: not named xssab-<target>.vsix for a known target (${TARGETS.map((x) => x.name).join(', ')})`);
      failed++;
      continue;
    }
    const problems = await checkVsix(file, t);
    for (const p of problems) console.error(`  ${p}`);
    console.log(problems.length ? `${path.basename(file)}: FAILED (${problems.length} problems)` : `${path.basename(file)}: ok`);
    if (problems.length) failed++;
  }
  return failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`check-vsix: ${e instanceof Error ? e.message : e}`);
      process.exit(1);
    },
  );
}
