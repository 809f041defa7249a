// Writes examples/explain.ipynb: a Jupyter notebook whose stored outputs hold both xSSAB MIME
// types, so it shows explanations in VS Code without a kernel. The explanation comes from the
// CLI (`xssab explain --mime`, run from examples/ as the cell's code would be); the request is
// answered by the extension when the notebook is opened. Runs after a build (dist/cli.js):
//
//   npm run build && npx tsx scripts/make-example-notebook.ts
//
// Everything but the explanation's timings is the same from run to run.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXPLANATION_MIME, type ExplanationPayload, REQUEST_MIME } from '../src/shared/result';

const root = path.resolve(__dirname, '..');
const examples = path.join(root, 'examples');
const cli = path.join(root, 'dist', 'cli.js');
// Paths as the cells name them: relative to the notebook's folder.
const EXPLAINED = ['../samples/aligned/man_01_face0.png', '../samples/aligned/man_02_face0.png'];
const REQUESTED = { a: '../samples/aligned/man_01_face0.png', b: '../samples/aligned/man_03_face0.png' };

/** Jupyter stores source as lines that keep their newlines. */
function lines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

function codeCell(id: string, count: number, source: string, data: Record<string, unknown>) {
  return { cell_type: 'code', id, execution_count: count, metadata: {}, source: lines(source), outputs: [{ output_type: 'display_data', data, metadata: {} }] };
}

function explain(): ExplanationPayload {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-example-'));
  try {
    const stdout = execFileSync(process.execPath, [cli, 'explain', ...EXPLAINED, '--mime', '--out', out], { cwd: examples, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const payload = JSON.parse(stdout)[EXPLANATION_MIME] as ExplanationPayload;
    // The bundled model's path as seen from the notebook, not from this machine.
    return { ...payload, model: { ...payload.model, path: path.relative(examples, payload.model.path) } };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function main(): void {
  if (!fs.existsSync(cli)) throw new Error(`${path.relative(root, cli)} is missing: run "npm run build" first`);
  fs.mkdirSync(examples, { recursive: true });
  // shutil.which finds the launcher on every platform (xssab.cmd on Windows, which a bare
  // "xssab" in subprocess.run would not); without one, the cell says how to get it.
  const explanationSource = [
    'import json, shutil, subprocess',
    'xssab = shutil.which("xssab")',
    'if xssab is None:',
    '    raise RuntimeError(\'xssab is not on PATH: run "xSSAB: Install the Command-Line Tool" in VS Code, or start Jupyter from a VS Code terminal\')',
    `out = subprocess.run([xssab, "explain", ${EXPLAINED.map((p) => JSON.stringify(p)).join(', ')}, "--mime"], capture_output=True, check=True).stdout`,
    'display(json.loads(out), raw=True)',
  ].join('\n');
  const requestSource = `display({${JSON.stringify(REQUEST_MIME)}: ${JSON.stringify(REQUESTED).replace(/,/g, ', ').replace(/:/g, ': ')}}, raw=True)`;
  const notebook = {
    cells: [
      {
        cell_type: 'markdown',
        id: 'intro',
        metadata: {},
        source: lines(
          '# xSSAB in a notebook\n\n' +
            'The first output is an explanation computed by the `xssab` command line (on PATH in VS Code\'s terminals; *xSSAB: Install the Command-Line Tool* puts it on the PATH of other shells); it shows without the extension host. ' +
            'The second output is a request: the xSSAB extension computes it when the notebook is opened ' +
            '(in an untrusted workspace, after you press **Run xSSAB**). Paths are relative to this notebook.',
        ),
      },
      codeCell('explanation', 1, explanationSource, { [EXPLANATION_MIME]: explain() }),
      codeCell('request', 2, requestSource, { [REQUEST_MIME]: REQUESTED }),
    ],
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const file = path.join(examples, 'explain.ipynb');
  fs.writeFileSync(file, JSON.stringify(notebook, null, 1) + '\n');
  console.log(`wrote ${path.relative(root, file)} (${(fs.statSync(file).size / 1024).toFixed(0)} KB)`);
}

main();
