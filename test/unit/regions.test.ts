import { strict as assert } from 'assert';
import { REGION_NAMES, joinSides, regionLabels, regionSummary, regionSums, templateLandmarks } from '../../src/shared/regions';

describe('face regions', () => {
  const [w, h] = [112, 112];
  const points = templateLandmarks(w, h);
  const labels = regionLabels(points, w, h);
  const nameAt = (x: number, y: number) => REGION_NAMES[labels[Math.round(y) * w + Math.round(x)]];

  it('covers the crop exactly once, every region with pixels, each where the landmarks put it', () => {
    assert.equal(labels.length, w * h);
    const counts = REGION_NAMES.map((_, i) => labels.filter((l) => l === i).length);
    assert.equal(counts.reduce((a, b) => a + b, 0), w * h);
    counts.forEach((n, i) => assert.ok(n > 0, `${REGION_NAMES[i]} is empty`));
    const mean = (from: number, to: number) => {
      const q = points.slice(from, to + 1);
      return [q.reduce((s, p) => s + p[0], 0) / q.length, q.reduce((s, p) => s + p[1], 0) / q.length];
    };
    assert.equal(nameAt(...(mean(36, 41) as [number, number])), 'left eye');
    assert.equal(nameAt(...(mean(42, 47) as [number, number])), 'right eye');
    assert.equal(nameAt(...points[19]), 'left brow');
    assert.equal(nameAt(...points[24]), 'right brow');
    assert.equal(nameAt(...points[30]), 'nose');
    assert.equal(nameAt(...points[62]), 'mouth');
    assert.equal(nameAt(...points[8].map((v, i) => (i ? v - 6 : v)) as [number, number]), 'chin');
    assert.equal(nameAt(25, 72), 'left cheek');
    assert.equal(nameAt(87, 72), 'right cheek');
    assert.equal(nameAt(56, 10), 'forehead');
    assert.equal(nameAt(2, 2), 'rest');
    assert.equal(nameAt(2, 108), 'rest');
  });

  it('takes the regions from the landmarks given: moved landmarks move the regions', () => {
    const shifted = points.map(([x, y]) => [x + 10, y] as [number, number]);
    const moved = regionLabels(shifted, w, h);
    // A shift by a whole 10 px shifts every label by 10 px.
    let differing = 0;
    for (let y = 0; y < h; y++) for (let x = 10; x < w; x++) if (moved[y * w + x] !== labels[y * w + x - 10]) differing++;
    assert.equal(differing, 0);
    assert.notDeepEqual(moved, labels);
    assert.throws(() => regionLabels(points.slice(5), w, h), /68 landmarks/);
  });

  it('sums each map over the regions, adding up to the map totals', () => {
    const similarity = Float32Array.from({ length: w * h }, (_, i) => (i % 7) * 0.25);
    const dissimilarity = Float32Array.from({ length: w * h }, (_, i) => (i % 5) * 0.5);
    const combined = similarity.map((v, i) => v - dissimilarity[i]);
    const sums = regionSums({ similarity, dissimilarity, combined }, labels);
    const total = (m: Float32Array) => m.reduce((s, v) => s + v, 0);
    assert.deepEqual(sums.map((r) => r.name), [...REGION_NAMES]);
    assert.ok(Math.abs(sums.reduce((s, r) => s + r.similarity, 0) - total(similarity)) < 1e-6);
    assert.ok(Math.abs(sums.reduce((s, r) => s + r.dissimilarity, 0) - total(dissimilarity)) < 1e-6);
    assert.ok(Math.abs(sums.reduce((s, r) => s + r.combined, 0) - total(combined)) < 1e-6);
    const eye = REGION_NAMES.indexOf('left eye');
    let eyeSum = 0;
    labels.forEach((l, i) => { if (l === eye) eyeSum += similarity[i]; });
    assert.ok(Math.abs(sums[eye].similarity - eyeSum) < 1e-9);
  });

  it('says in words which regions support and oppose, left and right joined', () => {
    const r = (name: string, similarity: number, dissimilarity: number) => ({ name, similarity, dissimilarity, combined: similarity - dissimilarity, pixels: 1 });
    const regions = [r('left eye', 2, 0), r('right eye', 2, 1), r('nose', 3, 0), r('mouth', 3, 7), r('rest', 0, 2)];
    assert.deepEqual(joinSides(regions).map((j) => [j.name, j.similarity]), [['eyes', 4], ['nose', 3], ['mouth', 3], ['rest', 0]]);
    assert.equal(regionSummary(regions, 2), 'supports: eyes 40 %, nose 30 % · opposes: mouth 70 %, rest 20 %');
  });
});
