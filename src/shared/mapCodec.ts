// The one float32 map codec: maps as little-endian float32 bytes, row-major (the .npy body), and
// as base64 of those bytes where JSON carries them (result payloads in notebook outputs and the
// CLI's --mime); over postMessage they travel as the values (result.ts, MapData).
// Browser-safe: atob/btoa and DataView, no Buffer.
import { type EncodedMap, type ExplanationPayload, MAP_KINDS, type MapData, type MapKind, type RawMap, SIDES } from './result';

/** Little-endian float32 bytes of the values, whatever the machine's byte order. */
export function float32Bytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return bytes;
}

/** The values of little-endian float32 bytes (copied, so the bytes may sit at any offset). */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new Error(`${bytes.length} bytes are not a whole number of float32 values`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

// btoa/atob work on "binary strings" (one character per byte); chunks keep the argument lists
// of String.fromCharCode within every engine's limit.
const CHUNK = 0x8000;

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A map in transport form (shape [height, width]). */
export function encodeMap(map: Float32Array, shape: [number, number]): EncodedMap {
  return { shape, data: toBase64(float32Bytes(map)) };
}

/** The values of a transported map (base64 or raw); refuses a shape that is not [height, width] or data that does not fill it. */
export function decodeMap(m: MapData): Float32Array {
  const [height, width] = m.shape;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`map shape ${JSON.stringify(m.shape)} is not [height, width]`);
  }
  const bytes = typeof m.data === 'string' ? fromBase64(m.data) : m.data instanceof Float32Array ? m.data : undefined;
  if (!bytes) throw new Error('map data is neither base64 nor float32 values');
  if (bytes.byteLength !== height * width * 4) {
    throw new Error(`map data holds ${bytes.byteLength} bytes, a ${height}×${width} float32 map needs ${height * width * 4}`);
  }
  return bytes instanceof Float32Array ? bytes : float32FromBytes(bytes);
}

/** The payload with every map in its JSON form (base64), for notebook outputs, --mime and saved state; itself when it is in that form. */
export function encodePayload(payload: ExplanationPayload): ExplanationPayload<EncodedMap> {
  if (SIDES.every((s) => MAP_KINDS.every((k) => typeof payload.maps[s][k].data === 'string'))) return payload as ExplanationPayload<EncodedMap>;
  const encoded = (m: MapData): EncodedMap => (typeof m.data === 'string' ? (m as EncodedMap) : encodeMap(m.data, m.shape));
  const side = (maps: Record<MapKind, MapData>) => Object.fromEntries(MAP_KINDS.map((k) => [k, encoded(maps[k])])) as Record<MapKind, EncodedMap>;
  return { ...payload, maps: { a: side(payload.maps.a), b: side(payload.maps.b) } };
}

/** The buffers of a payload's raw maps, each once: the transfer list of a postMessage that carries it. */
export function mapBuffers(payload: ExplanationPayload): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const side of SIDES) {
    for (const kind of MAP_KINDS) {
      const { data } = payload.maps[side][kind];
      if (typeof data !== 'string' && data.buffer instanceof ArrayBuffer) buffers.add(data.buffer);
    }
  }
  return [...buffers];
}

/** How a payload's producer puts each map: encodeMap (JSON) or rawMap (postMessage). */
export type MapForm<M extends MapData> = (values: Float32Array, shape: [number, number]) => M;

/** A map as its values (the form postMessage carries). */
export const rawMap: MapForm<RawMap> = (data, shape) => ({ shape, data });
