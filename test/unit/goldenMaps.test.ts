// Golden maps: the six xSSAB maps of one bundled pair (samples/aligned/man_01_face0.png against
// man_02_face0.png, the bundled MobileFaceNet at its card's threshold), through the product's path
// (Engine.explainPair → the registry's xssab → the fused graph), against
// test/unit/golden/xssab-maps-man01-man02.npy: float32 (2, 3, 112, 112), a and b × similarity,
// dissimilarity, combined.
//
// How the golden file was checked, once, when it was written (`npx tsx scripts/make-golden-maps.ts
// --write`): against an independent reference that uses no gradient graph at all, central finite
// differences (step 2e-3 in preprocessed units) of the score parts S⁺ = Σ_{n supporting} ê_n·p_n
// and S⁻ = Σ_{n opposing} ê_n·p_n, partner p and support set held fixed as xSSAB defines them,
// each from plain embedding runs of the model in onnxruntime, on 241 pixels of face a and 248 of
// face b (the 50 highest of each map and 150 drawn at random), all three channels, mean of the
// absolute values. Result, relative to each map's maximum: median error 9.4e-4, 99th percentile
// 2.3e-2, max 5.7e-2 over 978 values — the size float32 finite differences allow at that step
// (an embedding rounds at ~1e-7, i.e. ~2.5e-5 in a quotient over 2·2e-3, against map maxima of
// 2.9e-3 to 4.8e-3), with PReLU kinks inside a step for the worst few. A map that were not these
// gradients (parts swapped, a channel or the normalisation missing, the wrong face) is off by
// order one. Maps are then asserted here to 1e-5 of each map's maximum.
import * as assert from 'assert';
import * as path from 'path';
import { Engine } from '../../src/engine/engine';
import { readNpy } from '../../src/engine/output';
import { MAP_KINDS, SIDES } from '../../src/shared/result';

const root = path.join(__dirname, '..', '..');

describe('golden maps of a bundled pair', function () {
  this.timeout(120000);
  it('explainPair gives the six maps of the golden .npy to 1e-5 of each map\'s maximum', async () => {
    const { data, shape } = readNpy(path.join(__dirname, 'golden', 'xssab-maps-man01-man02.npy'));
    assert.deepStrictEqual(shape, [2, 3, 112, 112]);
    const engine = await Engine.create();
    try {
      const [a, b] = ['man_01_face0.png', 'man_02_face0.png'].map((f) => path.join(root, 'samples', 'aligned', f));
      const pair = await engine.explainPair({ source: a, label: a }, { source: b, label: b });
      const plane = 112 * 112;
      SIDES.forEach((side, s) =>
        MAP_KINDS.forEach((kind, k) => {
          const golden = data.subarray((s * 3 + k) * plane, (s * 3 + k + 1) * plane);
          const actual = pair.maps[s][kind];
          const scale = Math.max(...Array.from(golden, Math.abs));
          assert.ok(scale > 1e-4, `${side} ${kind}: the golden map is not empty`);
          let worst = 0;
          for (let i = 0; i < plane; i++) worst = Math.max(worst, Math.abs(actual[i] - golden[i]));
          assert.ok(worst <= 1e-5 * scale, `${side} ${kind}: max difference ${worst.toExponential(2)} against 1e-5 × ${scale.toExponential(3)}`);
        }),
      );
    } finally {
      await engine.dispose();
    }
  });
});
