// The platforms a .vsix is built for, and what each one's native files must be: shared by the
// packaging script and the package check.

export interface VsixTarget {
  /** VS Code's name of the target platform (`vsce package --target`). */
  name: 'linux-x64' | 'linux-arm64' | 'win32-x64' | 'win32-arm64' | 'darwin-arm64';
  /** npm's `--os`, `--cpu` (and `--libc`) for installing the native modules of the target. */
  os: 'linux' | 'win32' | 'darwin';
  cpu: 'x64' | 'arm64';
  /** The binary format and machine every native file must have. */
  format: 'ELF' | 'PE' | 'Mach-O';
  /** Native files (paths inside the .vsix) that must be there. */
  required: RegExp[];
}

const ORT = 'extension/node_modules/onnxruntime-node/bin/napi-v6';
const IMG = 'extension/node_modules/@img';

function target(name: VsixTarget['name']): VsixTarget {
  const [os, cpu] = name.split('-') as [VsixTarget['os'], VsixTarget['cpu']];
  const format = os === 'linux' ? 'ELF' : os === 'win32' ? 'PE' : 'Mach-O';
  // The libraries the binding loads (on macOS @rpath/libonnxruntime.1.dylib).
  const library = os === 'linux' ? 'libonnxruntime\\.so\\.1' : os === 'win32' ? 'onnxruntime\\.dll' : 'libonnxruntime\\.1\\.dylib';
  // libvips is inside sharp's own package on Windows, in @img/sharp-libvips-<os>-<cpu> elsewhere.
  const vips = os === 'win32' ? `${IMG}/sharp-${name}/lib/libvips-[\\w.-]+\\.dll` : `${IMG}/sharp-libvips-${name}/lib/libvips-cpp\\.[\\w.]+`;
  const required = [`${ORT}/${os}/${cpu}/onnxruntime_binding\\.node`, `${ORT}/${os}/${cpu}/${library}`, `${IMG}/sharp-${name}/lib/sharp-${name}(-[\\d.]+)?\\.node`, vips];
  return { name, os, cpu, format, required: required.map((r) => new RegExp(`^${r}$`)) };
}

export const TARGETS: VsixTarget[] = (['linux-x64', 'linux-arm64', 'win32-x64', 'win32-arm64', 'darwin-arm64'] as const).map(target);

export const vsixName = (t: VsixTarget) => `xssab-${t.name}.vsix`;
