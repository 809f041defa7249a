import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mapsNpy, npyBytes } from '../../src/engine/npy';
import { readNpy } from '../../src/engine/output';
import { goldenMaps, goldenPayload, SIZE } from './explanationFixture';

describe('.npy files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-npy-'));
  const roundTrip = (bytes: Buffer) => {
    const file = path.join(dir, 'm.npy');
    fs.writeFileSync(file, bytes);
    return readNpy(file);
  };

  it('writes a version 1.0 header padded to 64 bytes, then the values little-endian', () => {
    const bytes = npyBytes(Float32Array.from([1.5, -2, 3.25]), [3]);
    assert.equal(bytes.subarray(0, 8).toString('latin1'), '\x93NUMPY\x01\x00');
    assert.equal((10 + bytes.readUInt16LE(8)) % 64, 0);
    assert.match(bytes.toString('latin1'), /\{'descr': '<f4', 'fortran_order': False, 'shape': \(3,\), \} *\n/);
    assert.deepEqual([...roundTrip(bytes).data], [1.5, -2, 3.25]);
  });

  it('exports the six maps of an explanation as one (2, 3, H, W) array: a, b × similarity, dissimilarity, combined', () => {
    const { data, shape } = roundTrip(mapsNpy(goldenPayload()));
    assert.deepEqual(shape, [2, 3, SIZE, SIZE]);
    const plane = SIZE * SIZE;
    [goldenMaps(1), goldenMaps(2)].forEach((maps, side) =>
      (['similarity', 'dissimilarity', 'combined'] as const).forEach((kind, k) =>
        assert.deepEqual([...data.subarray((side * 3 + k) * plane, (side * 3 + k + 1) * plane)], [...maps[kind]], `${'ab'[side]} ${kind}`),
      ),
    );
  });

  it('refuses an explanation whose maps do not share one size', () => {
    const payload = goldenPayload();
    payload.maps.b.combined = { shape: [4, 4], data: Buffer.alloc(64).toString('base64') };
    assert.throws(() => mapsNpy(payload), /the combined map of b is not 8×8 float32 like the others/);
  });
});
