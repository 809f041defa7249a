import * as assert from 'assert';
import type { PairAttribute } from '../../src/engine/pairList';
import { MIN_GROUP, groupOf, groupTable } from '../../src/engine/explainPairs/fairness';
import { wilson } from '../../src/shared/rates';
import type { ModelEntry, PairLabel, PairListRecord } from '../../src/shared/pairListSummary';

const model: ModelEntry = { key: 'model-a', name: 'm', path: 'm.onnx', sha256: '0', inputSize: [112, 112], threshold: 0.5, thresholdSource: 'user' };

/** A constructed run: per group its genuine and impostor scores; the model's threshold is 0.5. */
function run(groups: [PairAttribute, PairLabel | undefined, number[]][]) {
  const records: PairListRecord[] = [];
  const attributes = new Map<number, Record<string, PairAttribute>>();
  for (const [gender, label, scores] of groups) {
    for (const score of scores) {
      const index = records.length;
      const decision = score >= 0.5 ? 'match' : 'no match';
      records.push({ index, a: 'a', b: 'b', ...(label ? { label } : {}), outcomes: [{ score, decision, margin: score - 0.5, errorKind: 'unlabelled' }] });
      attributes.set(index, { gender });
    }
  }
  records.push({ index: records.length, a: 'a', b: 'b', label: 'same', failed: 'no face' });
  attributes.set(records.length - 1, { gender: ['F', 'F'] });
  return { records, attributes };
}

describe('fairness lens', () => {
  it('Wilson intervals equal the closed form', () => {
    // p = k/n, z = 1.959964, z² = 3.841459: centre = (p + z²/2n)/(1 + z²/n),
    // half = z/(1 + z²/n)·√(p(1−p)/n + z²/4n²).
    // 1/4: centre = 0.730182/1.960365 = 0.372473, half = 0.999795·√0.106898 = 0.326886 → [0.045587, 0.699359]
    const r = wilson(1, 4);
    assert.strictEqual(r.rate, 0.25);
    assert.ok(Math.abs(r.low - 0.045587) < 1e-5 && Math.abs(r.high - 0.699359) < 1e-5, JSON.stringify(r));
    // 2/4: centre 0.5, half = 0.999795·√0.122523 = 0.349961 → [0.150039, 0.849961]
    const h = wilson(2, 4);
    assert.ok(Math.abs(h.low - 0.150039) < 1e-5 && Math.abs(h.high - 0.849961) < 1e-5, JSON.stringify(h));
    // 0/4: low 0, high = (z²/n)/(1 + z²/n) = 0.960365/1.960365 = 0.489891
    const z = wilson(0, 4);
    assert.ok(z.low === 0 && Math.abs(z.high - 0.489891) < 1e-5, JSON.stringify(z));
    assert.deepStrictEqual(wilson(0, 0), { errors: 0, pairs: 0, rate: 0, low: 0, high: 1 });
  });

  it('names groups by every --by attribute; F/M and M/F are one cross group', () => {
    assert.deepStrictEqual(groupOf({ gender: ['M', 'F'], fold: '2' }, ['fold', 'gender']), { name: 'fold=2, gender=F/M', crossGroup: true });
    assert.deepStrictEqual(groupOf({ gender: ['F', 'F'] }, ['gender']), { name: 'gender=F/F', crossGroup: false });
  });

  it('gives exact per-group rates, own-EER rates, ratios and the cross-group impostors of a constructed list', () => {
    const { records, attributes } = run([
      [['F', 'F'], 'same', [0.9, 0.8, 0.4, 0.3]], // FNMR 2/4
      [['F', 'F'], 'different', [0.6, 0.1, 0.2, 0.0]], // FMR 1/4
      [['M', 'M'], 'same', [0.9, 0.7, 0.6, 0.2]], // FNMR 1/4
      [['M', 'M'], 'different', [0.55, 0.52, 0.1, 0.05]], // FMR 2/4
      [['F', 'M'], 'different', [0.7, 0.1]],
      [['M', 'F'], 'different', [0.3]], // cross: FMR 1/3
      [['X', 'X'], 'same', [0.9]], // too small (1 genuine, 0 impostor)
      [['F', 'F'], undefined, [0.99]], // unlabelled: left out
    ]);
    const table = groupTable([model], records, attributes, ['gender'], 3);
    const m = table.models[0];
    assert.deepStrictEqual(
      m.groups.map((g) => [g.name, g.crossGroup, g.genuine, g.impostor, g.tooSmall, g.global.fmr.errors, g.global.fnmr.errors]),
      [
        ['gender=F/F', false, 4, 4, false, 1, 2],
        ['gender=M/M', false, 4, 4, false, 2, 1],
        ['gender=X/X', false, 1, 0, true, 0, 0],
        ['gender=F/M', true, 0, 3, true, 1, 0],
      ],
    );
    const [f, mm] = m.groups;
    assert.deepStrictEqual([f.global.fmr.rate, f.global.fnmr.rate, mm.global.fmr.rate, mm.global.fnmr.rate], [0.25, 0.5, 0.5, 0.25]);
    assert.deepStrictEqual(f.global.fmr, wilson(1, 4));
    assert.deepStrictEqual(f.global.fnmr, wilson(2, 4));
    // F/F's own EER threshold: between 0.3 and 0.4, where FNMR (0.3) = FMR (0.6) = 1/4.
    assert.ok(Math.abs(f.own!.threshold - 0.35) < 1e-12);
    assert.deepStrictEqual([f.own!.eer, f.own!.fmr.rate, f.own!.fnmr.rate], [0.25, 0.25, 0.25]);
    assert.strictEqual(m.groups[2].own, undefined);
    // Ratios over F/F and M/M only (X/X is too small, F/M is across groups).
    assert.deepStrictEqual(m.fmrRatio, { worst: 'gender=M/M', best: 'gender=F/F', ratio: 2 });
    assert.deepStrictEqual(m.fnmrRatio, { worst: 'gender=F/F', best: 'gender=M/M', ratio: 2 });
    assert.deepStrictEqual(m.impostors, { withinGroup: wilson(3, 8), crossGroup: wilson(1, 3) });
    // Score histograms per label: every score in one of the bins.
    assert.strictEqual(f.scores.same!.count, 4);
    assert.strictEqual(f.scores.same!.histogram.reduce((a, b) => a + b, 0), 4);
    assert.ok(Math.abs(f.scores.different!.mean - 0.225) < 1e-12);
  });

  it('marks groups under the default minimum as too small and gives no ratio with one group to compare', () => {
    const { records, attributes } = run([
      [['F', 'F'], 'same', new Array(MIN_GROUP).fill(0.9)],
      [['F', 'F'], 'different', new Array(MIN_GROUP).fill(0.1)],
      [['M', 'M'], 'same', new Array(MIN_GROUP).fill(0.9)],
      [['M', 'M'], 'different', new Array(MIN_GROUP - 1).fill(0.1)],
    ]);
    const m = groupTable([model], records, attributes, ['gender']).models[0];
    assert.deepStrictEqual(m.groups.map((g) => g.tooSmall), [false, true]);
    assert.strictEqual(m.fmrRatio, undefined);
    // Two comparable groups with no errors at all: the ratio is undefined (0/0), said as null.
    const both = groupTable([model], records, attributes, ['gender'], MIN_GROUP - 1).models[0];
    assert.deepStrictEqual(both.fmrRatio, { worst: 'gender=M/M', best: 'gender=F/F', ratio: null });
  });
});
