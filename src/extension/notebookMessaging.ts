// Requests from notebook outputs (application/vnd.xssab.request+json), answered in the extension
// host. A request names files or carries data URIs; everything is checked before the engine reads
// it: files must lie inside a workspace folder or the notebook's folder once symlinks are followed,
// data URIs must be small enough, and an untrusted workspace runs a request only when the user
// pressed "Run xSSAB" (or "Check this map", which explains it again with the trust check). vscode is imported for types only: extension.ts passes the messaging and
// the workspace in, so this file runs in plain Node tests.
import * as fs from 'fs';
import * as path from 'path';
import type * as vscode from 'vscode';
import type { ExplanationPayload } from '../shared/result';
import type { Envelope, ExplainOptions, ExplainRequest, JobImage, NotebookHostMessage, NotebookMessage } from '../shared/protocol';
import { isPanelOnlyMessageType, parseNotebookMessage } from '../shared/protocol';
import { encodePayload } from '../shared/mapCodec';
import { CancelledError, Envelopes } from '../shared/requests';
import { IMAGE_EXTENSIONS, isImagePath } from './images';
import { UserError } from '../shared/errors';

/** The notebook renderer's id in package.json (contributes.notebookRenderer). */
export const RENDERER_ID = 'xssab.explanation';

/** Largest decoded image a data URI may carry. */
export const MAX_DATA_URI_BYTES = 15 * 1024 * 1024;

export const UNTRUSTED_MESSAGE = 'xSSAB does not run automatically in an untrusted workspace; press Run xSSAB to run it once.';

const DATA_URI = /^data:image\/(?:png|jpeg|webp);base64,([A-Za-z0-9+/]+={0,2})$/;

/** A request that cannot run as asked; its message is shown in the output as it is. */
export class RequestError extends UserError {}

/** Whether a request runs now: in an untrusted workspace only after the user's go-ahead. */
export function mayRun(trusted: boolean, runPressed: boolean): boolean {
  return trusted || runPressed;
}

/** Whether `file` is `folder` or lies below it (both absolute and normalised). */
export function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

async function realPathOrSelf(p: string): Promise<string> {
  return fs.promises.realpath(p).catch(() => path.resolve(p));
}

/**
 * The real path of a file named in a request. Relative names resolve against `base` (the
 * notebook's folder). Symlinks are followed before the check, so neither `..` nor a link inside
 * a folder can lead out of it; `where` names the allowed folders in the message.
 */
export async function resolveInside(name: string, base: string | undefined, folders: readonly string[], what: string, where: string): Promise<string> {
  if (!path.isAbsolute(name) && base === undefined) throw new RequestError(`${what} "${name}" is relative, and this notebook has no folder to resolve it against`);
  const absolute = path.resolve(base ?? '/', name);
  let real: string;
  try {
    real = await fs.promises.realpath(absolute);
  } catch {
    throw new RequestError(`${what} "${name}" was not found (${absolute})`);
  }
  const roots = await Promise.all(folders.map(realPathOrSelf));
  if (!roots.some((root) => isInside(real, root))) throw new RequestError(`${what} "${name}" is outside ${where} (it is ${real}); xSSAB reads files only there`);
  return real;
}

/** The bytes of an image data URI (PNG, JPEG or WebP, base64), size-checked before decoding. */
export function decodeImageDataUri(uri: string, what: string, maxBytes = MAX_DATA_URI_BYTES): Buffer {
  const match = DATA_URI.exec(uri);
  if (!match) throw new RequestError(`${what} is not a base64 data URI of a PNG, JPEG or WebP image`);
  const base64 = match[1];
  const bytes = Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
  if (bytes > maxBytes) throw new RequestError(`${what} holds ${(bytes / 1024 / 1024).toFixed(1)} MB of image data, more than the ${(maxBytes / 1024 / 1024).toFixed(0)} MB allowed`);
  return Buffer.from(base64, 'base64');
}

/** Where a request's files may be: the workspace folders and the notebook's folder. */
export interface RequestScope {
  /** The notebook's folder; undefined for a notebook that is not a file (untitled). */
  notebookFolder?: string;
  workspaceFolders: readonly string[];
  trusted: boolean;
}

const IMAGES_WHERE = "the workspace folders and the notebook's folder";

/** The two images of a request as the engine takes them. */
export async function requestImages(request: ExplainRequest, scope: RequestScope): Promise<[JobImage, JobImage]> {
  const folders = scope.notebookFolder ? [...scope.workspaceFolders, scope.notebookFolder] : scope.workspaceFolders;
  const image = async (side: 'a' | 'b'): Promise<JobImage> => {
    const value = request[side];
    const what = `"${side}"`;
    if (value.startsWith('data:')) return { data: decodeImageDataUri(value, what), label: `image ${side} (data URI)` };
    if (!isImagePath(value)) throw new RequestError(`${what} "${value}" is not an image (expected ${IMAGE_EXTENSIONS.join(', ')}) or an image data URI`);
    return resolveInside(value, scope.notebookFolder, folders, what, IMAGES_WHERE);
  };
  return [await image('a'), await image('b')];
}

/**
 * The model a request names, if it may be used: a file inside the workspace folders of a trusted
 * workspace. Otherwise the settings' (or the bundled) model runs, and a warning says why.
 */
export async function requestModel(request: ExplainRequest, scope: RequestScope): Promise<{ model?: string; warning?: string }> {
  if (request.model === undefined) return {};
  const instead = 'the model from the settings (or the bundled one) is used instead';
  if (!scope.trusted) return { warning: `the request's model "${request.model}" is ignored in an untrusted workspace; ${instead}` };
  try {
    return { model: await resolveInside(request.model, scope.notebookFolder, scope.workspaceFolders, 'the model', 'the workspace folders') };
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    return { warning: `${e.message}; ${instead}` };
  }
}

/** What the extension provides to answer requests. */
export interface NotebookHost {
  /** Read at each request: trust can be granted while the window is open. */
  isTrusted(): boolean;
  workspaceFolders(): string[];
  /** Runs the engine (with progress and the log); `model` replaces the settings' model. */
  explain(images: [JobImage, JobImage], options: ExplainOptions): PromiseLike<ExplanationPayload>;
  /** The user's text for an engine failure; unexpected failures are logged in full. */
  failureText(error: unknown): string;
  log: Pick<vscode.LogOutputChannel, 'info' | 'warn'>;
}

export type NotebookMessaging = Pick<vscode.NotebookRendererMessaging, 'onDidReceiveMessage' | 'postMessage'>;

/** Answers the renderer's requests until disposed. */
export function answerNotebookRequests(messaging: NotebookMessaging, host: NotebookHost): vscode.Disposable {
  return messaging.onDidReceiveMessage(({ editor, message }) => void answer(messaging, host, editor, message));
}

/** The host's replies to the renderers, in envelopes. */
const envelopes = new Envelopes('host-');

/** Answers one message. It never throws: the output waits for an answer (or its own timeout). */
export async function answer(messaging: NotebookMessaging, host: NotebookHost, editor: vscode.NotebookEditor, raw: unknown): Promise<void> {
  let message: Envelope<NotebookMessage>;
  try {
    message = parseNotebookMessage(raw);
  } catch (e) {
    const type = (raw as { type?: unknown } | null)?.type;
    host.log.warn(
      isPanelOnlyMessageType(type)
        ? `notebook: ignored a "${String(type)}" message (notebook outputs may only ask to explain a request or check its map)`
        : `notebook: ignored an invalid message: ${e instanceof Error ? e.message : String(e)}`,
    );
    return;
  }
  const { request } = message;
  const reply = (m: NotebookHostMessage) =>
    Promise.resolve(messaging.postMessage(envelopes.reply(message, m), editor)).then(
      (delivered) => delivered || host.log.warn(`notebook: the answer to request ${message.id} was not delivered (output closed?)`),
      (e) => host.log.warn(`notebook: could not answer request ${message.id}: ${e}`),
    );
  const trusted = host.isTrusted();
  const check = message.type === 'checkMap';
  if (!mayRun(trusted, message.type === 'checkMap' || message.run)) {
    await reply({ type: 'explainFailed', message: UNTRUSTED_MESSAGE, needsTrust: true });
    return;
  }
  const uri = editor.notebook.uri;
  const scope: RequestScope = { notebookFolder: uri.scheme === 'file' ? path.dirname(uri.fsPath) : undefined, workspaceFolders: host.workspaceFolders(), trusted };
  try {
    const images = await requestImages(request, scope);
    const { model, warning } = await requestModel(request, scope);
    if (warning) host.log.warn(`notebook: ${warning}`);
    const faces: [number, number] | undefined =
      request.faceA === undefined && request.faceB === undefined ? undefined : [request.faceA ?? 0, request.faceB ?? 0];
    const payload = await host.explain(images, { model, threshold: request.threshold, faces, ...(check ? { check } : {}) });
    // Base64 maps: the renderer messaging carries JSON.
    await reply({ type: 'explained', payload: encodePayload(warning ? { ...payload, warnings: [...payload.warnings, warning] } : payload) });
  } catch (e) {
    if (e instanceof RequestError) host.log.warn(`notebook: refused a request: ${e.message}`);
    const text = e instanceof RequestError ? e.message : e instanceof CancelledError ? 'cancelled' : host.failureText(e);
    await reply({ type: 'explainFailed', message: text });
  }
}
