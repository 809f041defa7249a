// The messages of every channel, one discriminated union on `type` per channel and direction:
// explanation panel ↔ host, notebook renderer ↔ host, gallery ↔ host, host ↔ engine worker.
// Every message travels in an envelope with its own id; a reply also names the message it
// answers (requests.ts matches them). Whatever arrives from a webview or notebook passes its
// channel's parse function before the host acts on it.
import { ALL_GROUPS, type GalleryData, type GalleryItem, type GalleryPage, type GalleryQuery, ITEM_KINDS, LABELS, MAX_PAGE, type PairListOutput, SORT_KEYS } from './galleryPages';
import type { ModelEntry } from './pairListSummary';
import type { ExplanationPayload, MapKind, Side } from './result';
import { MAP_KINDS } from './result';

export type MessageId = string;
/** What every message has: its type. */
export interface Typed {
  type: string;
}
/** A message as sent: with its id, and for a reply the id of the message it answers. */
export type Envelope<M extends Typed> = M & { id: MessageId; inReplyTo?: MessageId };
export type Reply<M extends Typed> = M & { id: MessageId; inReplyTo: MessageId };

/** Ends a `switch` over a union: a case left out does not compile, a stray value throws. */
export function unexpected(message: never): never {
  const type = (message as Partial<Typed> | null)?.type;
  throw new ProtocolError(`unexpected message type "${String(type).slice(0, 40)}"`);
}

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
  /** Contrast: the percentile of |values| the colour range is taken at (90…100; 100 = the maximum). */
  colourRange?: number;
  /** Display-only Gaussian smoothing of the maps, σ in crop pixels (0 = off … 8). */
  smoothing?: number;
}

// ------------------------------------------------------------ explanation panel ↔ host

/** Panel → host. */
export type PanelMessage =
  | { type: 'ready' }
  | { type: 'setThreshold'; threshold: number }
  | { type: 'exportResult' }
  /** Save the six raw maps as one .npy file (shape 2 × 3 × H × W). */
  | { type: 'exportMaps' }
  | { type: 'exportMap'; side: Side; kind: MapKind; png: string }
  /** Explain the pair again with another detected face of one photo (0 = the largest). */
  | { type: 'chooseFace'; side: Side; face: number }
  /** Run the trust check of the shown maps (explained again with `check`). */
  | { type: 'checkMap' };

const PANEL_MESSAGE_TYPES: readonly string[] = ['ready', 'setThreshold', 'exportResult', 'exportMaps', 'exportMap', 'chooseFace', 'checkMap'] satisfies PanelMessage['type'][];

/** Whether `type` is one of the panel's messages (which a notebook output may not send). */
const isPanelMessageType = (type: unknown): boolean => PANEL_MESSAGE_TYPES.includes(type as string);

/** Host → panel. */
export type PanelHostMessage =
  | { type: 'explanation'; payload: ExplanationPayload; photos?: { a: string; b: string }; view?: ViewPreferences }
  | { type: 'progress'; message: string }
  | { type: 'error'; message: string };

// ------------------------------------------------------------ notebook renderer ↔ host

/**
 * Notebook renderer → host: a request of an output; `checkMap` explains it again with the trust
 * check ("Check this map", pressed by the user, so it runs in an untrusted workspace too).
 */
export type NotebookMessage = { type: 'explain'; request: ExplainRequest; run: boolean } | { type: 'checkMap'; request: ExplainRequest };

const NOTEBOOK_MESSAGE_TYPES: readonly string[] = ['explain', 'checkMap'] satisfies NotebookMessage['type'][];

/** Whether `type` is one of the panel's messages that a notebook output may not send. */
export const isPanelOnlyMessageType = (type: unknown): boolean => isPanelMessageType(type) && !NOTEBOOK_MESSAGE_TYPES.includes(type as string);

/** Host → notebook renderer: the answer to an `explain` or `checkMap` request (a Reply to it). */
export type NotebookHostMessage = { type: 'explained'; payload: ExplanationPayload } | { type: 'explainFailed'; message: string; needsTrust?: boolean };

// ------------------------------------------------------------ gallery ↔ host

/**
 * Gallery → host. `page`: the pairs [offset, offset + limit) of a query, answered by a `page`
 * reply; `shown`: how many pairs the gallery lists after filtering, once it drew them (tests read it).
 */
export type GalleryMessage =
  | { type: 'ready' }
  | { type: 'page'; query: GalleryQuery; offset: number; limit: number }
  | { type: 'shown'; pairs: number }
  | { type: 'openPair'; index: number; model: ModelEntry['key'] }
  /** The run's report.html in the browser, or its folder in the system's file manager. */
  | { type: 'openRun'; what: 'report' | 'folder' };

/** Host → gallery. */
/** `out`: the run's folder on disk, kept in the webview's state so that VS Code can restore the panel. */
export type GalleryHostMessage = { type: 'gallery'; data: GalleryData; out: string } | { type: 'page'; page: GalleryPage } | { type: 'error'; message: string };

// ------------------------------------------------------------ host ↔ engine worker

/**
 * An image of a job: a path, which also labels it in the result and in error messages, or encoded
 * image bytes with their label (a notebook's data URI).
 */
export type JobImage = string | { data: Uint8Array; label: string };

export interface ExplainJob {
  /** Model path; undefined = the bundled model. */
  model?: string;
  /** An execution provider choice (engine/runtime.ts); the worker refuses others. */
  ep: string;
  a: JobImage;
  b: JobImage;
  /** undefined = the model card's threshold. */
  threshold?: number;
  /** The detected face used in each image (0 = the largest, the default). */
  faces?: [number, number];
  /** Also run the trust check of the maps (result `check`). */
  check?: boolean;
}

/** What a caller may set of an explanation besides its images: the model, threshold, faces and the trust check. */
export type ExplainOptions = Pick<ExplainJob, 'model' | 'threshold' | 'faces' | 'check'>;

/** A model to inspect (`xssab inspect`); undefined = the bundled model. */
export interface InspectJob {
  model?: string;
}

/** What the engine makes of a model, as the host shows it. */
export interface ModelInspection {
  /** The report as `xssab inspect` prints it, one line each. */
  lines: string[];
  /** Why the maps cannot be computed with this model (the ops without a gradient rule); undefined when they can. */
  problem?: string;
}

/** Host → worker. */
export type WorkerRequest = { type: 'explain'; job: ExplainJob } | { type: 'inspect'; job: InspectJob };

export interface JobFailure {
  message: string;
  /** True for a UserError, whose message is written for users. */
  known: boolean;
  stack?: string;
}

/** The engine could not use the chosen execution provider (or, for `auto`, the better ones). */
export interface Fallback {
  /** The providers that could not be used, in the order tried ("cuda, webgpu"). */
  providers: string;
  /** The provider used instead. */
  ep: string;
  /** Why, a few words per provider: "no CUDA libraries, no Vulkan driver". */
  reason: string;
  /** The one line a person reads: "running on the CPU (no CUDA libraries, no Vulkan driver)". */
  notice: string;
  /** onnxruntime's errors and what its native code printed while trying, for a debug log. */
  detail: string;
}

/** Worker → host: replies to a request, any number of progress and fallback notices, then done or failed. */
export type WorkerReply =
  | { type: 'progress'; message: string }
  | { type: 'fallback'; fallback: Fallback }
  | { type: 'done'; payload: ExplanationPayload; loadMs?: number }
  /** The answer to an `inspect` request. */
  | { type: 'inspected'; inspection: ModelInspection }
  | { type: 'failed'; error: JobFailure };

// ------------------------------------------------------------ validation

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

/** Longest message id accepted from a webview or notebook. */
const MAX_ID = 128;

/** `body` in the envelope of `v`: the id it carries (the messages parsed here answer none). */
function envelope<M extends Typed>(v: Record<string, unknown>, body: M): Envelope<M> {
  return { ...body, id: text(v.id, 'id', MAX_ID) };
}

function typed(v: unknown): Record<string, unknown> & Typed {
  if (!isRecord(v) || typeof v.type !== 'string') throw new ProtocolError('message without a type');
  return v as Record<string, unknown> & Typed;
}

const unknownType = (type: string) => new ProtocolError(`unknown message type "${type.slice(0, 40)}"`);

/** Validates a message from the explanation panel; throws ProtocolError on anything unexpected. */
export function parsePanelMessage(raw: unknown): Envelope<PanelMessage> {
  const v = typed(raw);
  switch (v.type) {
    case 'ready':
    case 'exportResult':
    case 'exportMaps':
    case 'checkMap':
      return envelope(v, { type: v.type });
    case 'setThreshold':
      return envelope(v, { type: 'setThreshold', threshold: finiteNumber(v.threshold, 'threshold', -1, 1) });
    case 'exportMap': {
      const side = parseSide(v.side);
      if (!MAP_KINDS.includes(v.kind as MapKind)) throw new ProtocolError(`kind must be one of ${MAP_KINDS.join(', ')}`);
      const png = text(v.png, 'png', 8 * 1024 * 1024);
      if (!PNG_DATA_URI.test(png)) throw new ProtocolError('png must be a PNG data URI');
      return envelope(v, { type: 'exportMap', side, kind: v.kind as MapKind, png });
    }
    case 'chooseFace':
      return envelope(v, { type: 'chooseFace', side: parseSide(v.side), face: count(v.face, 'face') });
    default:
      throw unknownType(v.type);
  }
}

/** Validates a message from a notebook output; throws ProtocolError on anything unexpected. */
export function parseNotebookMessage(raw: unknown): Envelope<NotebookMessage> {
  const v = typed(raw);
  switch (v.type) {
    case 'explain':
      return envelope(v, { type: 'explain', request: parseExplainRequest(v.request), run: v.run === true });
    case 'checkMap':
      return envelope(v, { type: 'checkMap', request: parseExplainRequest(v.request) });
    default:
      throw unknownType(v.type);
  }
}

/** Validates a message from the gallery; throws ProtocolError on anything unexpected. */
export function parseGalleryMessage(raw: unknown): Envelope<GalleryMessage> {
  const v = typed(raw);
  switch (v.type) {
    case 'ready':
      return envelope(v, { type: 'ready' });
    case 'page': {
      const limit = count(v.limit, 'limit');
      if (limit < 1 || limit > MAX_PAGE) throw new ProtocolError(`limit must be 1 to ${MAX_PAGE}`);
      return envelope(v, { type: 'page', query: parseGalleryQuery(v.query), offset: count(v.offset, 'offset'), limit });
    }
    case 'shown':
      return envelope(v, { type: 'shown', pairs: count(v.pairs, 'pairs') });
    case 'openPair':
      if (v.model !== 'model-a' && v.model !== 'model-b') throw new ProtocolError('model must be "model-a" or "model-b"');
      return envelope(v, { type: 'openPair', index: count(v.index, 'index'), model: v.model });
    case 'openRun':
      if (v.what !== 'report' && v.what !== 'folder') throw new ProtocolError('what must be "report" or "folder"');
      return envelope(v, { type: 'openRun', what: v.what });
    default:
      throw unknownType(v.type);
  }
}

/** Longest text filter or group name accepted in a gallery query. */
const MAX_QUERY_TEXT = 1000;

function oneOf<T extends string>(v: unknown, what: string, values: readonly T[]): T {
  if (!values.includes(v as T)) throw new ProtocolError(`${what} must be one of ${values.join(', ')}`);
  return v as T;
}

function parseGalleryQuery(v: unknown): GalleryQuery {
  if (!isRecord(v)) throw new ProtocolError('query must be an object');
  const string = (x: unknown, what: string) => {
    if (typeof x !== 'string' || x.length > MAX_QUERY_TEXT) throw new ProtocolError(`${what} must be a string of at most ${MAX_QUERY_TEXT} characters`);
    return x;
  };
  if (typeof v.descending !== 'boolean') throw new ProtocolError('query.descending must be true or false');
  return {
    sort: oneOf(v.sort, 'query.sort', SORT_KEYS),
    descending: v.descending,
    kind: oneOf(v.kind, 'query.kind', ['all', ...ITEM_KINDS] as const),
    label: oneOf(v.label, 'query.label', ['all', ...LABELS] as const),
    group: v.group === undefined ? ALL_GROUPS : string(v.group, 'query.group'),
    text: string(v.text, 'query.text'),
  };
}

/**
 * Validates a notebook's pair-list output (application/vnd.xssab.pairlist+json): the shapes the
 * gallery relies on, and images only as PNG data URIs (no other sources).
 */
export function parsePairListOutput(v: unknown): PairListOutput {
  if (!isRecord(v) || !isRecord(v.summary) || !isRecord(v.page) || !isRecord(v.files) || !isRecord(v.files.data) || !isRecord(v.run)) {
    throw new ProtocolError('expected {"summary": …, "page": …, "files": {"data": {…}}, "run": …}, as `xssab explain-pairs --mime` prints');
  }
  const run = { out: text(v.run.out, 'run.out', 4096), pairs: count(v.run.pairs, 'run.pairs') };
  if (!Array.isArray(v.summary.models) || !v.summary.models.every(isRecord)) throw new ProtocolError('summary.models must be a list');
  const { items, thumbs, offset, total, all } = v.page;
  if (!Array.isArray(items) || !items.every((p) => isRecord(p) && typeof p.index === 'number' && typeof p.a === 'string' && typeof p.b === 'string' && typeof p.kind === 'string')) {
    throw new ProtocolError('page.items must be a list of pairs');
  }
  for (const [what, n] of [['offset', offset], ['total', total], ['all', all]] as const) count(n, `page.${what}`);
  const pngs = (from: unknown, what: string) => {
    if (!isRecord(from)) throw new ProtocolError(`${what} must be an object`);
    for (const [name, uri] of Object.entries(from)) {
      if (typeof uri !== 'string' || !PNG_DATA_URI.test(uri)) throw new ProtocolError(`${what}["${name.slice(0, 80)}"] must be a PNG data URI`);
    }
    return from as Record<string, string>;
  };
  return {
    summary: v.summary as unknown as PairListOutput['summary'],
    page: { offset: offset as number, total: total as number, all: all as number, items: items as unknown as GalleryItem[], query: parseGalleryQuery(v.page.query), thumbs: pngs(thumbs, 'page.thumbs') },
    files: { data: pngs(v.files.data, 'files.data') },
    run,
  };
}
