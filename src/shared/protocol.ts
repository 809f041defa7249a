// Messages between the browser viewer (webview panel or notebook output) and the extension host.
// Each direction is a discriminated union on `type`; whatever arrives from a webview or notebook
// passes `parseViewerMessage` before the host acts on it.
import type { GalleryData, ModelEntry } from './pairListSummary';
import type { ExplanationPayload, MapKind, Side } from './result';
import { MAP_KINDS } from './result';

/** What a notebook cell may ask for (application/vnd.xssab.request+json). */
export interface ExplainRequest {
  a: string;
  b: string;
  model?: string;
  threshold?: number;
  /** The detected face used in each photo (0 = the largest, the default). */
  faceA?: number;
  faceB?: number;
}

/** A map shown over the faces, or none. */
export type MapChoice = MapKind | 'none';
export const MAP_CHOICES: readonly MapChoice[] = ['combined', 'similarity', 'dissimilarity', 'none'];
/** Opacity of the maps when nothing else is asked for. */
export const DEFAULT_OPACITY = 0.6;

/** How the viewer starts: the map shown and its opacity (from the user's settings). */
export interface ViewPreferences {
  map?: MapChoice;
  opacity?: number;
}

/** Viewer → host. */
export type ViewerMessage =
  | { type: 'ready' }
  | { type: 'setThreshold'; threshold: number }
  | { type: 'exportResult' }
  /** Save the six raw maps as one .npy file (shape 2 × 3 × H × W). */
  | { type: 'exportMaps' }
  | { type: 'exportMap'; side: Side; kind: MapKind; png: string }
  /** Explain the pair again with another detected face of one photo (0 = the largest). */
  | { type: 'chooseFace'; side: Side; face: number }
  | { type: 'explain'; requestId: string; request: ExplainRequest; run: boolean };

/** Host → viewer. */
export type HostMessage =
  | { type: 'explanation'; payload: ExplanationPayload; photos?: { a: string; b: string }; view?: ViewPreferences }
  | { type: 'progress'; message: string }
  | { type: 'error'; message: string }
  | { type: 'explained'; requestId: string; payload: ExplanationPayload }
  | { type: 'explainFailed'; requestId: string; message: string; needsTrust?: boolean };

/** Gallery → host. `shown`: how many pairs the gallery lists after filtering (tests read it). */
export type GalleryMessage =
  | { type: 'ready' }
  | { type: 'shown'; pairs: number }
  | { type: 'openPair'; index: number; model: ModelEntry['key'] };

/** Host → gallery. */
/** `out`: the run's folder on disk, kept in the webview's state so that VS Code can restore the panel. */
export type GalleryHostMessage = { type: 'gallery'; data: GalleryData; out: string } | { type: 'error'; message: string };

/** Longest path or data URI accepted in a request (data URIs of photos up to ~15 MB). */
export const MAX_REQUEST_FIELD = 20 * 1024 * 1024;
const PNG_DATA_URI = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;

export class ProtocolError extends Error {}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown, what: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw new ProtocolError(`${what} must be a number in [${lo}, ${hi}]`);
  return v;
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ProtocolError(`${what} must be a whole number ≥ 0`);
  return v;
}

function text(v: unknown, what: string, max = MAX_REQUEST_FIELD): string {
  if (typeof v !== 'string' || v.length === 0) throw new ProtocolError(`${what} must be a non-empty string`);
  if (v.length > max) throw new ProtocolError(`${what} is too long (${v.length} characters, at most ${max})`);
  return v;
}

function parseSide(v: unknown): Side {
  if (v !== 'a' && v !== 'b') throw new ProtocolError('side must be "a" or "b"');
  return v;
}

/** Validates a notebook request payload (types and sizes only; paths are checked by the host). */
export function parseExplainRequest(v: unknown): ExplainRequest {
  if (!isRecord(v)) throw new ProtocolError('the request must be a JSON object with "a" and "b"');
  const unknown = Object.keys(v).filter((k) => !['a', 'b', 'model', 'threshold', 'faceA', 'faceB'].includes(k));
  if (unknown.length) throw new ProtocolError(`unknown request field(s): ${unknown.join(', ')}`);
  const request: ExplainRequest = { a: text(v.a, '"a"'), b: text(v.b, '"b"') };
  if (v.model !== undefined) request.model = text(v.model, '"model"', 4096);
  if (v.threshold !== undefined) request.threshold = finiteNumber(v.threshold, '"threshold"', -1, 1);
  if (v.faceA !== undefined) request.faceA = count(v.faceA, '"faceA"');
  if (v.faceB !== undefined) request.faceB = count(v.faceB, '"faceB"');
  return request;
}

/** Validates a message from a viewer; throws ProtocolError on anything unexpected. */
export function parseViewerMessage(v: unknown): ViewerMessage {
  if (!isRecord(v) || typeof v.type !== 'string') throw new ProtocolError('message without a type');
  switch (v.type) {
    case 'ready':
    case 'exportResult':
    case 'exportMaps':
      return { type: v.type };
    case 'setThreshold':
      return { type: 'setThreshold', threshold: finiteNumber(v.threshold, 'threshold', -1, 1) };
    case 'exportMap': {
      const side = parseSide(v.side);
      if (!MAP_KINDS.includes(v.kind as MapKind)) throw new ProtocolError(`kind must be one of ${MAP_KINDS.join(', ')}`);
      const png = text(v.png, 'png', 8 * 1024 * 1024);
      if (!PNG_DATA_URI.test(png)) throw new ProtocolError('png must be a PNG data URI');
      return { type: 'exportMap', side, kind: v.kind as MapKind, png };
    }
    case 'chooseFace':
      return { type: 'chooseFace', side: parseSide(v.side), face: count(v.face, 'face') };
    case 'explain':
      return {
        type: 'explain',
        requestId: text(v.requestId, 'requestId', 128),
        request: parseExplainRequest(v.request),
        run: v.run === true,
      };
    default:
      throw new ProtocolError(`unknown message type "${String(v.type).slice(0, 40)}"`);
  }
}

/** Validates a message from the gallery; throws ProtocolError on anything unexpected. */
export function parseGalleryMessage(v: unknown): GalleryMessage {
  if (!isRecord(v) || typeof v.type !== 'string') throw new ProtocolError('message without a type');
  switch (v.type) {
    case 'ready':
      return { type: 'ready' };
    case 'shown':
      return { type: 'shown', pairs: count(v.pairs, 'pairs') };
    case 'openPair':
      if (v.model !== 'model-a' && v.model !== 'model-b') throw new ProtocolError('model must be "model-a" or "model-b"');
      return { type: 'openPair', index: count(v.index, 'index'), model: v.model };
    default:
      throw new ProtocolError(`unknown message type "${String(v.type).slice(0, 40)}"`);
  }
}

/**
 * Validates a notebook's pair-list output (application/vnd.xssab.pairlist+json): the summary's
 * shape where the gallery relies on it, and images only as PNG data URIs (no other sources).
 */
export function parsePairListOutput(v: unknown): GalleryData {
  if (!isRecord(v) || !isRecord(v.summary) || !isRecord(v.files) || !isRecord(v.files.data)) {
    throw new ProtocolError('expected {"summary": …, "files": {"data": {…}}}, as `xssab explain-pairs --mime` prints');
  }
  const { pairs, models } = v.summary;
  if (!Array.isArray(pairs) || !pairs.every((p) => isRecord(p) && typeof p.index === 'number' && typeof p.dir === 'string')) {
    throw new ProtocolError('summary.pairs must be a list of pair records');
  }
  if (!Array.isArray(models) || !models.every(isRecord)) throw new ProtocolError('summary.models must be a list');
  const data: Record<string, string> = {};
  for (const [name, uri] of Object.entries(v.files.data)) {
    if (typeof uri !== 'string' || !PNG_DATA_URI.test(uri)) throw new ProtocolError(`files.data["${name.slice(0, 80)}"] must be a PNG data URI`);
    data[name] = uri;
  }
  return { summary: v.summary as unknown as GalleryData['summary'], files: { data } };
}
