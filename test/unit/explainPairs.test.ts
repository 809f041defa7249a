// explain-pairs: exact error lists and rates on a deliberately mislabelled list of the bundled
// crops, aggregate maps against the per-pair maps read back, a second model equal to the first,
// resuming after an abort, and the command's clear errors.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine } from '../../src/engine/engine';
import { asRunResult, lensGroups, readSummary, runExplanation } from '../../src/engine/explainPairs/load';
import { readLens } from '../../src/engine/explainPairs/lens';
import { RunningMeans, bucketKey } from '../../src/engine/explainPairs/aggregate';
import { rawMap } from '../../src/shared/mapCodec';
import { toPayload } from '../../src/engine/output';
import { SUMMARY_FILE, explainPairList, mergePairListShards } from '../../src/engine/explainPairs/run';
import { headlineInWords } from '../../src/engine/explainPairs/report';
import { mapsDownscale, meanPool, openRunStore } from '../../src/engine/explainPairs/store';
import { SCORE_BINS, errorKind, scoreStats, slug } from '../../src/engine/explainPairs/summary';
import { GROUPS, type PairListSummary } from '../../src/shared/pairListSummary';
import { readNpy } from '../../src/engine/output';
import { groupLines } from '../../src/cli/groups';
import { MAP_KINDS, type MapKind } from '../../src/shared/result';

const root = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'explain-pairs-'));
const crop = (name: string) => path.join(root, 'samples', 'aligned', `${name}.png`);

/**
 * Pairs of the bundled crops with the default model's scores (t = 0.5659): 0–4 are the same man
 * (0.95, 0.87, 0.85, 0.80, 0.75), 5–9 different people (−0.09, 0.15, 0.16, 0.04, −0.01).
 * Pairs 1 and 3 are labelled `different` (false matches, margins +0.31 and +0.23), pairs 6 and 8
 * `same` (false non-matches, margins −0.41 and −0.52), pair 9 has no label, and pair 10 names a
 * missing image.
 */
const LIST = [
  ['man_01_face0', 'man_02_face0', 'same'],
  ['man_03_face0', 'man_04_face0', 'different'],
  ['man_05_face0', 'man_06_face0', 'same'],
  ['man_07_face0', 'man_08_face0', 'different'],
  ['man_09_face0', 'man_10_face0', 'same'],
  ['sample1_face0', 'sample4_face0', 'different'],
  ['sample2_face0', 'sample5_face0', 'same'],
  ['sample4_face1', 'sample6_face0', 'different'],
  ['man_11_face0', 'sample6_face1', 'same'],
  ['sample2_face1', 'sample5_face2', ''],
  ['missing_face0', 'man_01_face0', 'same'],
];

const mean = (maps: Float32Array[]) => Float32Array.from(maps[0], (_, p) => maps.reduce((s, m) => s + m[p], 0) / maps.length);
const maxDifference = (x: Float32Array, y: Float32Array) => x.reduce((m, v, p) => Math.max(m, Math.abs(v - y[p])), 0);
const npy = (out: string, file: string) => readNpy(path.join(out, file)).data;

describe('explain-pairs summary', () => {
  it('names the error kind of every label and decision', () => {
    assert.deepStrictEqual(
      [errorKind('same', true), errorKind('same', false), errorKind('different', true), errorKind('different', false), errorKind(undefined, true)],
      ['true match', 'false non-match', 'false match', 'true non-match', 'unlabelled'],
    );
  });

  it('bins scores into the shared histogram, the ends clamped', () => {
    const s = scoreStats([-1.5, -1, 0, 0.049, 0.06, 1, 3]);
    assert.strictEqual(s.histogram.length, SCORE_BINS.count);
    assert.deepStrictEqual(
      s.histogram.flatMap((n, i) => (n ? [[i, n]] : [])),
      [[0, 2], [20, 2], [21, 1], [39, 2]],
    );
    assert.strictEqual(s.mean, (-1.5 - 1 + 0 + 0.049 + 0.06 + 1 + 3) / 7);
    assert.deepStrictEqual([s.min, s.max, s.count], [-1.5, 3, 7]);
  });
});

describe('explain-pairs running means', () => {
  it('merged, follow a part of the lens only where every shard that explained pairs did', () => {
    const shard = (by: string, compare: string) => {
      const m = new RunningMeans();
      m.add(bucketKey('model-a', 'true match'), [1, 1], [{ similarity: [1], dissimilarity: [0], crop: [0, 0, 0] }]);
      m.explained = 1;
      m.follows = { by, compare };
      return m;
    };
    const merged = new RunningMeans();
    const empty = new RunningMeans();
    empty.follows = { by: 'age', compare: '' };
    merged.addAll(empty);
    for (const m of [shard('gender', ''), shard('gender', 'gender=F/F,gender=M/M'), empty, shard('gender', '')]) merged.addAll(m);
    assert.deepStrictEqual([merged.follows, merged.explained, merged.mean(bucketKey('model-a', 'true match'))!.pairs], [{ by: 'gender', compare: null }, 3, 3]);
  });
});

describe('explain-pairs runs', function () {
  this.timeout(240000);
  let engine: Engine;
  let list: string;
  let whole: PairListSummary;
  const wholeOut = path.join(tmp, 'whole');

  before(async () => {
    engine = await Engine.create();
    list = path.join(tmp, 'list.csv');
    fs.writeFileSync(list, LIST.map(([a, b, label]) => [crop(a), crop(b), ...(label ? [label] : [])].join(',')).join('\n') + '\n');
    whole = await explainPairList({ list, out: wholeOut, engine, batch: 4 });
  });
  after(() => engine.dispose());

  it('lists exactly the planted errors, farthest from the threshold first, with exact rates', async () => {
    const [m] = whole.models;
    assert.strictEqual(m.threshold, 0.5659);
    assert.deepStrictEqual(m.counts, { 'true match': 3, 'true non-match': 2, 'false match': 2, 'false non-match': 2, unlabelled: 1 });
    assert.deepStrictEqual(m.falseMatches.map((e) => e.index), [1, 3]);
    assert.deepStrictEqual(m.falseNonMatches.map((e) => e.index), [8, 6]);
    assert.deepStrictEqual([m.fmr, m.fnmr, m.impostor, m.genuine], [2 / 4, 2 / 5, 4, 5]);
    for (const e of [...m.falseMatches, ...m.falseNonMatches]) assert.strictEqual(e.margin, e.score - 0.5659);
    assert.deepStrictEqual([whole.total, whole.explained, whole.failed], [11, 10, 1]);
    const records = openRunStore(wholeOut).records();
    assert.match(records[10].failed!, /missing_face0\.png: file not found/);
    assert.deepStrictEqual([m.scores.same!.count, m.scores.different!.count, m.scores.unlabelled!.count], [5, 4, 1]);
    // The summary file is what was returned.
    assert.ok(fs.existsSync(path.join(wholeOut, SUMMARY_FILE)));
    assert.deepStrictEqual(readSummary(wholeOut), JSON.parse(JSON.stringify(whole)));
    // A pair opened from the gallery is explained again, live, as the run did: same score and maps.
    const live = runExplanation(openRunStore(wholeOut).settings, records[1], 'model-a');
    assert.deepStrictEqual([live.model.path, live.threshold], [engine.model.path, 0.5659]);
    const explained = await engine.explainPair({ source: live.a, label: live.a }, { source: live.b, label: live.b }, live.threshold);
    const payload = asRunResult(await toPayload(explained, rawMap), live.model);
    assert.ok(Math.abs(payload.score - records[1].outcomes![0].score) < 1e-6, `${payload.score}`);
    // The card's threshold, not one the user gave (the panel shows the run's source).
    assert.deepStrictEqual([m.thresholdSource, payload.thresholdSource, payload.threshold], ['model card', 'model card', 0.5659]);
    assert.deepStrictEqual(payload.warnings.filter((w) => /no longer the model/.test(w)), []);
    // The run stored the same maps, pooled (store test below).
    const stored = openRunStore(wholeOut).maps(records[1], 'model-a')!;
    const pooled = meanPool(payload.maps.b.similarity.data, [112, 112], 2);
    assert.ok(maxDifference(stored.similarity[1], pooled) <= 1e-3 * maxDifference(pooled, new Float32Array(pooled.length)));
    assert.ok(fs.statSync(path.join(wholeOut, 'report.html')).size > 5000);
  });

  it('reads the run back through its store: settings, every record in list order, thumbnails of explained pairs', async () => {
    const store = openRunStore(wholeOut);
    assert.deepStrictEqual(store.summary, readSummary(wholeOut));
    assert.deepStrictEqual([store.settings.pairs, store.settings.models[0].threshold, store.settings.shard], [11, 0.5659, { index: 1, count: 1 }]);
    const records = store.records();
    assert.deepStrictEqual(records.map((r) => r.index), [...Array(11).keys()]);
    assert.deepStrictEqual(records.map((r) => r.a), LIST.map(([a]) => crop(a)));
    assert.deepStrictEqual(records[1].outcomes!.map((o) => o.errorKind), ['false match']);
    assert.ok(!('pairs' in store.summary), 'summary.json carries no per-pair records');
    const thumb = (await store.thumbnail(records[1]))!;
    // A PNG of one row per model: two faces of THUMB_FACE (64) pixels side by side.
    assert.deepStrictEqual([thumb.subarray(1, 4).toString(), thumb.readUInt32BE(16), thumb.readUInt32BE(20)], ['PNG', 128, 64]);
    assert.strictEqual(await store.thumbnail(records[10]), undefined, 'a failed pair has none');
    // The stored maps are the pair's maps mean-pooled by the run's factor, to float16 precision.
    const f = mapsDownscale(store.settings.models);
    assert.strictEqual(f, 2, 'one 112×112 model: 2×2 means, 56×56');
    const live = await engine.explainPair({ source: records[1].a, label: 'a' }, { source: records[1].b, label: 'b' });
    const stored = store.maps(records[1], 'model-a')!;
    assert.deepStrictEqual(stored.shape, [56, 56]);
    for (const kind of ['similarity', 'dissimilarity'] as const) {
      for (const side of [0, 1]) {
        const expected = meanPool(live.maps[side][kind], [112, 112], f);
        const max = expected.reduce((x, v) => Math.max(x, Math.abs(v)), 0);
        assert.ok(maxDifference(stored[kind][side], expected) <= 1e-3 * max, `${kind} ${side}`);
      }
    }
    assert.strictEqual(store.maps(records[0], 'model-b'), undefined);
    assert.throws(() => openRunStore(tmp), /no explain-pairs\.json, not an explain-pairs output folder/);
  });

  it('writes aggregate maps equal to the mean of the per-pair maps of both faces', async () => {
    const [m] = whole.models;
    const store = openRunStore(wholeOut);
    const records = store.records();
    assert.deepStrictEqual(m.aggregates.map((g) => [g.group, g.pairs]), GROUPS.map((g) => [g, m.counts[g]]));
    // At full resolution: the false matches (pairs 1 and 3) explained again one by one.
    const live = await Promise.all([1, 3].map((i) => engine.explainPair({ source: records[i].a, label: 'a' }, { source: records[i].b, label: 'b' })));
    const fm = m.aggregates.find((g) => g.group === 'false match')!;
    for (const kind of MAP_KINDS) {
      const expected = mean(live.flatMap((p) => p.maps.map((face) => face[kind])));
      assert.ok(maxDifference(npy(wholeOut, fm.maps[kind].npy), expected) <= 1e-6 * maxDifference(expected, new Float32Array(expected.length)), kind);
    }
    // Every group: its mean, pooled, is the mean of its pairs' stored (pooled, float16) maps.
    for (const g of m.aggregates) {
      const members = records.filter((p) => p.outcomes?.[0].errorKind === g.group);
      for (const kind of ['similarity', 'dissimilarity'] as const) {
        const expected = mean(members.flatMap((p) => store.maps(p, 'model-a')![kind]));
        const aggregate = meanPool(npy(wholeOut, g.maps[kind].npy), [112, 112], 2);
        assert.strictEqual(g.maps[kind].npy, path.join('aggregate', 'model-a', `${slug(g.group)}_${kind}.npy`));
        assert.ok(maxDifference(aggregate, expected) <= 1e-3 * maxDifference(expected, new Float32Array(expected.length)), `${g.group} ${kind}`);
      }
    }
    const tm = npy(wholeOut, m.aggregates[0].maps.combined.npy);
    const fnm = npy(wholeOut, m.aggregates[3].maps.combined.npy);
    assert.deepStrictEqual(npy(wholeOut, m.fnmMinusTm!.npy), fnm.map((v, p) => v - tm[p]));
    // Region sums of each group's mean maps add up to the maps' totals; FNM − TM per region is their difference.
    const total = (v: Float32Array) => v.reduce((t, x) => t + x, 0);
    for (const g of m.aggregates) {
      for (const kind of MAP_KINDS) {
        const sum = g.regions!.reduce((t, r) => t + r[kind], 0);
        assert.ok(Math.abs(sum - total(npy(wholeOut, g.maps[kind].npy))) <= 1e-4 * Math.abs(sum), `${g.group} ${kind}`);
      }
    }
    m.fnmMinusTmRegions!.forEach((r, i) => {
      const [fnmSum, tmSum] = [m.aggregates[3].regions![i].combined, m.aggregates[0].regions![i].combined];
      assert.ok(Math.abs(r.combined - (fnmSum - tmSum)) <= 1e-5 * (Math.abs(fnmSum) + Math.abs(tmSum)), r.name); // float32 pixel differences
    });
    const report = fs.readFileSync(path.join(wholeOut, 'report.html'), 'utf8');
    assert.match(report, /<th>FNM − TM<\/th>/);
    assert.ok(report.includes(headlineInWords(m.fnmMinusTmRegions!)));
  });

  it('says in words where false non-matches differ from true matches, by region', () => {
    const r = (name: string, combined: number) => ({ name, similarity: 0, dissimilarity: 0, combined, pixels: 1 });
    const regions = [r('left eye', -2e-3), r('right eye', -1e-3), r('nose', 5e-4), r('mouth', -1e-4), r('chin', 2e-4), r('rest', 0)];
    assert.strictEqual(headlineInWords(regions), 'Against true matches, false non-matches have less support at eyes (-3.0e-3), mouth (-1.0e-4), more at nose (+5.0e-4), chin (+2.0e-4).');
  });

  it('with model B equal to model A, agrees on every pair and every difference is exactly zero', async () => {
    const out = path.join(tmp, 'twice');
    const s = await explainPairList({ list, out, engine, engineB: engine, batch: 8 });
    assert.deepStrictEqual(s.comparison?.disagreements, []);
    assert.strictEqual(s.comparison?.mapsComparable, true);
    assert.deepStrictEqual(s.models[1].falseMatches, s.models[0].falseMatches);
    const differences = s.comparison!.aggregates.flatMap((g) => MAP_KINDS.map((k) => g.maps[k].npy));
    assert.strictEqual(differences.length, 4 * 3);
    for (const file of differences) assert.ok(npy(out, file).every((v) => v === 0), file);
    // Both models' stored maps of every explained pair are the same.
    const store = openRunStore(out);
    const explained = store.records().filter((r) => r.stored);
    assert.strictEqual(explained.length, 10);
    for (const r of explained) assert.deepStrictEqual(store.maps(r, 'model-b'), store.maps(r, 'model-a'));
    // Two models fit the maps budget with 3×3 means (38×38).
    assert.deepStrictEqual(store.maps(explained[0], 'model-a')!.shape, [38, 38]);
    assert.deepStrictEqual(s.models[0].aggregates, whole.models[0].aggregates);
  });

  it('resumes an aborted run to the same outputs as an uninterrupted one', async () => {
    const out = path.join(tmp, 'resumed');
    const controller = new AbortController();
    const stop = new Error('stop');
    await assert.rejects(
      explainPairList({ list, out, engine, batch: 4 }, { signal: controller.signal, onProgress: (p) => p.done >= 4 && controller.abort(stop) }),
      (e) => e === stop,
    );
    const records = path.join(out, 'pairs.jsonl');
    assert.strictEqual(fs.readFileSync(records, 'utf8').trim().split('\n').length, 4);
    // A run killed in the middle of a write leaves half a line: it is dropped, that pair redone.
    fs.appendFileSync(records, '{"index":4,"a":"');
    const resumed = await explainPairList({ list, out, engine, batch: 4 });
    assert.strictEqual(fs.readFileSync(records, 'utf8').trim().split('\n').length, 11);
    assert.deepStrictEqual(resumed, whole);
    for (const g of whole.models[0].aggregates) for (const k of MAP_KINDS) assert.deepStrictEqual(npy(out, g.maps[k].npy), npy(wholeOut, g.maps[k].npy));
    await assert.rejects(explainPairList({ list, out, engine, threshold: 0.3 }), /holds a run with other settings/);
  });

  it('merges shard outputs into the same outputs as one run, and refuses shards of other runs', async () => {
    const shards = [1, 2, 3].map((i) => path.join(tmp, `shard${i}`));
    for (const [i, out] of shards.entries()) await explainPairList({ list, out, engine, batch: 4, shard: { index: i + 1, count: 3 } });
    const merged = path.join(tmp, 'merged');
    const { summary } = await mergePairListShards(merged, shards);
    assert.deepStrictEqual(summary, whole);
    for (const g of whole.models[0].aggregates) for (const k of MAP_KINDS) assert.deepStrictEqual(npy(merged, g.maps[k].npy), npy(wholeOut, g.maps[k].npy));
    const [one, joined] = [openRunStore(wholeOut), openRunStore(merged)];
    assert.deepStrictEqual(joined.records(), one.records());
    for (const r of one.records().filter((p) => p.stored)) {
      assert.deepStrictEqual(await joined.thumbnail(r), await one.thumbnail(r), `thumbnail ${r.index}`);
      assert.deepStrictEqual(joined.maps(r, 'model-a'), one.maps(r, 'model-a'), `maps ${r.index}`);
    }
    assert.ok(fs.statSync(path.join(merged, 'report.html')).size > 1000);

    await assert.rejects(mergePairListShards(path.join(tmp, 'm2'), [shards[0], shards[0]]), /pair 0 appears in more than one shard/);
    const other = path.join(tmp, 'other-threshold');
    await explainPairList({ list, out: other, engine, threshold: 0.3, shard: { index: 2, count: 3 } });
    await assert.rejects(mergePairListShards(path.join(tmp, 'm3'), [shards[0], other]), /other-threshold: its run settings differ/);
    await assert.rejects(mergePairListShards(path.join(tmp, 'm4'), [shards[0], tmp]), /no explain-pairs\.json, not an output folder/);
    assert.ok(!fs.existsSync(path.join(tmp, 'm2')) && !fs.existsSync(path.join(tmp, 'm3')), 'nothing is written when shards do not fit');
  });

  /** Each crop's gender: the man_* crops M, the sample* ones F. */
  const genderTable = () => {
    const table = path.join(tmp, 'gender.csv');
    const images = [...new Set(LIST.flatMap(([a, b]) => [a, b]))];
    fs.writeFileSync(table, `image,gender\n${images.map((n) => `${crop(n)},${n.startsWith('sample') ? 'F' : 'M'}`).join('\n')}\n`);
    return table;
  };
  let byGender: PairListSummary;
  const byGenderOut = path.join(tmp, 'by-gender');

  it('groups the run by a gender table joined per image: exact per-group counts and rates, the cross-group pair apart', async () => {
    // The lens is given when the run starts: its groups' mean maps are running means too.
    const out = byGenderOut;
    const s = (byGender = await explainPairList({ list, out, engine, batch: 4, attributes: genderTable(), by: ['gender'], minGroup: 1 }));
    const [m] = s.groups!.models;
    // Pairs 0–4 are M/M (genuine 0, 2, 4; impostors 1, 3 both false matches); 5–7 F/F (pair 6
    // genuine, a false non-match; 5 and 7 impostors, rejected); pair 8 is genuine across F/M.
    assert.deepStrictEqual(
      m.groups.map((g) => [g.name, g.crossGroup, g.genuine, g.impostor, g.global.fmr.errors, g.global.fnmr.errors]),
      [
        ['gender=F/F', false, 1, 2, 0, 1],
        ['gender=M/M', false, 3, 2, 2, 0],
        ['gender=F/M', true, 1, 0, 0, 1],
      ],
    );
    assert.deepStrictEqual(m.fmrRatio, { worst: 'gender=M/M', best: 'gender=F/F', ratio: null });
    assert.deepStrictEqual([m.impostors.withinGroup.errors, m.impostors.withinGroup.pairs, m.impostors.crossGroup.pairs], [2, 4, 0]);
    assert.deepStrictEqual(readSummary(out).groups, JSON.parse(JSON.stringify(s.groups)));
    // The gallery groups the cards by the lens the run folder keeps: each pair's group of the table.
    const groups = lensGroups(readLens(out));
    assert.deepStrictEqual(Array.from({ length: 10 }, (_, i) => groups(i)), [...Array(5).fill('gender=M/M'), ...Array(3).fill('gender=F/F'), 'gender=F/M', 'gender=F/F']);
    assert.strictEqual(lensGroups(readLens(wholeOut))(0), undefined, 'a run without --by groups nothing');
    // Per-group mean maps: M/M's false matches are pairs 1 and 3, both faces pooled.
    const fm = m.groups[1].aggregates!.find((g) => g.group === 'false match')!;
    assert.strictEqual(fm.pairs, 2);
    assert.deepStrictEqual(m.groups[1].aggregates!.map((g) => [g.group, g.pairs]), [['true match', 3], ['false match', 2]]);
    // The whole run's false matches are the same two pairs.
    const allFm = whole.models[0].aggregates.find((g) => g.group === 'false match')!;
    for (const kind of MAP_KINDS) assert.ok(maxDifference(npy(out, fm.maps[kind].npy), npy(wholeOut, allFm.maps[kind].npy)) < 1e-9, kind);
    // A lens given only to a finished run: rates per group, no per-group maps.
    const late = path.join(tmp, 'late-lens');
    fs.cpSync(wholeOut, late, { recursive: true });
    const lateTable = (await explainPairList({ list, out: late, engine, batch: 4, attributes: genderTable(), by: ['gender'], minGroup: 1 })).groups!;
    assert.deepStrictEqual(lateTable.models[0].groups.map((g) => [g.name, g.global.fmr.errors, g.aggregates]), m.groups.map((g) => [g.name, g.global.fmr.errors, []]));
    assert.strictEqual(lateTable.mapsNote, 'no per-group mean maps: pairs of this run were explained before --by gender was given; run into a new --out folder with --by gender from the start for them');
    assert.strictEqual(s.groups!.mapsNote, undefined);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /Error rates by gender/);
    assert.match(html, /<td>gender=F\/M<\/td><td>1<\/td><td>0<\/td>/);
  });

  it('compares two groups: per error kind the difference of their mean maps, by region, as the headline and in words', async () => {
    // band: A/A holds pairs 0, 2 (true matches), 1 (false match), 5 (true non-match), 6 (false
    // non-match) and 9 (unlabelled); B/B holds 4, 3, 7 and 8, one of each kind.
    const out = path.join(tmp, 'by-band');
    const b = new Set(['man_07_face0', 'man_08_face0', 'man_09_face0', 'man_10_face0', 'sample4_face1', 'sample6_face0', 'man_11_face0', 'sample6_face1']);
    const table = path.join(tmp, 'band.csv');
    const images = [...new Set(LIST.flatMap(([a, b]) => [a, b]))];
    fs.writeFileSync(table, `image,band\n${images.map((n) => `${crop(n)},${b.has(n) ? 'B' : 'A'}`).join('\n')}\n`);
    const s = await explainPairList({ list, out, engine, batch: 4, attributes: table, by: ['band'], compare: { attribute: 'band', x: 'A/A', y: 'B/B' } });
    const c = s.groups!.compare!;
    assert.deepStrictEqual([c.attribute, c.x, c.y], ['band', 'band=A/A', 'band=B/B']);
    const [m] = c.models;
    assert.deepStrictEqual([m.x, m.y], [
      { name: 'band=A/A', genuine: 3, impostor: 2, tooSmall: true },
      { name: 'band=B/B', genuine: 2, impostor: 2, tooSmall: true },
    ]);
    const members: Record<string, [number[], number[]]> = { 'true match': [[0, 2], [4]], 'true non-match': [[5], [7]], 'false match': [[1], [3]], 'false non-match': [[6], [8]] };
    assert.deepStrictEqual(m.kinds.map((k) => [k.group, k.pairs]), GROUPS.map((g) => [g, [members[g][0].length, members[g][1].length]]));
    // Each pair's full-resolution maps, explained again alone.
    const records = openRunStore(out).records();
    const live = await Promise.all([...Array(9).keys()].map((i) => engine.explainPair({ source: records[i].a, label: 'a' }, { source: records[i].b, label: 'b' })));
    const faces = (pairs: number[], kind: MapKind) => pairs.flatMap((i) => live[i].maps.map((face) => face[kind]));
    const [ax, bx] = ['band=A/A', 'band=B/B'].map((name) => s.groups!.models[0].groups.find((g) => g.name === name)!);
    for (const k of m.kinds) {
      for (const kind of MAP_KINDS) {
        const [x, y] = members[k.group].map((pairs) => mean(faces(pairs, kind)));
        assert.ok(maxDifference(npy(out, k.maps[kind].npy), Float32Array.from(x, (v, p) => v - y[p])) < 1e-6, `${k.group} ${kind}`);
      }
      // The difference's region sums are the groups' region sums subtracted.
      const [rx, ry] = [ax, bx].map((g) => g.aggregates!.find((a) => a.group === k.group)!.regions!);
      k.regions.forEach((r, i) => assert.ok(Math.abs(r.combined - (rx[i].combined - ry[i].combined)) < 1e-6 * (1 + Math.abs(r.combined)), `${k.group} ${r.name}`));
    }
    assert.deepStrictEqual(readSummary(out).groups!.compare, JSON.parse(JSON.stringify(c)));
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    const headline = html.indexOf('Where band=A/A differs from band=B/B, per error kind');
    assert.ok(headline > 0 && headline < html.indexOf('Where false non-matches differ from true matches'), 'the comparison is the first headline');
    assert.match(html, /band=A\/A is too small to compare \(3 genuine, 2 impostor pairs; under 30\)/);
    // The model's own rates carry their intervals: false matches 1 and 3 of impostors 1, 3, 5, 7; false non-matches 6 and 8 of genuine 0, 2, 4, 6, 8 (wilson(2, 5) = [11.76%, 76.93%]).
    assert.ok(html.includes('FMR 50.00% <small>[15.00%, 85.00%] 2/4</small> of the impostor pairs · FNMR 40.00% <small>[11.76%, 76.93%] 2/5</small> of the genuine pairs'), 'model rates with intervals');
    assert.match(html, /<b>false non-match<\/b>: Against the false non-matches of band=B\/B \(1\), those of band=A\/A \(1\) have less support at /);
    const lines = groupLines(s.groups!);
    const at = lines.indexOf('  band=A/A − band=B/B, mean maps per error kind (in aggregate/model-a/compare):');
    assert.ok(at > 0, lines.join('\n'));
    assert.match(lines[at + 3], /^ {4}false non-match: Against the false non-matches of band=B\/B \(1\), those of band=A\/A \(1\) have less support at .*\.$/);
    assert.match(lines[at + 6], /^ {4}true non-match: /);
  });

  it('keeps group maps only for the lens a run had from its first explained pair', async () => {
    // Killed after 4 pairs without --by, resumed with it: the group buckets would hold only the
    // last 6 pairs, so there are none, and the run says why.
    const out = path.join(tmp, 'lens-late-resume');
    const controller = new AbortController();
    const stop = new Error('stop');
    const run = (more: Partial<Parameters<typeof explainPairList>[0]>, hooks = {}) => explainPairList({ list, out, engine, batch: 4, ...more }, hooks);
    await assert.rejects(run({}, { signal: controller.signal, onProgress: (p: { done: number }) => p.done >= 4 && controller.abort(stop) }), (e) => e === stop);
    const gender = { attributes: genderTable(), by: ['gender'], minGroup: 1 };
    const resumed = (await run(gender)).groups!;
    assert.deepStrictEqual(resumed.models[0].groups.map((g) => g.aggregates), [[], [], []]);
    assert.match(resumed.mapsNote!, /^no per-group mean maps: pairs of this run were explained before --by gender was given/);
    assert.ok(!fs.existsSync(path.join(out, 'aggregate', 'model-a', 'by-group')));
    // The rates count every pair all the same.
    assert.deepStrictEqual(resumed.models, byGender.groups!.models.map((m) => ({ ...m, groups: m.groups.map((g) => ({ ...g, aggregates: [] })) })));
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /⚠ no per-group mean maps: pairs of this run were explained before --by gender was given/);
    // A run killed with --by keeps its lens from the start, so a resume can be given it again.
    const killed = path.join(tmp, 'lens-killed');
    const stopping = new AbortController();
    await assert.rejects(
      explainPairList({ list, out: killed, engine, batch: 4, ...gender }, { signal: stopping.signal, onProgress: (p) => p.done >= 4 && stopping.abort(stop) }),
      (e) => e === stop,
    );
    assert.deepStrictEqual(readLens(killed)!.by, ['gender']);

    // A run with --by and --compare from the start, given the comparison the other way round:
    // its group maps stay, the new comparison has counts but no maps, and the files of the
    // earlier one go; given the first comparison again, its maps come back the same.
    const banded = path.join(tmp, 'lens-compare');
    fs.cpSync(path.join(tmp, 'by-band'), banded, { recursive: true });
    const original = readSummary(banded).groups!;
    const band = (x: string, y: string) => explainPairList({ list, out: banded, engine, batch: 4, attributes: path.join(tmp, 'band.csv'), by: ['band'], compare: { attribute: 'band', x, y } });
    const swapped = (await band('B/B', 'A/A')).groups!;
    assert.strictEqual(
      swapped.compare!.mapsNote,
      'no --compare maps: pairs of this run were explained under --compare band=A/A,band=B/B; run into a new --out folder with --compare band=B/B,band=A/A from the start for them',
    );
    const [o, w] = [original.compare!.models[0], swapped.compare!.models[0]];
    assert.deepStrictEqual([w.kinds, w.x, w.y], [[], o.y, o.x]);
    assert.strictEqual(swapped.mapsNote, undefined);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(swapped.models)), original.models, 'the --by maps stay');
    assert.ok(!fs.existsSync(path.join(banded, 'aggregate', 'model-a', 'compare')), "the earlier comparison's files are gone");
    const lines = groupLines(swapped);
    assert.match(lines[0], /^warning: no --compare maps: /);
    assert.ok(!lines.some((l) => l.includes('no error kind has explained pairs in both groups')));
    const back = (await band('A/A', 'B/B')).groups!;
    assert.deepStrictEqual(JSON.parse(JSON.stringify(back)), original);
    for (const k of back.compare!.models[0].kinds) assert.deepStrictEqual(npy(banded, k.maps.combined.npy), npy(path.join(tmp, 'by-band'), k.maps.combined.npy), k.group);
  });

  it('merges shards run with --by into the group table of one run, and refuses shards of other lenses', async () => {
    // Shards run with --by from the start: their groups' running means are merged.
    const shards = [1, 2, 3].map((i) => path.join(tmp, `gender-shard${i}`));
    for (const [i, out] of shards.entries()) {
      await explainPairList({ list, out, engine, batch: 4, shard: { index: i + 1, count: 3 }, attributes: genderTable(), by: ['gender'], minGroup: 1 });
    }
    const merged = path.join(tmp, 'gender-merged');
    const { summary } = await mergePairListShards(merged, shards);
    assert.deepStrictEqual(summary.groups, byGender.groups);
    const files = byGender.groups!.models[0].groups.flatMap((g) => g.aggregates!.flatMap((a) => MAP_KINDS.map((k) => a.maps[k].npy)));
    assert.strictEqual(files.length, 5 * 3, 'F/F: TNM, FNM; M/M: TM, FM; F/M: FNM; three maps each');
    for (const file of files) assert.deepStrictEqual(npy(merged, file), npy(byGenderOut, file), file);

    await assert.rejects(mergePairListShards(path.join(tmp, 'gm2'), [shards[0], path.join(tmp, 'shard2')]), /shard2: its fairness lens \(groups\.json\) differs from .*gender-shard1's \(no --by, .*gender-shard1 --by gender\)/);
    assert.ok(!fs.existsSync(path.join(tmp, 'gm2')), 'nothing is written when the lenses differ');
  });
});

describe('xssab explain-pairs', function () {
  this.timeout(60000);
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'explain-pairs', ...args], { encoding: 'utf8', cwd: root });
  const assertCleanError = (r: ReturnType<typeof run>, message: RegExp) => {
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  };

  it('refuses bad input with a clear message and no stack trace', () => {
    const user = path.join(tmp, 'user-files');
    fs.mkdirSync(user, { recursive: true });
    fs.writeFileSync(path.join(user, 'notes.txt'), 'mine');
    const list = path.join(root, 'samples', 'pairs.csv');
    assertCleanError(run(list, '--out', user), /user-files: folder is not empty and holds no earlier xSSAB result/);
    assert.strictEqual(fs.readFileSync(path.join(user, 'notes.txt'), 'utf8'), 'mine');
    assertCleanError(run(path.join(tmp, 'nope.csv'), '--out', path.join(tmp, 'o')), /nope\.csv: pair list not found/);
    assertCleanError(run(list), /explain-pairs needs --out DIR/);
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--threshold-b', '0.4'), /--threshold-b needs --model-b/);
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--shard', '3/2'), /--shard must be i\/n/);
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--lfw', path.join(tmp, 'no-lfw')), /no-lfw: LFW folder not found/);
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--by', 'gender'), /--by gender: no such attribute; the pairs have none/);
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--min-group', '5'), /--min-group needs --by/);
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--compare', 'gender=F/F,gender=M/M'), /--compare needs --by/);
    const attributes = path.join(root, 'samples', 'attributes.csv');
    assertCleanError(run(list, '--out', path.join(tmp, 'o'), '--attributes', attributes, '--by', 'gender', '--compare', 'gender=F/F,gender=X/X'), /--compare gender=X\/X: no pair has it; the pairs have gender=F\/F, gender=F\/M, gender=M\/M/);
    assertCleanError(run('merge', path.join(tmp, 'o')), /explain-pairs merge needs an output folder and at least one shard folder/);
    assertCleanError(run('merge', path.join(tmp, 'o'), user), /user-files: no explain-pairs\.json, not an output folder of a run/);
    // A run folder whose settings were cut short: named, not a parser's message.
    const cut = path.join(tmp, 'cut-settings');
    fs.mkdirSync(cut, { recursive: true });
    fs.writeFileSync(path.join(cut, 'explain-pairs.json'), '{"version": 1, "list"');
    assertCleanError(run(list, '--out', cut, '--explain', 'none'), /cut-settings[\\/]explain-pairs\.json: not valid JSON \(.*\); it was cut short or edited: restore it, or choose another output folder/);
    assertCleanError(run('merge', path.join(tmp, 'o2'), cut), /explain-pairs\.json: not valid JSON/);
  });
});
