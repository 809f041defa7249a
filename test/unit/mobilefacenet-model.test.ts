// The committed bundled model, models/mobilefacenet.onnx: interface, symbolic batch, and values.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { deterministicBatch } from '../../models/build/mobilefacenet';
import { createSession, ort, type Session } from '../../src/engine/runtime';

const MODEL = path.resolve(__dirname, '..', '..', 'models', 'mobilefacenet.onnx');
const SIZE = 112;

// First 8 raw embedding dims of deterministicBatch(2, 1234) (the converter's check images), as
// computed by the independent TFLite reference interpreter (models/build/tfliteReference.ts)
// running the original MobileFaceNet.tflite; the converted ONNX model matched them to 1.1e-6
// relative when rebuilt.
const GOLDEN = [
  [-0.107628, 0.948151, 0.338002, -0.198564, -1.927506, 2.139169, -1.71501, 0.934813],
  [-0.086406, 0.900367, 0.415755, -0.078716, -1.786313, 1.837228, -1.034708, 0.634896],
];

describe('bundled MobileFaceNet model (models/mobilefacenet.onnx)', () => {
  let session: Session;

  before(async () => {
    session = await createSession(new Uint8Array(fs.readFileSync(MODEL)), 'cpu');
  });
  after(async () => {
    await session?.session.release();
  });

  it('has input "input" and output "embedding"', () => {
    assert.deepStrictEqual([...session.session.inputNames], ['input']);
    assert.deepStrictEqual([...session.session.outputNames], ['embedding']);
  });

  it('embeds a batch of 2 as [2,192] with the golden values', async () => {
    const input = deterministicBatch(2, 1234);
    const out = (await session.session.run({ input: new ort.Tensor('float32', input, [2, 3, SIZE, SIZE]) })).embedding;
    assert.deepStrictEqual([...out.dims], [2, 192]);
    const data = out.data as Float32Array;
    for (let b = 0; b < 2; b++)
      for (let i = 0; i < 8; i++) {
        const got = data[b * 192 + i];
        assert.ok(Math.abs(got - GOLDEN[b][i]) < 1e-4, `image ${b} dim ${i}: ${got} vs golden ${GOLDEN[b][i]}`);
      }
  });

  it('accepts other batch sizes (the batch dimension is symbolic)', async () => {
    const two = deterministicBatch(2, 1234);
    const three = new Float32Array(3 * 3 * SIZE * SIZE);
    three.set(two); // images 0 and 1, then image 0 again
    three.set(two.subarray(0, 3 * SIZE * SIZE), 2 * 3 * SIZE * SIZE);
    const out = (await session.session.run({ input: new ort.Tensor('float32', three, [3, 3, SIZE, SIZE]) })).embedding;
    assert.deepStrictEqual([...out.dims], [3, 192]);
    const data = out.data as Float32Array;
    for (let i = 0; i < 8; i++) {
      assert.ok(Math.abs(data[i] - GOLDEN[0][i]) < 1e-4);
      assert.ok(Math.abs(data[2 * 192 + i] - GOLDEN[0][i]) < 1e-4);
    }
  });
});
