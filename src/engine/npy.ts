// .npy files of float32 maps. No native modules: the extension host exports maps with it.
import { decodeMap, float32Bytes } from '../shared/mapCodec';
import { type ExplanationPayload, MAP_KINDS, SIDES } from '../shared/result';

/** A little-endian float32 .npy file (format version 1.0). */
export function npyBytes(data: Float32Array, shape: readonly number[]): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix.writeUInt8(1, 6);
  prefix.writeUInt8(0, 7);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), float32Bytes(data)]);
}

/**
 * The six maps of an explanation as one .npy file: float32, shape (2, 3, H, W), by image (a, b)
 * and map (similarity, dissimilarity, combined), raw values. What the panel exports.
 */
export function mapsNpy(payload: ExplanationPayload): Buffer {
  const [h, w] = payload.maps.a.similarity.shape;
  const plane = h * w;
  const values = new Float32Array(SIDES.length * MAP_KINDS.length * plane);
  SIDES.forEach((side, i) =>
    MAP_KINDS.forEach((kind, k) => {
      const map = payload.maps[side][kind];
      if (map.shape[0] !== h || map.shape[1] !== w) throw new Error(`the ${kind} map of ${side} is not ${h}×${w} float32 like the others`);
      values.set(decodeMap(map), (i * MAP_KINDS.length + k) * plane);
    }),
  );
  return npyBytes(values, [SIDES.length, MAP_KINDS.length, h, w]);
}
