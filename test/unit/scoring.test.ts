// explain-pairs at benchmark scale: one embedding per distinct image (cached on disk), every pair
// scored, only the selected pairs explained; the threshold at an FMR; the selection itself.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { shard } from '../../src/cli/args';
import { Engine } from '../../src/engine/engine';
import { embedImagesCached, modelCacheDir } from '../../src/engine/explainPairs/embeddingCache';
import { RECORDS_FILE, explainPairList, mergePairListShards } from '../../src/engine/explainPairs/run';
import { MEANS_FILE } from '../../src/engine/explainPairs/aggregate';
import { THUMBS_FILE, mapsFile, openRunStore } from '../../src/engine/explainPairs/store';
import { type ScoredPair, parseSelection, selectPairs, thresholdAtFmr } from '../../src/engine/explainPairs/select';
import { readNpy } from '../../src/engine/output';
import type { PairListRecord } from '../../src/shared/pairListSummary';
import type { RunProgress } from '../../src/engine/runFiles';
import { MAP_KINDS } from '../../src/shared/result';

const root = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-scoring-'));
const aligned = path.join(root, 'samples', 'aligned');
const CROPS = fs.readdirSync(aligned).sort().map((f) => path.join(aligned, f));
const records = (out: string): PairListRecord[] => openRunStore(out).records();
/** Lines of pairs.jsonl, of a run that may not have finished. */
const lines = (out: string) => fs.readFileSync(path.join(out, RECORDS_FILE), 'utf8').trim().split('\n');

describe('threshold at an FMR', () => {
  it('accepts ⌊F·n⌋ impostor scores: just above the (k+1)-th highest', () => {
    const impostor = [0.05, 0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4, 0.5];
    const fmr = (t: number) => impostor.filter((s) => s >= t).length / impostor.length;
    const t = thresholdAtFmr(impostor, 0.2);
    assert.ok(t > 0.7 && t - 0.7 < 1e-15, String(t));
    assert.strictEqual(fmr(t), 0.2);
    assert.strictEqual(fmr(thresholdAtFmr(impostor, 0.25)), 0.2, 'between two counts: the lower FMR');
    assert.strictEqual(fmr(thresholdAtFmr(impostor, 0.01)), 0, 'fewer than one impostor: none accepted');
    assert.ok(thresholdAtFmr(impostor, 0.01) > 0.9);
    // Ties at the boundary are all rejected: FMR 1/5 asked for, the two 0.5s cannot be split.
    assert.strictEqual(thresholdAtFmr([0.5, 0.5, 0.1, 0.2, 0.3], 0.2), thresholdAtFmr([0.5, 0.5, 0.1, 0.2, 0.3], 0.3));
    assert.strictEqual([0.5, 0.5, 0.1, 0.2, 0.3].filter((s) => s >= thresholdAtFmr([0.5, 0.5, 0.1, 0.2, 0.3], 0.2)).length, 0);
    assert.throws(() => thresholdAtFmr([], 0.1), /no impostor scores/);
  });
});

describe('pair selection', () => {
  // 30 pairs: 10 true matches, 10 true non-matches, 3 false matches, 2 false non-matches, 5 unlabelled; 2 unscorable.
  const kinds = [
    ...Array(10).fill('true match'),
    ...Array(10).fill('true non-match'),
    ...Array(3).fill('false match'),
    ...Array(2).fill('false non-match'),
    ...Array(5).fill('unlabelled'),
  ];
  const pairs: ScoredPair[] = [...kinds.map((k, index) => ({ index, kinds: [k] })), { index: 30 }, { index: 31 }];
  const count = (chosen: Set<number>, kind: string) => [...chosen].filter((i) => kinds[i] === kind).length;

  it('all, none, errors with a sample per group, a sample alone; the same pairs every time', () => {
    assert.deepStrictEqual([...selectPairs(pairs, parseSelection('all')!)], [...Array(30).keys()]);
    assert.strictEqual(selectPairs(pairs, parseSelection('none')!).size, 0);
    const errors = selectPairs(pairs, { kind: 'errors', sample: 4 });
    assert.deepStrictEqual(['true match', 'true non-match', 'false match', 'false non-match', 'unlabelled'].map((k) => count(errors, k)), [4, 4, 3, 2, 4]);
    const sample = selectPairs(pairs, parseSelection('sample:2')!);
    assert.deepStrictEqual(['true match', 'true non-match', 'false match', 'false non-match', 'unlabelled'].map((k) => count(sample, k)), [2, 2, 2, 2, 2]);
    assert.deepStrictEqual(selectPairs(pairs, parseSelection('sample:2')!), sample);
    // An error of model B alone is explained too.
    const b = selectPairs([{ index: 0, kinds: ['true match', 'false non-match'] }], { kind: 'errors', sample: 0 });
    assert.deepStrictEqual([...b], [0]);
    for (const bad of ['some', 'sample:0', 'sample:', 'sample:x']) assert.strictEqual(parseSelection(bad), undefined);
  });
});

describe('explain-pairs scoring stage', function () {
  this.timeout(300000);
  let engine: Engine;
  before(async () => {
    engine = await Engine.create();
  });
  after(() => engine.dispose());

  it('20,000 pairs over 40 distinct images embed exactly 40 faces, and explain only the selected pairs', async () => {
    const list = path.join(tmp, 'big.csv');
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = i % 40;
      const b = (a + 1 + Math.floor(i / 40)) % 40;
      lines.push(`${CROPS[a]},${CROPS[b === a ? (a + 1) % 40 : b]},${i % 2 ? 'same' : 'different'}`);
    }
    fs.writeFileSync(list, lines.join('\n') + '\n');
    const cache = path.join(tmp, 'cache-big');
    const out = path.join(tmp, 'big');
    const before = engine.embeddedFaces;
    const stats: unknown[] = [];
    const progress: [string, RunProgress][] = [];
    const summary = await explainPairList(
      { list, out, engine, explain: { kind: 'sample', sample: 1 }, embeddingCache: cache, batch: 64 },
      { onEmbeddings: (_, s) => stats.push(s), onEmbeddingProgress: (key, p) => progress.push([key, p]) },
    );
    assert.strictEqual(engine.embeddedFaces - before, 40);
    assert.deepStrictEqual(stats, [{ images: 40, hits: 0, embedded: 40 }]);
    // The scoring stage says how far it is: one chunk of 40 images here.
    assert.deepStrictEqual(progress.map(([key, p]) => [key, p.unit, p.done, p.total, p.secondsLeft, p.perSecond > 0]), [['model-a', 'images', 40, 40, 0, true]]);
    assert.strictEqual(summary.total, 20000);
    const recorded = records(out);
    assert.strictEqual(recorded.length, 20000);
    const explained = recorded.filter((r) => r.outcomes && !r.scoredOnly);
    // One per group: true match, true non-match, and whichever errors the labels make.
    const groups = new Set(recorded.filter((r) => r.outcomes).map((r) => r.outcomes![0].errorKind));
    assert.strictEqual(explained.length, groups.size);
    assert.strictEqual(summary.explained, groups.size);
    // As many files as for any list: the store's, the summary's and the aggregates'.
    assert.deepStrictEqual(fs.readdirSync(out).sort(), ['aggregate', 'explain-pairs.json', 'images.jsonl', 'model-a.maps.npy', 'pairs.jsonl', 'report.html', 'running-means.bin', 'summary.json', 'thumbs.bin']);
    assert.strictEqual(fs.readFileSync(path.join(out, 'images.jsonl'), 'utf8').trim().split('\n').length, 40);
    const maps = fs.readFileSync(path.join(out, mapsFile('model-a')));
    assert.match(maps.subarray(0, 128).toString('latin1'), new RegExp(`^\\x93NUMPY\\x01\\x00\\x76\\x00\\{'descr': '<f2', 'fortran_order': False, 'shape': \\(${groups.size}, 2, 2, 56, 56\\), \\} +\\n$`));
    assert.strictEqual(maps.length, 128 + groups.size * 2 * 2 * 56 * 56 * 2);
    // Rates count every scored pair.
    const m = summary.models[0];
    assert.strictEqual(m.genuine + m.impostor, 20000);

    // A second run (another list over the same images) finds all 40 in the cache.
    const again = path.join(tmp, 'big-again');
    const other = path.join(tmp, 'other.csv');
    fs.writeFileSync(other, lines.slice(0, 100).join('\n'));
    const before2 = engine.embeddedFaces;
    stats.length = 0;
    progress.length = 0;
    await explainPairList({ list: other, out: again, engine, explain: { kind: 'none' }, embeddingCache: cache }, { onEmbeddings: (_, s) => stats.push(s), onEmbeddingProgress: (key, p) => progress.push([key, p]) });
    assert.strictEqual(engine.embeddedFaces, before2);
    assert.deepStrictEqual(progress, [], 'nothing to embed, no progress');
    assert.deepStrictEqual(stats, [{ images: 40, hits: 40, embedded: 0 }]);
    // Scores from the cache equal those of the first run (its explained pairs carry the explanation's own score, equal to float precision).
    const first = recorded.slice(0, 100);
    for (const [i, r] of records(again).entries()) {
      const [s, t] = [r.outcomes![0].score, first[i].outcomes![0].score];
      if (first[i].scoredOnly) assert.strictEqual(s, t);
      else assert.ok(Math.abs(s - t) < 1e-5, `${s} vs ${t}`);
    }
  });

  it('records and aggregates of the selected pairs equal those of explaining the same pairs alone', async () => {
    // Model card threshold 0.5659: crops of one man score above it, so labels "different" make false matches.
    const pairs = [...Array(16).keys()].map((i) => [CROPS[i], CROPS[(i * 7 + 3) % 40], i % 3 ? 'different' : 'same']);
    const list = path.join(tmp, 'sel.csv');
    fs.writeFileSync(list, pairs.map((p) => p.join(',')).join('\n'));
    const out = path.join(tmp, 'sel');
    const summary = await explainPairList({ list, out, engine, explain: { kind: 'errors', sample: 2 }, embeddingCache: path.join(tmp, 'cache-sel') });
    const chosen = records(out).filter((r) => !r.scoredOnly);
    assert.ok(chosen.length > 0 && chosen.length < 16, String(chosen.length));
    const alone = path.join(tmp, 'sel-alone');
    const aloneList = path.join(tmp, 'sel-alone.csv');
    fs.writeFileSync(aloneList, chosen.map((r) => pairs[r.index].join(',')).join('\n'));
    const aloneSummary = await explainPairList({ list: aloneList, out: alone, engine, batch: 1, embeddingCache: undefined });
    const aloneRecords = records(alone);
    for (const [k, r] of chosen.entries()) {
      const o = aloneRecords[k].outcomes![0];
      assert.strictEqual(r.outcomes![0].decision, o.decision);
      assert.strictEqual(r.outcomes![0].errorKind, o.errorKind);
      assert.ok(Math.abs(r.outcomes![0].score - o.score) < 1e-5);
      const [x, y] = [openRunStore(out).maps(r, 'model-a')!, openRunStore(alone).maps(aloneRecords[k], 'model-a')!];
      for (const kind of ['similarity', 'dissimilarity'] as const) {
        const max = y[kind][0].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(x[kind][0].every((v, p) => Math.abs(v - y[kind][0][p]) <= 1e-3 * max), kind);
      }
    }
    const aggregates = (s: typeof summary) => s.models[0].aggregates.map((g) => ({ group: g.group, pairs: g.pairs }));
    assert.deepStrictEqual(aggregates(summary), aggregates(aloneSummary));
    for (const [g, group] of summary.models[0].aggregates.entries()) {
      for (const kind of MAP_KINDS) {
        const [x, y] = [readNpy(path.join(out, group.maps[kind].npy)).data, readNpy(path.join(alone, aloneSummary.models[0].aggregates[g].maps[kind].npy)).data];
        assert.ok(x.every((v, p) => Math.abs(v - y[p]) < 1e-5), `${group.group} ${kind}`);
      }
    }
    // Every pair is scored; errors are counted over all of them.
    assert.strictEqual(summary.total, 16);
    assert.strictEqual(summary.models[0].counts['false match'], records(out).filter((r) => r.outcomes![0].errorKind === 'false match').length);
  });

  it('a killed run resumes with nothing lost or counted twice', async () => {
    const list = path.join(tmp, 'resume.csv');
    fs.writeFileSync(list, [...Array(24).keys()].map((i) => `${CROPS[i % 40]},${CROPS[(i + 5) % 40]},${i % 2 ? 'same' : 'different'}`).join('\n'));
    const cache = path.join(tmp, 'cache-resume');
    const options = { list, engine, explain: { kind: 'errors', sample: 1 } as const, embeddingCache: cache, batch: 4 };
    const whole = await explainPairList({ ...options, out: path.join(tmp, 'resume-whole') });
    const out = path.join(tmp, 'resumed');
    const controller = new AbortController();
    const stop = new Error('stop');
    // The running means as saved after the first batch: kept, to be put back as if the run had been
    // killed after appending the second batch's records but before saving its means.
    let early: Buffer | undefined;
    const onProgress = (p: { done: number }) => {
      if (p.done === 4) early = fs.readFileSync(path.join(out, MEANS_FILE));
      if (p.done >= 8) controller.abort(stop);
    };
    await assert.rejects(explainPairList({ ...options, out }, { signal: controller.signal, onProgress }), (e) => e === stop);
    assert.strictEqual(lines(out).length, 8);
    assert.ok(lines(out).slice(4).some((l) => 'row' in JSON.parse(l)), 'the second batch explained a pair');
    fs.writeFileSync(path.join(out, MEANS_FILE), early!);
    // Half a line, a maps row and thumbnail bytes the records do not name: all cut on resume.
    fs.appendFileSync(path.join(out, RECORDS_FILE), '{"index":8,"a":"');
    fs.appendFileSync(path.join(out, mapsFile('model-a')), Buffer.alloc(2 * 2 * 2 * 56 * 56 * 2, 7));
    fs.appendFileSync(path.join(out, THUMBS_FILE), 'torn');
    const resumed = await explainPairList({ ...options, out });
    assert.deepStrictEqual(records(out).map((r) => r.index).sort((a, b) => a - b), [...Array(24).keys()]);
    assert.deepStrictEqual(records(out), records(path.join(tmp, 'resume-whole')));
    for (const file of [mapsFile('model-a'), THUMBS_FILE, MEANS_FILE]) {
      assert.deepStrictEqual(fs.readFileSync(path.join(out, file)), fs.readFileSync(path.join(tmp, 'resume-whole', file)), file);
    }
    assert.deepStrictEqual({ ...resumed, list: undefined }, { ...whole, list: undefined });
    await assert.rejects(explainPairList({ ...options, out, explain: { kind: 'all' } }), /holds a run with other settings/);
  });

  it('two --shard auto runs under Slurm array variables, merged, equal one run', async () => {
    const list = path.join(tmp, 'slurm.csv');
    fs.writeFileSync(list, [...Array(12).keys()].map((i) => `${CROPS[i]},${CROPS[(i + 13) % 40]},${i % 2 ? 'same' : 'different'}`).join('\n'));
    // Errors only: which pairs are errors does not depend on the sharding (a sample per group is drawn per shard).
    const options = { list, engine, explain: { kind: 'errors', sample: 0 } as const, embeddingCache: path.join(tmp, 'cache-slurm'), batch: 4 };
    const whole = await explainPairList({ ...options, out: path.join(tmp, 'slurm-whole') });
    const outs = ['7', '8'].map((id) => path.join(tmp, `slurm-${id}`));
    for (const [k, id] of ['7', '8'].entries()) {
      const env = { SLURM_ARRAY_TASK_ID: id, SLURM_ARRAY_TASK_MIN: '7', SLURM_ARRAY_TASK_COUNT: '2' };
      await explainPairList({ ...options, out: outs[k], shard: shard('auto', env) });
    }
    const { summary } = await mergePairListShards(path.join(tmp, 'slurm-merged'), outs);
    assert.ok(whole.explained > 0 && whole.explained < 12, String(whole.explained));
    assert.deepStrictEqual(summary, whole);
  });

  it('concurrent writers of one cache entry leave a valid entry', async () => {
    const cache = path.join(tmp, 'cache-race');
    const list = path.join(tmp, 'race.csv');
    fs.writeFileSync(list, [...Array(8).keys()].map((i) => `${CROPS[i]},${CROPS[i + 8]},same`).join('\n'));
    // Two CLI runs at once, each embedding the same 16 images into the same cache.
    const cli = path.join(root, 'src', 'cli', 'main.ts');
    const runs = [1, 2].map(
      (k) =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', cli, 'explain-pairs', list, '--out', path.join(tmp, `race${k}`), '--explain', 'none', '--embedding-cache', cache], {
            cwd: root,
            stdio: 'ignore',
          });
          child.on('exit', (code) => resolve(code ?? -1));
        }),
    );
    assert.deepStrictEqual(await Promise.all(runs), [0, 0]);
    const dir = modelCacheDir(cache, engine);
    const entries = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    assert.strictEqual(entries.length, 16, entries.map((e) => e.name).join(' '));
    // Each entry is a whole unit embedding, the same one this engine computes.
    const { embeddings } = await embedImagesCached(engine, CROPS.slice(0, 16), undefined, 16);
    const { embeddings: cached, stats } = await embedImagesCached(engine, CROPS.slice(0, 16), cache, 16);
    assert.deepStrictEqual(stats, { images: 16, hits: 16, embedded: 0 });
    for (const p of CROPS.slice(0, 16)) {
      const [x, y] = [embeddings.get(p) as Float32Array, cached.get(p) as Float32Array];
      assert.ok(x.every((v, i) => Math.abs(v - y[i]) < 1e-6));
    }
    assert.deepStrictEqual(records(path.join(tmp, 'race1')).map((r) => r.outcomes![0].score), records(path.join(tmp, 'race2')).map((r) => r.outcomes![0].score));
  });
});
