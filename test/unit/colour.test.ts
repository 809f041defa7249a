import { strict as assert } from 'assert';
import { absPercentile, contrastRatio, mapRanges, rangeNote } from '../../src/shared/colour';
import { DECISION_COLOURS, VIEWER_CSS } from '../../src/renderer/styles';

describe('robust colour ranges', () => {
  // 1..100 with its sign alternating, and one huge peak the range must not follow.
  const ramp = Float32Array.from({ length: 100 }, (_, i) => (i % 2 ? -1 : 1) * (i + 1));

  it('takes the percentile of |values| with linear interpolation between ranks (numpy default)', () => {
    // |values| sorted are 1..100: rank 0.99·99 = 98.01 lies between 99 and 100.
    assert.ok(Math.abs(absPercentile([ramp], 99) - 99.01) < 1e-9);
    assert.equal(absPercentile([ramp], 100), 100);
    assert.equal(absPercentile([ramp], 0), 1);
    assert.ok(Math.abs(absPercentile([ramp], 50) - 50.5) < 1e-9);
    assert.equal(absPercentile([new Float32Array([NaN, NaN])], 99), 0);
  });

  it('shares one range between similarity and dissimilarity and keeps the combined map symmetric', () => {
    const similarity = Float32Array.from({ length: 50 }, (_, i) => i + 1); // 1..50
    const dissimilarity = Float32Array.from({ length: 50 }, (_, i) => i + 51); // 51..100
    const combined = Float32Array.from(ramp);
    combined[0] = 1e6; // a single peak pixel
    const r = mapRanges({ similarity, dissimilarity, combined }, 99);
    assert.deepEqual(r.similarity, r.dissimilarity);
    assert.equal(r.similarity[0], 0);
    assert.ok(Math.abs(r.similarity[1] - 99.01) < 1e-4); // over both maps, not each alone (50 or 100)
    // |C| sorted: 2..100 and 1e6; rank 98.01 lies between 100 and 1e6 → 100 + 0.01·(1e6 − 100).
    assert.ok(Math.abs(r.combined[1] - (100 + 0.01 * (1e6 - 100))) < 1e-3);
    assert.equal(r.combined[0], -r.combined[1]);
    assert.ok(Math.abs(mapRanges({ similarity, dissimilarity, combined }, 90).combined[1] - 91.1) < 1e-4); // rank 89.1 of 2..100
  });

  it('names the percentile in the legend', () => {
    assert.equal(rangeNote(99), 'clipped at the 99th percentile');
    assert.equal(rangeNote(91), 'clipped at the 91st percentile');
    assert.equal(rangeNote(92), 'clipped at the 92nd percentile');
    assert.equal(rangeNote(100), 'range: the maximum');
  });
});

describe('decision label contrast', () => {
  it('computes WCAG contrast ratios', () => {
    assert.ok(Math.abs(contrastRatio('#000000', '#ffffff') - 21) < 1e-9);
    assert.equal(contrastRatio('#777777', '#777777'), 1);
    assert.ok(Math.abs(contrastRatio('#767676', '#ffffff') - 4.54) < 0.01); // the lightest grey that passes AA on white
  });

  it('meets WCAG AA (4.5:1) for both decisions in every theme: the badge carries its own colours', () => {
    for (const [decision, { text, background }] of Object.entries(DECISION_COLOURS)) {
      assert.ok(Math.abs(contrastRatio(text, background) - 6.6) < 0.05, `${decision}: ${contrastRatio(text, background).toFixed(2)}`);
    }
    // The same in light, dark and high-contrast themes: the rules name these colours, no theme variable.
    assert.match(VIEWER_CSS, new RegExp(`\\.xssab-match \\{ color: ${DECISION_COLOURS.match.text}; background: ${DECISION_COLOURS.match.background}; \\}`));
    assert.match(VIEWER_CSS, new RegExp(`\\.xssab-nomatch \\{ color: ${DECISION_COLOURS.nomatch.text}; background: ${DECISION_COLOURS.nomatch.background}; \\}`));
  });
});
