import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readPairList } from '../../src/engine/pairList';
import { equalErrorRate, errorRates } from '../../src/engine/verification';

describe('verification rates', () => {
  it('counts FMR (impostor s ≥ t) and FNMR (genuine s < t) exactly', () => {
    const rates = errorRates([0.9, 0.5, 0.3, 0.31], [0.1, 0.3, 0.2, 0.6, -0.2], 0.3);
    assert.deepStrictEqual(rates, { fmr: 2 / 5, fnmr: 0 });
    assert.deepStrictEqual(errorRates([0.9, 0.5, 0.29], [0.1], 0.3), { fmr: 0, fnmr: 1 / 3 });
  });

  it('puts the EER threshold in the middle of the gap of separable classes', () => {
    const eer = equalErrorRate([0.7, 0.8, 0.9], [0.1, 0.2, 0.5]);
    assert.strictEqual(eer.eer, 0);
    assert.ok(Math.abs(eer.threshold - 0.6) < 1e-12);
  });

  it('finds the crossing of a constructed ROC', () => {
    // Genuine 0.1..1.0, impostor 0.0..0.9 in steps of 0.1. At t = 0.45: FNMR 4/10 (0.1–0.4
    // rejected), FMR 5/10 (0.5–0.9 accepted); at t = 0.55: FNMR 5/10, FMR 4/10. Either gives 0.45.
    const genuine = Array.from({ length: 10 }, (_, i) => (i + 1) / 10);
    const impostor = Array.from({ length: 10 }, (_, i) => i / 10);
    const eer = equalErrorRate(genuine, impostor);
    assert.ok(Math.abs(eer.fmr - eer.fnmr) <= 0.1 + 1e-12);
    assert.ok(Math.abs(eer.eer - 0.45) < 1e-12, `EER ${eer.eer}`);
    assert.ok([0.45, 0.55].some((t) => Math.abs(eer.threshold - t) < 1e-9), `threshold ${eer.threshold}`);
  });
});

describe('pair lists', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pairs-'));
  const write = (text: string) => {
    const file = path.join(dir, 'list.csv');
    fs.writeFileSync(file, text);
    return file;
  };

  it('reads comma and whitespace lists with labels, comments and a header, relative to the list', () => {
    const pairs = readPairList(write('# comment\na,b,label\nx.png, y.png, same\nsub/z.jpg w.jpg impostor\nq.png,r.png\n'));
    assert.deepStrictEqual(pairs, [
      { a: path.join(dir, 'x.png'), b: path.join(dir, 'y.png'), label: 'same' },
      { a: path.join(dir, 'sub/z.jpg'), b: path.join(dir, 'w.jpg'), label: 'different' },
      { a: path.join(dir, 'q.png'), b: path.join(dir, 'r.png') },
    ]);
  });

  it('names the line of a bad label or a malformed row', () => {
    assert.throws(() => readPairList(write('x.png,y.png,maybe\n')), /list\.csv:1: unknown label "maybe"/);
    assert.throws(() => readPairList(write('a,b\nx.png\n')), /list\.csv:2: expected "a,b\[,label\]"/);
    assert.throws(() => readPairList(path.join(dir, 'missing.csv')), /missing\.csv: pair list not found/);
  });
});
