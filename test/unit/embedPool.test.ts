// The CPU's embedding workers: the embeddings of the explainer's own session, bit for bit and in
// order; failures that reject instead of hanging; how many workers a machine gets.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { EmbedPool, POOL_MIN_FACES, embedCores, poolSize } from '../../src/engine/embedPool';
import { toModelInput } from '../../src/engine/engine';
import { decodeImage } from '../../src/engine/image';
import { defaultModelPath, loadFrModel } from '../../src/engine/model';
import { Explainer, buildEmbedGraph } from '../../src/engine/xssab';

const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

describe('embedding workers', function () {
  this.timeout(120_000);

  it('gives each face the embedding of one run of the explainer\'s session, in the faces\' order', async () => {
    const model = await loadFrModel(defaultModelPath());
    const aligned = path.join(__dirname, '..', '..', 'samples', 'aligned');
    const crops = await Promise.all(fs.readdirSync(aligned).sort().map((n) => decodeImage(path.join(aligned, n))));
    // Each crop twice, the second time mirrored: POOL_MIN_FACES and more, no two alike.
    const faces = [...crops.map((c) => toModelInput(c, model.preprocessing)), ...crops.map((c) => toModelInput(c, model.preprocessing).reverse())];
    assert.ok(faces.length >= POOL_MIN_FACES);
    const explainer = await Explainer.create(model, 'cpu', undefined, 'embed');
    const pool = await EmbedPool.start(buildEmbedGraph(model), model, model.inputShape, 2);
    try {
      const [pooled, each] = [await pool.embed(faces), await explainer.embedEach(faces, 4)];
      const alone = await Promise.all(faces.slice(0, 3).map((f) => explainer.embed(f)));
      assert.strictEqual(pooled.length, faces.length);
      alone.forEach((e, i) => assert.deepStrictEqual(bits(pooled[i]), bits(e), `face ${i}`));
      pooled.forEach((e, i) => assert.deepStrictEqual(bits(each[i]), bits(e), `face ${i} through embedEach`));
      assert.notDeepStrictEqual(bits(pooled[0]), bits(pooled[crops.length]), 'a mirrored face has its own embedding');
    } finally {
      await pool.dispose();
      await explainer.release();
    }
  });

  it('rejects with onnxruntime\'s words: a graph that does not load, and a face of the wrong size', async () => {
    const model = await loadFrModel(defaultModelPath());
    await assert.rejects(EmbedPool.start(Uint8Array.of(1, 2, 3), model, model.inputShape, 2), /protobuf|parse|model/i);
    const pool = await EmbedPool.start(buildEmbedGraph(model), model, model.inputShape, 2);
    try {
      const face = new Float32Array(3 * 112 * 112);
      await assert.rejects(pool.embed([face, face, new Float32Array(7), face]), /size|shape|dimension|length/i);
      // The pool still serves the calls after a failed one.
      assert.strictEqual((await pool.embed([face, face])).length, 2);
    } finally {
      await pool.dispose();
    }
  });

  it('starts one worker per core (or XSSAB_EMBED_WORKERS), at most 8 and 2 GiB of graphs', () => {
    assert.strictEqual(poolSize(10e6, 2), 2);
    assert.strictEqual(poolSize(10e6, 1), 1);
    assert.strictEqual(poolSize(10e6, 32), 8);
    assert.strictEqual(poolSize(700e6, 16), 3);
    assert.strictEqual(embedCores({ XSSAB_EMBED_WORKERS: '3' }), 3);
    assert.strictEqual(embedCores({ XSSAB_EMBED_WORKERS: '0' }), embedCores({}));
    assert.strictEqual(embedCores({ XSSAB_EMBED_WORKERS: 'four' }), embedCores({}));
  });
});
