// .npy files of float32 maps. No native modules: the extension host exports maps with it.
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
  const body = Buffer.alloc(data.length * 4);
  data.forEach((v, i) => body.writeFloatLE(v, i * 4));
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]);
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
      const { shape, data } = payload.maps[side][kind];
      const bytes = Buffer.from(data, 'base64');
      if (shape[0] !== h || shape[1] !== w || bytes.length !== plane * 4) {
        throw new Error(`the ${kind} map of ${side} is not ${h}×${w} float32 like the others`);
      }
      for (let p = 0; p < plane; p++) values[(i * MAP_KINDS.length + k) * plane + p] = bytes.readFloatLE(4 * p);
    }),
  );
  return npyBytes(values, [SIDES.length, MAP_KINDS.length, h, w]);
}
