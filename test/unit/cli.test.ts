// The command line, run as a user runs it: exit status, messages, files written.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataType, encodeModel } from '../../src/engine/onnx/proto';
import { Net } from './gradcheck';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'cli.js');
const crop = (name: string) => path.join(root, 'samples', 'aligned', name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-cli-'));

function run(...args: string[]) {
  return runWith({}, ...args);
}

function runWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertCleanError(r: ReturnType<typeof run>, message: RegExp) {
  assert.notStrictEqual(r.status, 0, 'exit status must be non-zero');
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('xssab CLI', function () {
  this.timeout(120000);
  before(() => {
    const build = spawnSync(process.execPath, [path.join(root, 'esbuild.js')], { cwd: root, encoding: 'utf8' });
    assert.strictEqual(build.status, 0, build.stderr);
  });

  it('--ep auto without a Vulkan driver: one line says where it runs and why, no native load message reaches stderr', () => {
    // VK_ICD_FILENAMES pointing nowhere: the Vulkan loader finds no driver, as on a machine without one.
    const noVulkan = { VK_ICD_FILENAMES: path.join(tmp, 'no-such-icd.json') };
    const pair = [crop('man_01_face0.png'), crop('man_05_face0.png'), '--ep', 'auto', '--json'];
    const r = runWith(noVulkan, 'explain', ...pair, '--out', path.join(tmp, 'auto'));
    assert.strictEqual(r.status, 0, r.stderr);
    const ep = JSON.parse(r.stdout).ep;
    const lines = r.stderr.split('\n').filter(Boolean);
    if (ep === 'cpu') assert.match(lines[0] ?? '', /^xssab: notice: running on the CPU \((no CUDA libraries, )?no Vulkan driver\)$/);
    else assert.strictEqual(ep, 'cuda'); // a machine with onnxruntime's CUDA libraries and a GPU
    assert.deepStrictEqual(lines.slice(ep === 'cpu' ? 1 : 0), [], 'nothing else on stderr');

    // --verbose adds what onnxruntime and the Vulkan loader said, each line marked.
    const verbose = runWith(noVulkan, 'explain', ...pair, '--out', path.join(tmp, 'auto-verbose'), '--verbose');
    assert.strictEqual(verbose.status, 0, verbose.stderr);
    if (ep === 'cpu') {
      const [notice, ...debug] = verbose.stderr.split('\n').filter(Boolean);
      assert.strictEqual(notice, lines[0]);
      assert.ok(debug.length > 0 && debug.every((l) => l.startsWith('xssab: debug: ')), verbose.stderr);
      assert.match(verbose.stderr, /xssab: debug: webgpu: .*No supported adapters/);
      assert.match(verbose.stderr, /vkCreateInstance|Found no drivers/);
    }
  });

  it('a run onnxruntime fails: one readable line, no native "E" log line; --verbose adds what onnxruntime said', () => {
    // Loads, is measured and passes the batch check (faces of mean ≥ −0.2), then fails on a pair
    // this dark: its Reshape target becomes [N, 5, −1], which 3·112·112 values do not fill.
    const net = new Net([1, 3, 112, 112], 13);
    const { b } = net;
    const batch = b.op('Slice', [b.op('Shape', ['x']), b.ints([0]), b.ints([1])]);
    const dark = b.op('Cast', [b.op('Less', [b.op('ReduceMean', ['x'], { keepdims: 0 }), b.scalar(-0.2)])], { to: DataType.INT64 });
    const channels = b.op('Add', [b.op('Mul', [b.op('Reshape', [dark, b.ints([1])]), b.ints([4])]), b.ints([1])]);
    const reshaped = b.op('Reshape', ['x', b.op('Concat', [batch, channels, b.ints([-1])], { axis: 0 })]);
    const file = path.join(tmp, 'fails-dark.onnx');
    fs.writeFileSync(file, encodeModel(net.model(b.op('Flatten', [reshaped], { axis: 1 }))));
    fs.writeFileSync(path.join(tmp, 'fails-dark.card.json'), JSON.stringify({ name: 'fails', channelOrder: 'RGB', mean: 127.5, std: 127.5, threshold: 0.3 }));
    const pair = [crop('man_01_face0.png'), crop('sample1_face0.png'), '--model', file];
    const r = run('explain', ...pair, '--out', path.join(tmp, 'fails'));
    assertCleanError(r, /^xssab: onnxruntime could not run the model: its Reshape node "net\/Reshape_node_\d+" failed: The input tensor cannot be reshaped to the requested shape\. Input shape:\{2,3,112,112\}, requested shape:\{2,5,-1\}$/m);
    assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\[E:onnxruntime|\x1b\[/, 'no native log line');

    const verbose = run('explain', ...pair, '--out', path.join(tmp, 'fails-verbose'), '--verbose');
    const [line, ...debug] = verbose.stderr.trim().split('\n');
    assert.strictEqual(line, r.stderr.trim());
    assert.match(debug.join('\n'), /^xssab: debug: Non-zero status code returned while running Reshape node\. .*reshape_helper\.h/);
    assert.doesNotMatch(verbose.stderr, /\[E:onnxruntime|\x1b\[/);
  });

  it('explain-pairs says which model and execution provider it runs on', () => {
    const list = path.join(tmp, 'two.csv');
    fs.writeFileSync(list, `${crop('man_01_face0.png')},${crop('man_05_face0.png')},same\n${crop('sample1_face0.png')},${crop('sample4_face0.png')},different\n`);
    const r = run('explain-pairs', list, '--out', path.join(tmp, 'two'), '--ep', 'cpu');
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stderr, /^model MobileFaceNet \(sirius, 192-d\), execution provider cpu$/m);
  });

  it('explains a pair: result.json, six .npy maps of shape (112, 112), overlays and report', () => {
    const out = path.join(tmp, 'pair');
    const r = run('explain', crop('man_01_face0.png'), crop('man_05_face0.png'), '--out', out, '--json');
    assert.strictEqual(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8')), result);
    assert.strictEqual(result.decision, result.score >= result.threshold ? 'match' : 'no match');
    assert.ok(Math.abs(result.split.supporting.sum + result.split.opposing.sum - result.score) < 1e-5);
    assert.strictEqual(result.arguments.length, 192);
    for (const side of ['a', 'b'])
      for (const kind of ['similarity', 'dissimilarity', 'combined']) {
        const npy = fs.readFileSync(path.join(out, `${side}_${kind}.npy`));
        assert.strictEqual(npy.subarray(0, 6).toString('latin1'), '\x93NUMPY');
        const headerLength = npy.readUInt16LE(8);
        assert.match(npy.subarray(10, 10 + headerLength).toString('latin1'), /'descr': '<f4', 'fortran_order': False, 'shape': \(112, 112\)/);
        assert.strictEqual(npy.length - 10 - headerLength, 112 * 112 * 4);
        assert.ok(fs.statSync(path.join(out, `${side}_${kind}.png`)).size > 1000);
      }
    // The combined map is the similarity map minus the dissimilarity map, pixel by pixel.
    const values = (name: string) => {
      const npy = fs.readFileSync(path.join(out, name));
      const body = npy.subarray(10 + npy.readUInt16LE(8));
      return new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
    };
    const [sim, dis, comb] = ['a_similarity.npy', 'a_dissimilarity.npy', 'a_combined.npy'].map(values);
    comb.forEach((c, i) => assert.ok(Math.abs(c - (sim[i] - dis[i])) < 1e-7));
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /MATCH|NO MATCH/);
  });

  it('writes each pair into a folder of its own under xssab-out by default, beside the demo\'s', () => {
    fs.mkdirSync(path.join(tmp, 'xssab-out', 'demo', 'genuine-crops'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'xssab-out', 'demo', 'genuine-crops', 'result.json'), '{}');
    const r = run('explain', crop('man_01_face0.png'), crop('man_05_face0.png'));
    assert.strictEqual(r.status, 0, r.stderr);
    const out = path.join(tmp, 'xssab-out', 'man_01_face0_vs_man_05_face0');
    assert.ok(r.stdout.includes(`outputs in ${out}`), r.stdout);
    assert.ok(fs.existsSync(path.join(out, 'result.json')));
    assert.strictEqual(fs.readFileSync(path.join(tmp, 'xssab-out', 'demo', 'genuine-crops', 'result.json'), 'utf8'), '{}');
  });

  it('reports a missing file; with both images bad, the first one', () => {
    assertCleanError(run('explain', path.join(tmp, 'nope.png'), crop('man_01_face0.png'), '--out', path.join(tmp, 'o1')), /xssab: .*nope\.png: file not found/);
    const text = path.join(tmp, 'text-b.png');
    fs.writeFileSync(text, 'not pixels\n');
    assertCleanError(run('explain', path.join(tmp, 'nope-a.png'), text, '--out', path.join(tmp, 'o1')), /xssab: .*nope-a\.png: file not found/);
    assertCleanError(run('explain', text, path.join(tmp, 'nope-b.png'), '--out', path.join(tmp, 'o1')), /xssab: .*text-b\.png: not an image/);
  });

  it('reports a file that is not an image', () => {
    const text = path.join(tmp, 'notes.png');
    fs.writeFileSync(text, 'just some text, not pixels\n');
    assertCleanError(run('explain', text, crop('man_01_face0.png'), '--out', path.join(tmp, 'o2')), /xssab: .*notes\.png: not an image/);
  });

  it('reports a model that is not ONNX', () => {
    const fake = path.join(tmp, 'fake.onnx');
    fs.writeFileSync(fake, 'this is not a protobuf');
    assertCleanError(run('explain', crop('man_01_face0.png'), crop('man_02_face0.png'), '--model', fake), /xssab: .*fake\.onnx: not an ONNX model/);
  });

  it('inspect: input, output, ops, gradient support, quantization, batch and preprocessing, as JSON and as text', () => {
    const net = new Net([1, 3, 8, 8]);
    const conv = net.b.op('Relu', [net.b.op('Conv', ['x', net.weight([4, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
    const file = path.join(tmp, 'inspected.onnx');
    fs.writeFileSync(file, encodeModel(net.model(net.b.op('Flatten', [net.b.op('GlobalAveragePool', [conv])], { axis: 1 }))));
    fs.writeFileSync(path.join(tmp, 'inspected.card.json'), JSON.stringify({ name: 'tiny', channelOrder: 'BGR', mean: 0.5, std: 2, threshold: 0.2 }));
    const r = run('inspect', file, '--json');
    assert.strictEqual(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepStrictEqual(report.input, { name: 'x', shape: ['N', 3, 8, 8] });
    assert.strictEqual(report.embeddingSize, 4);
    assert.strictEqual(report.opset, 18);
    assert.deepStrictEqual(report.ops, { Conv: 1, Flatten: 1, GlobalAveragePool: 1, Relu: 1 });
    assert.strictEqual(report.supported, true);
    assert.deepStrictEqual(report.missing, []);
    assert.strictEqual(report.quantization, 'none');
    assert.strictEqual(report.batch, 'dynamic');
    assert.strictEqual(report.batchReason, 'the file leaves the batch open');
    assert.deepStrictEqual(report.preprocessing, { channelOrder: 'BGR', mean: 0.5, std: 2, source: 'model card' });

    // Fixed batch 1, no card, an op without a rule.
    const sinNet = new Net([1, 3, 8, 8]);
    const y = sinNet.b.op('Flatten', [sinNet.b.op('GlobalAveragePool', [sinNet.b.op('Sin', [sinNet.b.op('Sin', ['x'])])])], { axis: 1 });
    const model = sinNet.model(y);
    model.graph!.input![0].type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
    const sinFile = path.join(tmp, 'sin-inspected.onnx');
    fs.writeFileSync(sinFile, encodeModel(model));
    const s = JSON.parse(run('inspect', sinFile, '--json', '--mean', '127.5', '--std', '128').stdout);
    assert.strictEqual(s.supported, false);
    assert.deepStrictEqual(s.missing.map((m: { op: string; nodes: number }) => [m.op, m.nodes]), [['Sin', 2]]);
    assert.match(s.missing[0].example, /^net\/Sin_node_\d+$/);
    assert.strictEqual(s.batch, 'relaxed');
    assert.strictEqual(s.batchReason, 'the file fixes batch 1; the engine opens it (no shape target pins the batch)');
    assert.deepStrictEqual(s.preprocessing, { channelOrder: 'RGB', mean: 127.5, std: 128, source: 'flags' });
    const text = run('inspect', sinFile);
    assert.strictEqual(text.status, 0, text.stderr);
    assert.match(text.stdout, /^gradients: cannot explain: no rule for Sin \(2 nodes, e\.g\. "net\/Sin_node_\d+"\)$/m);
    assert.match(text.stdout, /^preprocessing: \(v − 127\.5\) \/ 127\.5, RGB \(ArcFace default\)$/m);
    assert.match(text.stdout, /^batch: relaxed \(the file fixes batch 1; the engine opens it \(no shape target pins the batch\)\)$/m);
    assertCleanError(run('inspect'), /xssab: inspect needs one model file/);
  });

  it('reports an operator without a gradient rule, naming it', () => {
    const net = new Net([1, 3, 112, 112]);
    const y = net.b.op('GlobalAveragePool', [net.b.op('Sin', ['x'])]);
    const file = path.join(tmp, 'sin.onnx');
    fs.writeFileSync(file, encodeModel(net.model(net.b.op('Flatten', [y], { axis: 1 }))));
    const r = run('explain', crop('man_01_face0.png'), crop('man_02_face0.png'), '--model', file, '--out', path.join(tmp, 'o3'));
    assertCleanError(r, /xssab: the model cannot be differentiated from "x" to "net\/Flatten_\d+": an operator has no gradient rule: Sin \(1 node, e\.g\. "net\/Sin_node_\d+"\); supported operators: Abs, /);
    assert.match(r.stderr, /assuming the ArcFace convention|no model card/);

    // Calibrating needs embeddings only, so such a model can still be calibrated.
    const list = path.join(tmp, 'sin-pairs.csv');
    const pairs = [['man_01', 'man_02', 'same'], ['man_03', 'man_04', 'same'], ['man_01', 'sample1', 'different'], ['man_02', 'sample4', 'different']];
    fs.writeFileSync(list, pairs.map(([a, b, label]) => `${crop(`${a}_face0.png`)},${crop(`${b}_face0.png`)},${label}`).join('\n'));
    const calibrated = run('calibrate', list, '--model', file, '--json');
    assert.strictEqual(calibrated.status, 0, calibrated.stderr);
    const summary = JSON.parse(calibrated.stdout);
    assert.deepStrictEqual([summary.genuine, summary.impostor], [2, 2]);
    assert.ok(summary.eer >= 0 && summary.eer <= 1 && Number.isFinite(summary.threshold), calibrated.stdout);
  });

  it('refuses to write into a folder of the user\'s', () => {
    const mine = path.join(tmp, 'mine');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, 'thesis.tex'), 'precious');
    assertCleanError(run('explain', crop('man_01_face0.png'), crop('man_02_face0.png'), '--out', mine), /mine: folder is not empty/);
    assert.strictEqual(fs.readFileSync(path.join(mine, 'thesis.tex'), 'utf8'), 'precious');
  });

  it('rejects bad usage with exit status 2', () => {
    assertCleanError(run('explain', crop('man_01_face0.png')), /explain needs two images/);
    assert.strictEqual(run('explain', crop('man_01_face0.png')).status, 2);
    assertCleanError(run('explain', 'a', 'b', '--threshold', 'high'), /--threshold must be a number/);
    assertCleanError(run('frobnicate'), /unknown command "frobnicate"/);
  });
});
