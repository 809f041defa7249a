// The run store's pieces on their own: mean pooling and float16 scaling in closed form, the maps
// file's numpy header rewritten as it grows, and the bytes a scored-only pair costs on an
// LFW-like list (images named once, pairs by image number).
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MapsFile, imageLines, mapScale, mapsDownscale, meanPool, pairLine, pairRecord } from '../../src/engine/explainPairs/store';
import type { ModelEntry, PairListRecord } from '../../src/shared/pairListSummary';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-store-'));

describe('run store', () => {
  it('mean-pools f×f blocks, edge blocks over the pixels they hold', () => {
    // 3×5, values 0..14 row-major; 2×2 blocks: [0,1,5,6] [2,3,7,8] [4,9] / [10,11] [12,13] [14].
    const map = Float32Array.from({ length: 15 }, (_, i) => i);
    assert.deepStrictEqual([...meanPool(map, [3, 5], 2)], [3, 5, 6.5, 10.5, 12.5, 14]);
    assert.deepStrictEqual([...meanPool(map, [3, 5], 1)], [...map]);
  });

  it('keeps maps within 26 KB a pair: 2×2 means for one 112×112 model, 3×3 for two', () => {
    const m = (h: number, w: number) => ({ inputSize: [h, w] as [number, number] });
    assert.strictEqual(mapsDownscale([m(112, 112)]), 2); // 2·2·56·56·2 B = 25,088
    assert.strictEqual(mapsDownscale([m(112, 112), m(112, 112)]), 3); // 2 · 2·2·38·38·2 B = 23,104
    assert.strictEqual(mapsDownscale([m(56, 56)]), 1); // 2·2·56·56·2 B = 25,088
    assert.strictEqual(mapsDownscale([m(112, 96)]), 2); // 2·2·56·48·2 B = 21,504
  });

  it('scales each row by a power of two that puts its largest |value| in [2^13, 2^14)', () => {
    assert.strictEqual(mapScale([Float32Array.of(1e-5, -3e-5)]), 13 - Math.floor(Math.log2(3e-5)));
    assert.strictEqual(mapScale([Float32Array.of(0.5)]), 14);
    assert.strictEqual(mapScale([Float32Array.of(0)]), 0);
    const e = mapScale([Float32Array.of(3e-5)]);
    assert.ok(3e-5 * 2 ** e >= 2 ** 13 && 3e-5 * 2 ** e < 2 ** 14);
  });

  it('appends float16 rows behind a fixed 128-byte .npy header that counts them; truncates back', () => {
    const file = new MapsFile(path.join(tmp, 'm.npy'), [2, 3]);
    file.truncate(0);
    file.append(Float32Array.of(1, 2, 3, 4, 5, 6, 0.5, -1, 65504, 1e-3, 0, 7));
    const header = (b: Buffer) => b.subarray(10, 128).toString('latin1');
    let bytes = fs.readFileSync(file.file);
    assert.strictEqual(bytes.length, 128 + 2 * 6 * 2);
    assert.strictEqual(bytes.readUInt16LE(8), 118);
    assert.match(header(bytes), /^\{'descr': '<f2', 'fortran_order': False, 'shape': \(2, 2, 3\), \} +\n$/);
    // float16 bits: 1.0 = 0x3c00, 65504 = 0x7bff.
    assert.deepStrictEqual([bytes.readUInt16LE(128), bytes.readUInt16LE(128 + 8 * 2)], [0x3c00, 0x7bff]);
    assert.deepStrictEqual([...file.read(1)].map((v) => +v.toPrecision(3)), [0.5, -1, 65500, 0.001, 0, 7]);
    file.truncate(1);
    bytes = fs.readFileSync(file.file);
    assert.strictEqual(bytes.length, 128 + 12);
    assert.match(header(bytes), /'shape': \(1, 2, 3\)/);
    assert.strictEqual(file.rows, 1);
  });

  it('records a scored-only pair of an LFW-like list in at most 200 bytes, and reads it back', () => {
    // 6,000 pairs over 7,701 images (LFW View 2's reuse, 1.28 distinct images a pair), LFW names.
    const root = '/data/lfw';
    const names = Array.from({ length: 7701 }, (_, i) => {
      const person = `${['Aaron', 'Gloria', 'Jean-Claude', 'Mohammed'][i % 4]}_${['Peirsol', 'Macapagal_Arroyo', 'Van_Damme', 'Al-Douri'][(i >> 2) % 4]}${i >> 4}`;
      return path.join(root, person, `${person}_${String((i % 9) + 1).padStart(4, '0')}.jpg`);
    });
    const model: ModelEntry = { key: 'model-a', name: 'm', path: '/m.onnx', sha256: 'x', inputSize: [112, 112], threshold: 0.3, thresholdSource: 'model card' };
    const index = new Map(names.map((p, i) => [p, i]));
    const records: PairListRecord[] = Array.from({ length: 6000 }, (_, i) => {
      const score = Math.sin(i) * 0.7123456789;
      const same = i % 2 === 0;
      return {
        index: i,
        a: names[i % 7701],
        b: names[(i * 7 + 1) % 7701],
        label: same ? 'same' : 'different',
        outcomes: [{ score, decision: score >= 0.3 ? 'match' : 'no match', margin: score - 0.3, errorKind: same ? (score >= 0.3 ? 'true match' : 'false non-match') : score >= 0.3 ? 'false match' : 'true non-match' }],
        scoredOnly: true,
      };
    });
    const lines = records.map((r) => JSON.stringify(pairLine(r, index)) + '\n').join('');
    const bytes = Buffer.byteLength(lines) + Buffer.byteLength(imageLines(root, names));
    assert.ok(bytes / 6000 <= 200, `${(bytes / 6000).toFixed(1)} bytes a pair`);
    if (process.env.XSSAB_STORE_BYTES) console.log(`${(bytes / 6000).toFixed(1)} bytes a scored-only pair`);
    const back = lines.trim().split('\n').map((l) => pairRecord(JSON.parse(l), names, [model]));
    // Scores to 6 decimals; everything else as it was.
    back.forEach((r, i) => assert.ok(Math.abs(r.outcomes![0].score - records[i].outcomes![0].score) <= 5e-7));
    const strip = (r: PairListRecord) => ({ ...r, outcomes: r.outcomes!.map((o) => ({ ...o, score: 0, margin: 0 })) });
    assert.deepStrictEqual(back.map(strip), records.map(strip));
    assert.strictEqual(back[3].outcomes![0].margin, back[3].outcomes![0].score - 0.3);
  });
});
