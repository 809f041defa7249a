import { strict as assert } from 'assert';
import { decodeMap, encodeMap, encodePayload, float32Bytes, float32FromBytes, mapBuffers, rawMap } from '../../src/shared/mapCodec';
import type { ExplanationPayload, MapData } from '../../src/shared/result';
import { goldenPayload } from './explanationFixture';

describe('map codec', () => {
  it('decodeMap reads back what the engine encodes, little-endian float32', () => {
    const values = Float32Array.from([0, -1.5, 3.25e-7, NaN, Infinity, 1e30]);
    const decoded = decodeMap(encodeMap(values, [2, 3]));
    assert.deepEqual(Array.from(decoded), Array.from(values));
    // 1.0f is 00 00 80 3f in little-endian.
    assert.deepEqual(Array.from(decodeMap({ shape: [1, 1], data: Buffer.from([0, 0, 0x80, 0x3f]).toString('base64') })), [1]);
  });

  it('decodeMap refuses data that does not fit the shape', () => {
    assert.throws(() => decodeMap({ shape: [2, 2], data: Buffer.alloc(12).toString('base64') }), /holds 12 bytes, a 2×2 float32 map needs 16/);
    assert.throws(() => decodeMap({ shape: [0, 2], data: '' }), /is not \[height, width\]/);
  });

  it('writes little-endian bytes: 1.0 is 00 00 80 3f, -2.0 is 00 00 00 c0', () => {
    assert.deepEqual([...float32Bytes(Float32Array.of(1, -2))], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });

  it('encodes as Node does (Buffer base64 of writeFloatLE), also past one chunk of 32 768 bytes', () => {
    const values = Float32Array.from({ length: 112 * 112 }, (_, i) => Math.sin(i) * 1e-3);
    const reference = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => reference.writeFloatLE(v, i * 4));
    assert.equal(encodeMap(values, [112, 112]).data, reference.toString('base64'));
  });

  it('reads bytes at any offset of a larger buffer', () => {
    const buffer = new Uint8Array(9);
    buffer.set([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0], 1);
    assert.deepEqual([...float32FromBytes(buffer.subarray(1))], [1, -2]);
    assert.throws(() => float32FromBytes(buffer.subarray(0, 6)), /6 bytes are not a whole number of float32 values/);
  });
});

describe('map codec: payloads', () => {
  const raw = (seed: number) => Float32Array.from({ length: 4 }, (_, i) => seed + i / 8);
  const rawPayload = () => {
    const side = (s: number) => ({ similarity: rawMap(raw(s), [2, 2]), dissimilarity: rawMap(raw(s + 1), [2, 2]), combined: rawMap(raw(s + 2), [2, 2]) });
    return { ...goldenPayload(), maps: { a: side(0), b: side(10) } } as ExplanationPayload;
  };

  it('decodeMap takes raw values as they are, and checks their size like base64', () => {
    const values = raw(1);
    assert.equal(decodeMap(rawMap(values, [2, 2])), values);
    assert.throws(() => decodeMap(rawMap(values, [3, 2])), /holds 16 bytes, a 3×2 float32 map needs 24/);
    assert.throws(() => decodeMap({ shape: [2, 2], data: [1, 2, 3, 4] } as unknown as MapData), /neither base64 nor float32 values/);
  });

  it('encodePayload puts raw maps in base64, which decodes to the same values, and leaves an encoded payload as it is', () => {
    const payload = rawPayload();
    const encoded = encodePayload(payload);
    assert.equal(typeof encoded.maps.b.combined.data, 'string');
    assert.deepEqual([...decodeMap(encoded.maps.b.combined)], [12, 12.125, 12.25, 12.375]);
    assert.equal(encoded.score, payload.score);
    const golden = goldenPayload();
    assert.equal(encodePayload(golden), golden);
  });

  it('mapBuffers lists each raw map buffer once, and none of a base64 payload', () => {
    const payload = rawPayload();
    const shared = new Float32Array(8);
    payload.maps.a.similarity = rawMap(shared.subarray(0, 4), [2, 2]);
    payload.maps.a.dissimilarity = rawMap(shared.subarray(4), [2, 2]);
    const buffers = mapBuffers(payload);
    assert.equal(buffers.length, 5);
    assert.ok(buffers.includes(shared.buffer as ArrayBuffer));
    assert.deepEqual(mapBuffers(goldenPayload()), []);
    // What structuredClone moves with them arrives whole, and leaves the sender's copies empty.
    const moved = structuredClone(payload, { transfer: buffers });
    assert.deepEqual([...decodeMap(moved.maps.b.combined)], [12, 12.125, 12.25, 12.375]);
    assert.equal(payload.maps.b.combined.data.length, 0);
  });
});
