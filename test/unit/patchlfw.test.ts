// Patch-LFW and the DPR protocol: LFW input, the builder, pixel replacement, rates and areas,
// resuming and sharding, and the protocol on Patch-Samples with the default model.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine, toModelInput } from '../../src/engine/engine';
import { dot, unitEmbeddings } from '../../src/engine/embeddings';
import { type RgbImage, decodeImage, encodePng, jpegRoundTrip } from '../../src/engine/image';
import { MANIFEST, PATCH_COUNT, PATCH_SIZE, buildPatchedSet, loadPatchedPair, readManifest } from '../../src/engine/patchlfw/build';
import { REFERENCE_LEVELS, referenceRandomOrder } from '../../src/engine/patchlfw/reference';
import { LEVELS, type PairRecord, type RunSettings, evaluateDpr, replacedCount, replacementOrder, replacePixels } from '../../src/engine/patchlfw/dpr';
import { parseReferenceFile, readListPairs, readLfwPairs } from '../../src/engine/patchlfw/lfw';
import { XSSAB_SETTING, methodSetting } from '../../src/engine/methods/registry';
import { FNMR_FINDING, areaUnder, mergeShards, summarise } from '../../src/engine/patchlfw/report';

const root = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'patchlfw-'));

/** A 112×112 crop whose every pixel encodes (identity, image, position), so copies can be traced. */
function syntheticCrop(seed: number): Uint8Array {
  const data = new Uint8Array(112 * 112 * 3);
  for (let i = 0; i < 112 * 112; i++) {
    data[i * 3] = seed;
    data[i * 3 + 1] = i % 251;
    data[i * 3 + 2] = Math.floor(i / 251);
  }
  return data;
}

/** LFW layout: Anna (2 images), Bert (1), Carl (1); View-2 style list with one fold of one pair each. */
async function makeLfw(): Promise<string> {
  const lfw = path.join(tmp, 'lfw');
  const images: [string, number, number][] = [['Anna', 1, 10], ['Anna', 2, 20], ['Bert', 1, 30], ['Carl', 1, 40]];
  for (const [name, n, seed] of images) {
    fs.mkdirSync(path.join(lfw, name), { recursive: true });
    // PNG bytes under a .jpg name: the decoder goes by content, and PNG keeps the pixels exact.
    fs.writeFileSync(path.join(lfw, name, `${name}_000${n}.jpg`), await encodePng(112, 112, 3, syntheticCrop(seed)));
  }
  fs.writeFileSync(path.join(lfw, 'pairs.txt'), '1 1\nAnna 1 2\nBert 1 Carl 1\n');
  return lfw;
}

describe('Patch-LFW input', () => {
  it('reads View-2 pairs and names bad lines, folders and headers', async () => {
    const lfw = await makeLfw();
    const pairs = readLfwPairs(lfw, path.join(lfw, 'pairs.txt'));
    assert.deepStrictEqual(
      pairs.map((p) => [p.index, p.label, p.a.id, p.b.id, p.a.identity, p.b.identity]),
      [
        [0, 'same', 'Anna_0001', 'Anna_0002', 'Anna', 'Anna'],
        [1, 'different', 'Bert_0001', 'Carl_0001', 'Bert', 'Carl'],
      ],
    );
    assert.strictEqual(pairs[1].b.path, path.join(lfw, 'Carl', 'Carl_0001.jpg'));
    const bad = path.join(tmp, 'bad-pairs.txt');
    fs.writeFileSync(bad, '1 1\nAnna 1 2\nBert 1 Carl\n');
    assert.throws(() => readLfwPairs(lfw, bad), /bad-pairs\.txt:3: "Carl" is not an image number/);
    fs.writeFileSync(bad, '1 1\nAnna 1 2 3 4 5\n');
    assert.throws(() => readLfwPairs(lfw, bad), /bad-pairs\.txt:2: expected "Name i j" or "Name1 i Name2 j"/);
    fs.writeFileSync(bad, '10 300\nAnna 1 2\nBert 1 Carl 1\n');
    assert.throws(() => readLfwPairs(lfw, bad), /announces 10×2×300 = 6000 pairs, the file has 2/);
    assert.throws(() => readLfwPairs(path.join(tmp, 'nowhere'), bad), /nowhere: LFW folder not found/);
  });

  it('parses the reference coordinate files, numpy wrapping and np.int64 included', () => {
    const imp = 'id1, id2 \t row indices \t column indices \n2, 3 \t [17, 111, 40] \t [0, 95, 3] \n';
    const gen = 'id1, id2 \t patch_id \t row indices \t column indices \n0, 1 \t 3 \t [np.int64(16), np.int64(20),\n np.int64(30)] \t [1 2\n 3] \n';
    assert.deepStrictEqual([...parseReferenceFile(imp, 'imp.txt', 'impostor')], [[1, { rows: [17, 111, 40], cols: [0, 95, 3] }]]);
    assert.deepStrictEqual([...parseReferenceFile(gen, 'gen.txt', 'genuine')], [[0, { rows: [16, 20, 30], cols: [1, 2, 3], sourceSlot: 3 }]]);
    assert.throws(() => parseReferenceFile('1, 2 \t [1] \t [2]\n', 'imp.txt', 'impostor'), /imp\.txt:1: ids 1, 2 are not the two slots/);
    assert.throws(() => parseReferenceFile('0, 1 \t [1, 2] \t [2]\n', 'imp.txt', 'impostor'), /imp\.txt:1: the row and column lists/);
    assert.throws(() => parseReferenceFile('0, 1 \t [1, 2] \t [2, 3]\n', 'gen.txt', 'genuine'), /gen\.txt:1: expected "id1, id2 \\t source_id/);
  });
});

describe('Patch-LFW builder', () => {
  it('plants 27 patches of 16×16 in the first image only, from another identity or the partner', async () => {
    const lfw = await makeLfw();
    const out = path.join(tmp, 'built');
    const engine = await Engine.create();
    try {
      const manifest = await buildPatchedSet({ pairs: readLfwPairs(lfw, path.join(lfw, 'pairs.txt')), out, seed: 3, prepare: (s, l) => engine.prepareFace(s, l) });
      assert.deepStrictEqual(readManifest(out), manifest);
      const [genuine, impostor] = manifest.pairs;
      // Hand-checked: crops are used where they are; the genuine source is Bert or Carl (not
      // Anna); the impostor source is the partner Carl_0001.
      assert.deepStrictEqual([genuine.a.crop, genuine.b.crop], ['../lfw/Anna/Anna_0001.jpg', '../lfw/Anna/Anna_0002.jpg']);
      assert.ok(['Bert', 'Carl'].includes(genuine.source.identity), genuine.source.id);
      assert.deepStrictEqual(impostor.source, impostor.b);
      assert.strictEqual(impostor.b.id, 'Carl_0001');
      for (const pair of manifest.pairs) {
        assert.strictEqual(pair.rows.length, PATCH_COUNT);
        assert.strictEqual(pair.cols.length, PATCH_COUNT);
        assert.ok(pair.rows.every((r) => r >= 16 && r <= 111) && pair.cols.every((c) => c >= 0 && c <= 95));
        // Every pixel of the patched image equals the source inside a patch and the original outside.
        const inPatch = new Uint8Array(112 * 112);
        pair.rows.forEach((r, k) => {
          for (let y = r - PATCH_SIZE; y < r; y++) for (let x = pair.cols[k]; x < pair.cols[k] + PATCH_SIZE; x++) inPatch[y * 112 + x] = 1;
        });
        const [patched, original, source, b] = await Promise.all(
          [pair.patched!, pair.a.crop, pair.source.crop, pair.b.crop].map((f) => decodeImage(path.resolve(out, f))),
        );
        for (let i = 0; i < 112 * 112; i++) {
          const expected = inPatch[i] ? source : original;
          for (let c = 0; c < 3; c++) assert.strictEqual(patched.data[i * 3 + c], expected.data[i * 3 + c], `pair ${pair.index} pixel ${i}`);
        }
        const changed = inPatch.reduce((s, v) => s + v, 0);
        assert.ok(changed > 0.2 * 112 * 112 && changed < 0.6 * 112 * 112, `${changed} patched pixels`);
        // The second image is the untouched input file.
        assert.deepStrictEqual(b.data, syntheticCrop(pair.index === 0 ? 20 : 40));
      }
      // The same seed gives the same set.
      const again = await buildPatchedSet({ pairs: readLfwPairs(lfw, path.join(lfw, 'pairs.txt')), out: path.join(tmp, 'built2'), seed: 3, prepare: (s, l) => engine.prepareFace(s, l), writePatched: false });
      assert.deepStrictEqual(again.pairs.map((p) => [p.rows, p.cols, p.source.id]), manifest.pairs.map((p) => [p.rows, p.cols, p.source.id]));
    } finally {
      await engine.dispose();
    }
  });

  it('finishes a stopped build when run again, and refuses a folder of the user\'s', async () => {
    const lfw = await makeLfw();
    const pairs = readLfwPairs(lfw, path.join(lfw, 'pairs.txt'));
    const engine = await Engine.create();
    try {
      const prepare = (s: string, l: string) => engine.prepareFace(s, l);
      const out = path.join(tmp, 'stopped');
      const controller = new AbortController();
      const stopped = buildPatchedSet({ pairs, out, seed: 3, prepare, signal: controller.signal, onProgress: () => controller.abort(new Error('stopped')) });
      await assert.rejects(stopped, /stopped/);
      assert.ok(!fs.existsSync(path.join(out, MANIFEST)), 'a stopped build has no manifest');
      const finished = await buildPatchedSet({ pairs, out, seed: 3, prepare });
      const uninterrupted = await buildPatchedSet({ pairs, out: path.join(tmp, 'uninterrupted'), seed: 3, prepare });
      assert.deepStrictEqual(finished.pairs.map((p) => [p.rows, p.cols, p.source.id]), uninterrupted.pairs.map((p) => [p.rows, p.cols, p.source.id]));

      const mine = path.join(tmp, 'mine');
      fs.mkdirSync(mine);
      fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep');
      await assert.rejects(buildPatchedSet({ pairs, out: mine, prepare }), /mine: folder is not empty and holds no earlier xSSAB result/);
      await assert.rejects(evaluateDpr(engine, { set: out, out: mine, methods: [XSSAB_SETTING] }), /mine: folder is not empty/);
      assert.deepStrictEqual(fs.readdirSync(mine), ['notes.txt']);
    } finally {
      await engine.dispose();
    }
  });

  it('gives Patch-Samples genuine pairs a woman as source and impostor pairs their partner', () => {
    const manifest = readManifest(path.join(root, 'samples', 'patch-samples'));
    assert.strictEqual(manifest.pairs.length, 64);
    for (const p of manifest.pairs) {
      if (p.label === 'same') {
        assert.match(p.a.id, /^man_/);
        assert.match(p.source.id, /^sample\d_face\d$/);
      } else assert.deepStrictEqual(p.source, p.b);
    }
    assert.strictEqual(manifest.pairs.filter((p) => p.label === 'same').length, 32);
  });
});

describe('DPR replacement', () => {
  // A 2×3 map with a tie: values by pixel index.
  const map = Float32Array.of(0.5, -1, 2, 0.5, -3, 0);

  it('orders the highest map values first for accepted pairs, the lowest for rejected ones, ties by index', () => {
    assert.deepStrictEqual([...replacementOrder(map, true)], [2, 0, 3, 5, 1, 4]);
    assert.deepStrictEqual([...replacementOrder(map, false)], [4, 1, 5, 0, 3, 2]);
  });

  it('replaces exactly round(p·H·W) pixels, all channels, and nothing else', () => {
    assert.deepStrictEqual(
      LEVELS.map((p) => replacedCount(p, 112 * 112)),
      LEVELS.map((p) => Math.round((p / 100) * 12544)),
    );
    assert.deepStrictEqual([5, 50, 95].map((p) => replacedCount(p, 6)), [0, 3, 6]);
    const patched = { width: 3, height: 2, data: new Uint8Array(18).fill(9) };
    const original = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i) };
    const out = replacePixels(patched, original, replacementOrder(map, true), replacedCount(50, 6));
    // Pixels 2, 0, 3 are back to the original; 1, 4, 5 stay patched.
    assert.deepStrictEqual([...out.data], [0, 1, 2, 9, 9, 9, 6, 7, 8, 9, 10, 11, 9, 9, 9, 9, 9, 9]);
    assert.deepStrictEqual([...patched.data], new Array(18).fill(9), 'the input is not changed');
  });
});

describe('DPR rates and areas', () => {
  it('computes FMR, FNMR and the trapezoid areas of a constructed score table exactly', () => {
    const flat = (v: number) => LEVELS.map(() => v);
    // Threshold 0.5. Genuine pairs rejected at 0%: g1 recovers at 5% with the map, at 50% at random;
    // g2 never recovers. Impostor i1 accepted at 0% falls below at 5% with the map, never at random.
    const rec = (index: number, label: 'same' | 'different', patched: number, bestWorst: number[], random: number[]): PairRecord => ({
      index,
      label,
      original: 0,
      patched,
      random,
      methods: { xssab: { bestWorst, ms: 10 } },
    });
    const g1random = LEVELS.map((p) => (p >= 50 ? 0.6 : 0.4));
    const records = [
      rec(0, 'same', 0.4, flat(0.6), g1random),
      rec(1, 'same', 0.3, flat(0.3), flat(0.3)),
      rec(2, 'different', 0.7, flat(0.2), flat(0.7)),
      rec(3, 'different', 0.1, flat(0.1), flat(0.1)),
    ];
    const settings = { threshold: 0.5, seed: 3, methods: [XSSAB_SETTING] } as RunSettings;
    const summary = summarise(settings, records);
    const [xssab, random] = summary.curves;
    assert.deepStrictEqual([xssab.method, xssab.strategy, random.method, random.strategy], ['xssab', 'best_worst', 'none', 'random']);
    assert.deepStrictEqual(xssab.points.slice(0, 2), [
      { level: 0, fmr: 0.5, fnmr: 1, impostorsAccepted: 1, genuineRejected: 2 },
      { level: 5, fmr: 0, fnmr: 0.5, impostorsAccepted: 0, genuineRejected: 1 },
    ]);
    // FMR with the map: 0.5 at 0, 0 from 5%: area = 0.05·0.25 = 0.0125. At random: 0.5 throughout: 0.475.
    assert.ok(Math.abs(xssab.aucFmr - 0.0125) < 1e-12 && Math.abs(random.aucFmr - 0.475) < 1e-12);
    // FNMR with the map: 1 → 0.5 from 5%: 0.05·0.75 + 0.9·0.5 = 0.4875. Random: 1 to 45%, 0.5 from 50%:
    // 0.45 (0…45%) + 0.05·0.75 (45…50%) + 0.45·0.5 (50…95%) = 0.7125.
    assert.ok(Math.abs(xssab.aucFnmr - 0.4875) < 1e-12, String(xssab.aucFnmr));
    assert.ok(Math.abs(random.aucFnmr - 0.7125) < 1e-12, String(random.aucFnmr));
    assert.ok(Math.abs(xssab.deltaFmr - (0.0125 - 0.475)) < 1e-12 && Math.abs(xssab.deltaFnmr - (0.4875 - 0.7125)) < 1e-12);
    assert.strictEqual(summary.msPerPair.xssab, 10);
    assert.strictEqual(areaUnder([0, 50, 95], [1, 1, 1]), 0.95);
  });
});

describe('DPR runs', function () {
  // The whole of Patch-Samples takes ~1 min alone; on the shared 2-core machine under load, up to ~6.
  this.timeout(480000);
  let engine: Engine;
  let set: string;
  before(async () => {
    engine = await Engine.create();
    // Six pairs of Patch-Samples (three genuine, three impostor), rebuilt with seed 5.
    const list = path.join(root, 'samples', 'patch-samples', 'pairs.csv');
    const pairs = readListPairs(list).filter((p) => [0, 10, 20, 32, 42, 52].includes(p.index));
    set = path.join(tmp, 'mini-set');
    await buildPatchedSet({ pairs, out: set, seed: 5, prepare: (s, l) => engine.prepareFace(s, l), writePatched: false });
  });
  after(() => engine.dispose());

  const options = (out: string) => ({ set, out, methods: [XSSAB_SETTING], pairsPerStep: 2, batch: 32 });
  const strip = (records: PairRecord[]) => records.map((r) => ({ ...r, methods: { xssab: { bestWorst: r.methods.xssab!.bestWorst } } }));

  it('resumes an aborted run to the same results as an uninterrupted one, and shards merge to them too', async () => {
    const whole = await evaluateDpr(engine, options(path.join(tmp, 'whole')));
    assert.strictEqual(whole.records.length, 6);
    assert.strictEqual(whole.records[0].random.length, LEVELS.length);

    const out = path.join(tmp, 'resumed');
    const controller = new AbortController();
    const stop = new Error('stop');
    await assert.rejects(
      evaluateDpr(engine, { ...options(out), signal: controller.signal, onProgress: (p) => p.done >= 2 && controller.abort(stop) }),
      (e) => e === stop,
    );
    const file = path.join(out, 'pairs.jsonl');
    assert.strictEqual(fs.readFileSync(file, 'utf8').trim().split('\n').length, 2);
    // A run killed in the middle of a write leaves half a line: it is dropped, that pair redone.
    fs.appendFileSync(file, '{"index":3,"label":"diff');
    const resumed = await evaluateDpr(engine, options(out));
    assert.deepStrictEqual(strip(resumed.records), strip(whole.records));
    assert.strictEqual(fs.readFileSync(file, 'utf8').trim().split('\n').length, 6);
    assert.deepStrictEqual(resumed.settings, whole.settings);

    const shards = [1, 2].map((i) => path.join(tmp, `shard${i}`));
    for (const [i, dir] of shards.entries()) await evaluateDpr(engine, { ...options(dir), shard: { index: i + 1, count: 2 } });
    const merged = await mergeShards(path.join(tmp, 'merged'), shards);
    assert.deepStrictEqual(merged.curves, summarise(whole.settings, whole.records).curves);
    for (const f of ['results.json', 'results.csv', 'scores.csv', 'fmr.svg', 'fmr.png', 'fnmr.svg', 'fnmr.png', 'report.html']) {
      assert.ok(fs.statSync(path.join(tmp, 'merged', f)).size > 100, f);
    }
  });

  it('refuses to resume with other settings', async () => {
    await assert.rejects(
      evaluateDpr(engine, { ...options(path.join(tmp, 'whole')), methods: [methodSetting('saliency')] }),
      /whole: holds a run with other settings \(run\.json: methods xssab ≠ saliency\); choose another --out/,
    );
  });

  it('refuses a run into the same --out with other method parameters, naming them', async () => {
    const out = path.join(tmp, 'params');
    const masks = (n: number) => [XSSAB_SETTING, methodSetting('random-masks', { masks: n })];
    // Stopped once run.json is written, before any pair: the parameters are already recorded.
    const stop = new Error('stop');
    const controller = new AbortController();
    await assert.rejects(evaluateDpr(engine, { ...options(out), methods: masks(2), signal: controller.signal, onThreshold: () => controller.abort(stop) }), (e) => e === stop);
    const stored = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')) as RunSettings;
    assert.deepStrictEqual(stored.methods, [{ name: 'xssab', params: {} }, { name: 'random-masks', params: { masks: 2, seed: 3 } }]);
    await assert.rejects(evaluateDpr(engine, { ...options(out), methods: masks(3) }), /params: holds a run with other settings \(run\.json: random-masks\.masks 2 ≠ 3\)/);
    await assert.rejects(
      evaluateDpr(engine, { ...options(out), methods: [XSSAB_SETTING, methodSetting('random-masks', { masks: 2, seed: 4 })] }),
      /random-masks\.seed 3 ≠ 4/,
    );
    await assert.rejects(evaluateDpr(engine, { ...options(out), methods: masks(2), seed: 5 }), /\(run\.json: seed 3 ≠ 5\)/);
  });

  it('--reference-compat: the reference\'s shared numpy order, int() counts and JPEG round trips; a resume without it is refused', async () => {
    const out = path.join(tmp, 'compat');
    const { settings, records } = await evaluateDpr(engine, { ...options(out), referenceCompat: true });
    assert.strictEqual(settings.referenceCompat, true);
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8')).referenceCompat, true);
    // One pair by hand: the patched face and its partner as JPEGs (quality 95), the random order
    // numpy's permutation of seed 3, level 15 % giving back int(0.15000000000000002 · 12544) = 1881
    // pixels, the replaced face a JPEG again, against the partner written once more.
    const entry = readManifest(set).pairs.find((p) => p.index === records[0].index)!;
    const pair = await loadPatchedPair(set, entry);
    const jpeg = (im: RgbImage) => jpegRoundTrip(im, 95);
    const embed = async (im: RgbImage) => (await unitEmbeddings(engine.explainer, [toModelInput(im, engine.model.preprocessing)], 1))[0];
    const [patched, partner] = [await jpeg(pair.patched), await jpeg(pair.b)];
    assert.ok(Math.abs(records[0].patched - dot(await embed(patched), await embed(partner))) < 1e-5);
    const count = Math.trunc(REFERENCE_LEVELS[2] * 112 * 112);
    assert.strictEqual(count, 1881);
    const replaced = await jpeg(replacePixels(patched, pair.original, referenceRandomOrder(3, 112 * 112), count));
    assert.ok(Math.abs(records[0].random[2] - dot(await embed(replaced), await embed(await jpeg(partner)))) < 1e-5);
    // The unpatched score stays that of the set's crops as they are.
    assert.ok(Math.abs(records[0].original - dot(await embed(pair.original), await embed(pair.b))) < 1e-5);
    await assert.rejects(evaluateDpr(engine, options(out)), /\(run\.json: referenceCompat true ≠ false\)/);
  });

  describe('on Patch-Samples with the default model', () => {
    type Curve = ReturnType<typeof summarise>['curves'][number];
    let curves: Record<string, Curve>;
    before(async () => {
      const out = path.join(tmp, 'patch-samples');
      const { settings, records } = await evaluateDpr(engine, { set: path.join(root, 'samples', 'patch-samples'), out, methods: [XSSAB_SETTING] });
      curves = Object.fromEntries(summarise(settings, records).curves.map((c) => [c.method, c]));
    });
    const table = () =>
      `AUC FMR ${curves.xssab.aucFmr.toFixed(4)} vs random ${curves.none.aucFmr.toFixed(4)}, AUC FNMR ${curves.xssab.aucFnmr.toFixed(4)} vs random ${curves.none.aucFnmr.toFixed(4)}`;

    it('xSSAB best_worst (combined map) falls below random for FMR', () => {
      assert.ok(curves.xssab.aucFmr < curves.none.aucFmr, table());
    });

    // The FNMR criterion is a measured finding, not a test to pass: with this model M⁺ and M⁻ are
    // alike (pixel correlation ≈ 0.6, equal sums) and C holds no sign of the planted patches (its
    // mean inside them equals its mean outside; scripts/dpr-orderings.ts measures it); with
    // faceplugin's fr_feature it passes (README, "Patch-Samples"). The README and every report state
    // these areas: if they change, so must the statement.
    it('xSSAB best_worst on FNMR: the areas the README and the report state (above random with this model)', () => {
      assert.ok(Math.abs(curves.xssab.aucFnmr - 0.5125) < 1e-9 && Math.abs(curves.none.aucFnmr - 0.4875) < 1e-9, table());
      assert.ok(Math.abs(curves.xssab.aucFmr - 0.0023) < 5e-5 && Math.abs(curves.none.aucFmr - 0.0055) < 5e-5, table());
      for (const stated of ['0.5125 against 0.4875', '0.0023 against 0.0055']) assert.ok(FNMR_FINDING.includes(stated), stated);
    });
  });
});
