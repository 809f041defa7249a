import { strict as assert } from 'assert';
import { decodeMap, encodeMap, float32Bytes, float32FromBytes } from '../../src/shared/mapCodec';

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
