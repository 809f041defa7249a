// onnxruntime's WebGPU provider against its CPU provider, on a software Vulkan device (Chromium's
// SwiftShader) when the machine names no other: the GPU code path, run on every commit by CI
// although no GPU is ever there. Slow (a software device): `npm run test:webgpu`.
import { SOFTWARE_VULKAN } from './vulkan';
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dot, stackFaces, unitEmbeddings } from '../../src/engine/embeddings';
import { toModelInput } from '../../src/engine/engine';
import { decodeImage } from '../../src/engine/image';
import { type FrModel, defaultModelPath, loadFrModel } from '../../src/engine/model';
import { drawPatches, applyPatches } from '../../src/engine/patchlfw/build';
import { replacedCount, replacementOrder, replacePixels } from '../../src/engine/patchlfw/dpr';
import { Random } from '../../src/engine/random';
import { type Fallback, tryProviders } from '../../src/engine/runtime';
import { Explainer, type PairExplanation } from '../../src/engine/xssab';
import { encodeModel } from '../../src/engine/onnx/proto';
import { gridValues, twinModel } from '../unit/quantize';
import { TEST_SIZE, antialiasResizeModel, randomFaces, smallIResNet, smallMobileFaceNet, writeTestModel } from './models';

const SCORE_TOLERANCE = 1e-5;
// Most maps agree to ~1e-6; a map through a PReLU or ReLU kink that the two providers' roundings
// put on different sides moves by up to ~9e-4 (measured on the bundled model's sample faces).
const MAP_TOLERANCE = 1e-3;
const root = path.join(__dirname, '..', '..');
const crop = (name: string) => path.join(root, 'samples', 'aligned', name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-webgpu-'));

const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
const distance = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

/** Worst errors of WebGPU's explanations against the CPU's; asserts them against the tolerances. */
function compare(gpu: PairExplanation[], cpu: PairExplanation[]): { score: number; map: number; combined: number } {
  assert.strictEqual(gpu.length, cpu.length);
  const worst = { score: 0, map: 0, combined: 0 };
  cpu.forEach((c, i) => {
    worst.score = Math.max(worst.score, Math.abs(gpu[i].score - c.score));
    c.maps.forEach((maps, side) => {
      const g = gpu[i].maps[side];
      for (const kind of ['similarity', 'dissimilarity'] as const) worst.map = Math.max(worst.map, distance(g[kind], maps[kind]) / norm(maps[kind]));
      // combined = similarity − dissimilarity nearly cancels where both are large: its error is
      // measured against the larger of the two maps it is made from.
      worst.combined = Math.max(worst.combined, distance(g.combined, maps.combined) / Math.max(norm(maps.similarity), norm(maps.dissimilarity)));
    });
  });
  assert.ok(worst.score < SCORE_TOLERANCE, `score differs by ${worst.score}`);
  assert.ok(worst.map < MAP_TOLERANCE, `a similarity or dissimilarity map differs by ${worst.map} (relative L2)`);
  assert.ok(worst.combined < MAP_TOLERANCE, `a combined map differs by ${worst.combined} (relative to its larger part)`);
  return worst;
}

const report = (what: string, numbers: Record<string, number>) =>
  console.log(`      ${what}: ${Object.entries(numbers).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);

describe("WebGPU (software Vulkan device) gives the CPU provider's results", function () {
  this.timeout(20 * 60_000);
  const explainers: Explainer[] = [];
  const on = async (model: FrModel, ep: 'cpu' | 'webgpu', first: 'explain' | 'embed' = 'explain', notices: Fallback[] = []) => {
    const e = await Explainer.create(model, ep, (f) => notices.push(f), first);
    explainers.push(e);
    return e;
  };

  before(async function () {
    const [trial] = await tryProviders(['webgpu']);
    if (trial.reason === null) return console.log(`      Vulkan: ${process.env.VK_ICD_FILENAMES ?? "the machine's own drivers"}`);
    const why = `no Vulkan device for WebGPU here (${trial.reason}; ${SOFTWARE_VULKAN} needs Debian's chromium and libvulkan1)`;
    if (process.env.CI === 'true') throw new Error(`the WebGPU suite must run in CI: ${why}`);
    console.log(`      SKIPPED: ${why}`);
    this.skip();
  });

  after(async () => {
    for (const e of explainers) await e.release();
  });

  for (const [name, bytes] of [
    ['small IResNet', smallIResNet],
    ['small MobileFaceNet', smallMobileFaceNet],
  ] as const) {
    it(`${name}: the fused graph at one pair and at 4 pairs, and the embedding graph`, async () => {
      const model = await loadFrModel(writeTestModel(tmp, name.replace(' ', '-'), bytes()));
      const [cpu, gpu] = [await on(model, 'cpu'), await on(model, 'webgpu')];
      assert.strictEqual(gpu.ep, 'webgpu');
      for (const n of [1, 4]) {
        const [a, b] = [randomFaces(n, TEST_SIZE, 1), randomFaces(n, TEST_SIZE, 2)];
        report(`${name}, ${n} pair(s)`, compare(await gpu.explainBatch(a, b, 0.3), await cpu.explainBatch(a, b, 0.3)));
      }
      const faces = randomFaces(6, TEST_SIZE, 3);
      const [g, c] = [await gpu.embed(faces), await cpu.embed(faces)];
      assert.strictEqual(gpu.ep, 'webgpu');
      assert.ok(distance(g, c) / norm(c) < SCORE_TOLERANCE, `embeddings differ by ${distance(g, c) / norm(c)}`);
    });
  }

  it('int8 models (QDQ, QOperator, dynamic): the fused graph with straight-through gradients', async () => {
    for (const kind of ['QDQ', 'QOperator', 'dynamic'] as const) {
      const file = writeTestModel(tmp, `twin-${kind}`, encodeModel(twinModel(kind)), { name: kind, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 });
      const model = await loadFrModel(file);
      assert.notStrictEqual(model.quantization, 'none');
      const [cpu, gpu] = [await on(model, 'cpu'), await on(model, 'webgpu')];
      // Faces on the model's input grid (k/16), two pairs in one run.
      const [a, b] = [gridValues(2 * 3 * 16, 11, 1 / 16, 3), gridValues(2 * 3 * 16, 12, 1 / 16, 3)];
      report(`${kind} int8 model, 2 pairs`, compare(await gpu.explainBatch(a, b, 0.1), await cpu.explainBatch(a, b, 0.1)));
      assert.strictEqual(gpu.ep, 'webgpu');
    }
  });

  describe('the bundled MobileFaceNet on the sample faces', () => {
    let model: FrModel;
    let cpu: Explainer;
    let gpu: Explainer;
    let faces: Float32Array[];
    let others: Float32Array[];
    let original: Awaited<ReturnType<typeof decodeImage>>;
    let patched: Awaited<ReturnType<typeof decodeImage>>;
    before(async () => {
      model = await loadFrModel(defaultModelPath());
      [cpu, gpu] = [await on(model, 'cpu'), await on(model, 'webgpu')];
      const [a, b, other] = await Promise.all(['man_01_face0.png', 'man_05_face0.png', 'sample4_face0.png'].map((f) => decodeImage(crop(f))));
      // Patch-LFW's patched first face: 27 16×16 patches of another person's face.
      original = a;
      patched = applyPatches(a, other, drawPatches(new Random(3), a.height, a.width));
      faces = [patched, b].map((im) => toModelInput(im, model.preprocessing));
      // Two more pairs for the batch: two women, and a man and a woman (both impostor pairs).
      const more = await Promise.all(['sample1_face0.png', 'sample4_face0.png', 'man_07_face0.png', 'sample2_face1.png'].map((f) => decodeImage(crop(f))));
      others = more.map((im) => toModelInput(im, model.preprocessing));
    });

    it('the fused graph at one pair, and one DPR level', async () => {
      const t0 = performance.now();
      const [g] = await gpu.explainBatch(faces[0], faces[1], model.threshold);
      const firstMs = performance.now() - t0;
      const [c] = await cpu.explainBatch(faces[0], faces[1], model.threshold);
      assert.strictEqual(gpu.ep, 'webgpu');
      report('bundled model, 1 pair', { ...compare([g], [c]), 'first pair s': firstMs / 1000 });

      // The 50% level of the best_worst curve: each provider's own pixel order, and its score.
      const accepted = c.score >= model.threshold;
      const plane = original.width * original.height;
      const count = replacedCount(50, plane);
      const [orderG, orderC] = [g, c].map((e) => replacementOrder(e.maps[0].combined, accepted));
      const replaced = (order: Uint32Array) => new Set(order.subarray(0, count));
      const chosen = replaced(orderC);
      const shared = [...replaced(orderG)].filter((p) => chosen.has(p)).length / count;
      assert.ok(shared > 0.99, `the providers' maps choose different pixels: ${shared} in common`);
      const level = (order: Uint32Array) => toModelInput(replacePixels(patched, original, order, count), model.preprocessing);
      const [partnerG, partnerC] = [await unitEmbeddings(gpu, [faces[1]], 1), await unitEmbeddings(cpu, [faces[1]], 1)];
      // The same replaced image scores the same on both providers; each provider's own image nearly so.
      const [sameG, sameC] = [await unitEmbeddings(gpu, [level(orderC)], 1), await unitEmbeddings(cpu, [level(orderC)], 1)];
      const sameDiff = Math.abs(dot(sameG[0], partnerG[0]) - dot(sameC[0], partnerC[0]));
      const own = Math.abs(dot((await unitEmbeddings(gpu, [level(orderG)], 1))[0], partnerG[0]) - dot(sameC[0], partnerC[0]));
      assert.ok(sameDiff < SCORE_TOLERANCE, `the 50% level scores differ by ${sameDiff}`);
      assert.ok(own < 1e-3, `the 50% level with each provider's own order differs by ${own}`);
      report('bundled model, DPR 50% level', { 'pixels in common': shared, 'score (same image)': sameDiff, 'score (own order)': own });
    });

    it('the fused graph at a batch of 3 pairs', async () => {
      const [a, b] = [stackFaces([faces[0], others[0], others[2]]), stackFaces([faces[1], others[1], others[3]])];
      report('bundled model, 3 pairs', compare(await gpu.explainBatch(a, b, model.threshold), await cpu.explainBatch(a, b, model.threshold)));
      assert.strictEqual(gpu.ep, 'webgpu');
    });

    it('the embedding graph', async () => {
      const g = await on(model, 'webgpu', 'embed');
      const c = await on(model, 'cpu', 'embed');
      const [eg, ec] = [await unitEmbeddings(g, faces, 2), await unitEmbeddings(c, faces, 2)];
      assert.strictEqual(g.ep, 'webgpu');
      const diff = Math.abs(dot(eg[0], eg[1]) - dot(ec[0], ec[1]));
      assert.ok(diff < SCORE_TOLERANCE, `scores from the embeddings differ by ${diff}`);
      report('bundled model, embeddings', { score: diff, 'embedding rel. L2': Math.max(...eg.map((e, i) => distance(e, ec[i]))) });
    });
  });

  it("a provider that loads but fails on the graph hands over to the CPU with one notice, and the result is the CPU's", async () => {
    const model = await loadFrModel(writeTestModel(tmp, 'antialias-resize', antialiasResizeModel()));
    const notices: Fallback[] = [];
    const gpu = await on(model, 'webgpu', 'embed', notices);
    assert.strictEqual(gpu.ep, 'webgpu'); // its session opened
    const faces = randomFaces(2, TEST_SIZE, 4);
    const embeddings = await gpu.embed(faces);
    assert.strictEqual(gpu.ep, 'cpu');
    assert.strictEqual(notices.length, 1);
    assert.strictEqual(notices[0].providers, 'webgpu');
    assert.match(notices[0].notice, /^running on the CPU \(webgpu failed to run the graph: .*antialias/);
    assert.deepStrictEqual(embeddings, await (await on(model, 'cpu', 'embed')).embed(faces));
    await gpu.embed(faces);
    assert.strictEqual(notices.length, 1, 'one notice, not one per run');
  });

  it('the CLI with --ep auto picks WebGPU where a Vulkan device exists, and says so in its result', () => {
    const model = writeTestModel(tmp, 'cli-iresnet', smallIResNet());
    const cli = path.join(root, 'dist', 'cli.js');
    const run = (ep: string) => {
      const args = [cli, 'explain', crop('man_01_face0.png'), crop('man_05_face0.png'), '--model', model, '--no-align', '--ep', ep, '--json', '--out', path.join(tmp, `cli-${ep}`)];
      const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env } });
      assert.strictEqual(r.status, 0, r.stderr);
      return { result: JSON.parse(r.stdout), stderr: r.stderr };
    };
    const auto = run('auto');
    assert.strictEqual(auto.result.ep, 'webgpu');
    // The only line about providers: CUDA's absence (a machine without onnxruntime's CUDA libraries).
    const notices = auto.stderr.split('\n').filter((l) => l.startsWith('xssab: notice'));
    assert.ok(notices.length <= 1 && notices.every((l) => l === 'xssab: notice: running on webgpu (no CUDA libraries)'), auto.stderr);
    assert.doesNotMatch(auto.stderr, /Failed to load library|FAIL :/);
    const cpu = run('cpu');
    assert.strictEqual(cpu.result.ep, 'cpu');
    assert.ok(Math.abs(auto.result.score - cpu.result.score) < SCORE_TOLERANCE);
  });
});
