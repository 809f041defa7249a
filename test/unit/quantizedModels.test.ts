// Test 7c: QDQ, QOperator and dynamic int8 versions of one small conv+PRelu+BN+Gemm net explain.
// Their scores are those of the quantized file as onnxruntime runs it; on faces where every
// quantization is exact their maps are the float net's (straight-through gradients), and where the
// input clips the gradient is zero.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine } from '../../src/engine/engine';
import { loadFrModel } from '../../src/engine/model';
import { encodeModel } from '../../src/engine/onnx/proto';
import { quantizationKind } from '../../src/engine/quantization';
import { createSession, ort } from '../../src/engine/runtime';
import type { PreparedFace } from '../../src/engine/pair';
import { Explainer, type PairExplanation } from '../../src/engine/xssab';
import { type TwinKind, TWIN, gridValues, twinModel } from './quantize';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-quant-'));
const PLANE = 16;

/** A face on the input grid (k/16, |k| ≤ 3) holding the input range's ends at the two pixels no kernel reads. */
function face(seed: number): Float32Array {
  const x = gridValues(3 * PLANE, seed, TWIN.inputStep, 3);
  x[2 * PLANE + 0] = -8;
  x[2 * PLANE + 15] = 127 / 16;
  return x;
}

async function explainWith(kind: TwinKind, a: Float32Array, b: Float32Array): Promise<{ result: PairExplanation; file: string }> {
  const file = path.join(tmp, `twin_${kind}.onnx`);
  fs.writeFileSync(file, encodeModel(twinModel(kind)));
  fs.writeFileSync(path.join(tmp, `twin_${kind}.card.json`), JSON.stringify({ name: kind, channelOrder: 'RGB', mean: 0, std: 1, threshold: 0.1 }));
  const explainer = await Explainer.create(await loadFrModel(file));
  try {
    const [result] = await explainer.explainBatch(a, b, 0.1);
    return { result, file };
  } finally {
    await explainer.release();
  }
}

/** The embedding onnxruntime computes for one face with the unmodified file. */
async function ortEmbedding(file: string, x: Float32Array): Promise<Float64Array> {
  const { session } = await createSession(fs.readFileSync(file), 'cpu');
  try {
    const out = await session.run({ x: new ort.Tensor('float32', x, [1, 3, 4, 4]) });
    return Float64Array.from(out[session.outputNames[0]].data as Float32Array);
  } finally {
    await session.release();
  }
}

const cosine = (u: Float64Array, v: Float64Array) => {
  const dot = (p: Float64Array, q: Float64Array) => p.reduce((s, x, i) => s + x * q[i], 0);
  return dot(u, v) / Math.sqrt(dot(u, u) * dot(v, v));
};

function assertClose(actual: Float32Array, expected: Float32Array, what: string) {
  const scale = Math.max(...expected.map(Math.abs));
  assert.ok(scale > 0, `${what}: the float map is all zero`);
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(worst <= 1e-5 * scale, `${what}: differs from the float net's by ${worst} (map scale ${scale})`);
}

describe('quantized models (QDQ, QOperator, dynamic)', () => {
  const [a, b] = [face(1), face(2)];
  let float: PairExplanation;
  before(async () => {
    float = (await explainWith('float', a, b)).result;
  });

  for (const kind of ['QDQ', 'QOperator', 'dynamic'] as const) {
    it(`${kind}: the kind is detected, the score is onnxruntime's, and on exact faces the maps are the float net's`, async () => {
      assert.strictEqual(quantizationKind(twinModel(kind)), kind);
      const { result, file } = await explainWith(kind, a, b);
      const expected = cosine(await ortEmbedding(file, a), await ortEmbedding(file, b));
      assert.ok(Math.abs(result.score - expected) <= 1e-6, `score ${result.score}, onnxruntime ${expected}`);
      // Exact quantization: the int8 net computes the float net's embeddings, and so its score.
      result.embeddings.forEach((e, side) => e.forEach((v, i) => assert.ok(Math.abs(v - float.embeddings[side][i]) <= 1e-6, `${kind} embedding ${side}[${i}]: ${v} vs ${float.embeddings[side][i]}`)));
      for (const side of [0, 1]) {
        for (const map of ['similarity', 'dissimilarity', 'combined'] as const) assertClose(result.maps[side][map], float.maps[side][map], `${kind} ${map} ${side}`);
      }
    });
  }

  for (const kind of ['QDQ', 'QOperator'] as const) {
    it(`${kind}: where the input clips (beyond ±8), the gradient is zero; the float net's is not`, async () => {
      const clipped = Float32Array.from(a);
      const pixel = 5; // (1, 1): every kernel reads it
      for (let c = 0; c < 3; c++) clipped[c * PLANE + pixel] = c === 1 ? -9 : 9;
      const quantized = (await explainWith(kind, clipped, b)).result;
      const reference = (await explainWith('float', clipped, b)).result;
      for (const map of ['similarity', 'dissimilarity'] as const) {
        assert.strictEqual(quantized.maps[0][map][pixel], 0, `${kind} ${map} at the clipped pixel`);
        assert.ok(quantized.saliency[0].some((v, i) => i !== pixel && v > 0), `${kind}: the other pixels keep a gradient`);
      }
      assert.ok(reference.saliency[0][pixel] > 0, 'the float net has a gradient at that pixel');
    });
  }

  it('result.json says the gradients are straight-through for the int8 models only; a dynamic model runs one face per call, with a notice', async () => {
    const crop = { width: 4, height: 4, data: Uint8Array.from({ length: 48 }, (_, i) => (i * 7) % 5) };
    const prepared = (name: string): PreparedFace => ({ photo: crop, crop, info: { path: name, width: 4, height: 4, alignment: 'crop' }, warnings: [] });
    const gradients: Record<string, string | undefined> = {};
    for (const kind of ['float', 'QDQ', 'QOperator', 'dynamic'] as const) {
      await explainWith(kind, a, b); // writes the file and its card
      const engine = await Engine.create({ model: path.join(tmp, `twin_${kind}.onnx`) });
      const [pair] = await engine.explainFaces([[prepared('a.png'), prepared('b.png')]]);
      gradients[kind] = pair.result.gradients;
      await engine.explainer.release();
    }
    // Its one quantization range per batch would make a face's result depend on its batch partner.
    const notices = (kind: TwinKind) => loadFrModel(path.join(tmp, `twin_${kind}.onnx`)).then((m) => m.warnings.filter((w) => /one per session call/.test(w)));
    const [float, qdq, qop, dynamic] = await Promise.all((['float', 'QDQ', 'QOperator', 'dynamic'] as const).map(notices));
    assert.deepStrictEqual([float, qdq, qop], [[], [], []]);
    assert.strictEqual(dynamic.length, 1);
    assert.match(dynamic[0], /a batch of 2 gives other embeddings than each face alone/);
    const st = 'straight-through (quantized model)';
    assert.deepStrictEqual(gradients, { float: undefined, QDQ: st, QOperator: st, dynamic: st });
  });
});
