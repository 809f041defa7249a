import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as vscode from 'vscode';
import { EXPLANATION_MIME, type ExplanationPayload, PAIRLIST_MIME, REQUEST_MIME } from '../../src/shared/result';
import { EngineFailure } from '../../src/extension/engineClient';
import {
  MAX_DATA_URI_BYTES,
  type NotebookHost,
  type NotebookMessaging,
  RENDERER_ID,
  RequestError,
  UNTRUSTED_MESSAGE,
  answer,
  decodeImageDataUri,
  isInside,
  mayRun,
  requestImages,
  requestModel,
  resolveInside,
} from '../../src/extension/notebookMessaging';
import type { JobImage, NotebookHostMessage, Reply } from '../../src/shared/protocol';
import { decodeMap, rawMap } from '../../src/shared/mapCodec';
import { MAP_KINDS, type MapData, type MapKind } from '../../src/shared/result';
import { goldenPayload } from './explanationFixture';

// A 1×1 grey PNG.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==';
const PNG_URI = `data:image/png;base64,${PNG_BASE64}`;

async function refuses(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof RequestError, `expected a RequestError, got ${e}`);
    assert.match(e.message, message);
    return true;
  });
}

/**
 * root/
 *   work/        the workspace folder: face.png, models/m.onnx, nb/ (a notebook's folder),
 *                escape.png → ../outside/secret.png, outdir → ../outside
 *   outside/     secret.png, m.onnx, notebooks/ (a notebook outside the workspace) with near.png
 */
let root: string;
let work: string;
let outside: string;

describe('notebook requests', () => {
  before(() => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-nb-')));
    work = path.join(root, 'work');
    outside = path.join(root, 'outside');
    for (const dir of [path.join(work, 'nb'), path.join(work, 'models'), path.join(outside, 'notebooks')]) fs.mkdirSync(dir, { recursive: true });
    for (const file of [path.join(work, 'face.png'), path.join(work, 'models', 'm.onnx'), path.join(outside, 'secret.png'), path.join(outside, 'm.onnx'), path.join(outside, 'notebooks', 'near.png')]) {
      fs.writeFileSync(file, 'x');
    }
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(work, 'escape.png'));
    fs.symlinkSync(outside, path.join(work, 'outdir'));
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("package.json contributes the renderer under this id, for its three MIME types, with optional messaging", () => {
    const { contributes } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.deepEqual(
      contributes.notebookRenderer.map((r: { id: string; mimeTypes: string[]; requiresMessaging: string; entrypoint: string }) => [r.id, r.mimeTypes, r.requiresMessaging, r.entrypoint]),
      [[RENDERER_ID, [EXPLANATION_MIME, REQUEST_MIME, PAIRLIST_MIME], 'optional', './dist/renderer/notebook.js']],
    );
  });

  describe('trust', () => {
    it('runs by itself only in a trusted workspace; an untrusted one needs the button', () => {
      assert.equal(mayRun(true, false), true);
      assert.equal(mayRun(true, true), true);
      assert.equal(mayRun(false, false), false);
      assert.equal(mayRun(false, true), true);
    });
  });

  describe('paths', () => {
    it('isInside: the folder itself and what lies below it, not siblings with a common prefix or parents', () => {
      assert.equal(isInside('/w/a', '/w/a'), true);
      assert.equal(isInside('/w/a/b/c.png', '/w/a'), true);
      assert.equal(isInside('/w/a/..b.png', '/w/a'), true);
      assert.equal(isInside('/w/ab/c.png', '/w/a'), false);
      assert.equal(isInside('/w', '/w/a'), false);
      assert.equal(isInside('/etc/passwd', '/w/a'), false);
    });

    it('resolves relative names against the notebook folder', async () => {
      assert.equal(await resolveInside('../face.png', path.join(work, 'nb'), [work], '"a"', 'here'), path.join(work, 'face.png'));
      assert.equal(await resolveInside(path.join(work, 'face.png'), undefined, [work], '"a"', 'here'), path.join(work, 'face.png'));
    });

    it('refuses `..` escapes, naming the path', async () => {
      await refuses(resolveInside('../../outside/secret.png', path.join(work, 'nb'), [work], '"a"', 'the workspace'), /^"a" "\.\.\/\.\.\/outside\/secret\.png" is outside the workspace \(it is .*outside\/secret\.png\)/);
      await refuses(resolveInside(path.join(work, '..', 'outside', 'secret.png'), undefined, [work], '"b"', 'the workspace'), /^"b" ".*" is outside the workspace/);
    });

    it('follows symlinks before the check: a link to a file or folder outside is refused', async () => {
      await refuses(resolveInside('escape.png', work, [work], '"a"', 'the workspace'), /is outside the workspace \(it is .*outside\/secret\.png\)/);
      await refuses(resolveInside('outdir/secret.png', work, [work], '"a"', 'the workspace'), /is outside the workspace/);
    });

    it('a symlinked workspace folder still contains its files', async () => {
      const link = path.join(root, 'work-link');
      fs.symlinkSync(work, link);
      assert.equal(await resolveInside('face.png', link, [link], '"a"', 'here'), path.join(work, 'face.png'));
    });

    it('refuses missing files and relative names without a notebook folder', async () => {
      await refuses(resolveInside('nope.png', work, [work], '"a"', 'here'), /^"a" "nope\.png" was not found/);
      await refuses(resolveInside('face.png', undefined, [work], '"a"', 'here'), /is relative, and this notebook has no folder/);
    });

    it('requestImages: workspace files and the notebook folder are allowed, other folders and non-images are not', async () => {
      const scope = { notebookFolder: path.join(outside, 'notebooks'), workspaceFolders: [work], trusted: true };
      assert.deepEqual(await requestImages({ a: path.join(work, 'face.png'), b: 'near.png' }, scope), [path.join(work, 'face.png'), path.join(outside, 'notebooks', 'near.png')]);
      await refuses(requestImages({ a: '../secret.png', b: 'near.png' }, scope), /^"a" "\.\.\/secret\.png" is outside the workspace folders and the notebook's folder/);
      await refuses(requestImages({ a: 'near.png', b: '../m.onnx' }, scope), /^"b" "\.\.\/m\.onnx" is not an image \(expected \.png, /);
    });
  });

  describe('data URIs', () => {
    it('decodes a PNG data URI to its bytes', () => {
      const bytes = decodeImageDataUri(PNG_URI, '"a"');
      assert.deepEqual(bytes, Buffer.from(PNG_BASE64, 'base64'));
      assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    });

    it('accepts JPEG and WebP, refuses other types and broken base64', () => {
      assert.equal(decodeImageDataUri('data:image/jpeg;base64,AAAA', '"a"').length, 3);
      assert.equal(decodeImageDataUri('data:image/webp;base64,AAA=', '"a"').length, 2);
      for (const uri of ['data:image/svg+xml;base64,AAAA', 'data:image/png,plain', 'data:image/png;base64,AA A', 'data:text/plain;base64,AAAA']) {
        assert.throws(() => decodeImageDataUri(uri, '"b"'), (e) => e instanceof RequestError && e.message === '"b" is not a base64 data URI of a PNG, JPEG or WebP image');
      }
    });

    it('checks the decoded size against the limit, exactly at the boundary', () => {
      // 8 base64 characters ending in "=" hold 5 bytes.
      assert.equal(decodeImageDataUri('data:image/png;base64,AAAAAAA=', '"a"', 5).length, 5);
      assert.throws(() => decodeImageDataUri('data:image/png;base64,AAAAAAAA', '"a"', 5), /"a" holds 0\.0 MB of image data, more than/);
      const big = `data:image/png;base64,${'A'.repeat(Math.ceil((MAX_DATA_URI_BYTES + 3) / 3) * 4)}`;
      assert.throws(() => decodeImageDataUri(big, '"a"'), /"a" holds 15\.0 MB of image data, more than the 15 MB allowed/);
    });

    it('requestImages passes a data URI as bytes with a label', async () => {
      const [a, b] = await requestImages({ a: PNG_URI, b: path.join(work, 'face.png') }, { workspaceFolders: [work], trusted: true });
      assert.deepEqual(a, { data: Buffer.from(PNG_BASE64, 'base64'), label: 'image a (data URI)' });
      assert.equal(b, path.join(work, 'face.png'));
    });
  });

  describe('model', () => {
    const scope = () => ({ notebookFolder: path.join(work, 'nb'), workspaceFolders: [work], trusted: true });

    it('uses a model inside the workspace, relative to the notebook', async () => {
      assert.deepEqual(await requestModel({ a: 'x', b: 'y', model: '../models/m.onnx' }, scope()), { model: path.join(work, 'models', 'm.onnx') });
      assert.deepEqual(await requestModel({ a: 'x', b: 'y' }, scope()), {});
    });

    it('falls back with a warning for a model outside the workspace or in an untrusted workspace', async () => {
      const outsideModel = await requestModel({ a: 'x', b: 'y', model: path.join(outside, 'm.onnx') }, scope());
      assert.equal(outsideModel.model, undefined);
      assert.match(outsideModel.warning ?? '', /^the model ".*outside\/m\.onnx" is outside the workspace folders .*; the model from the settings \(or the bundled one\) is used instead$/);
      const untrusted = await requestModel({ a: 'x', b: 'y', model: '../models/m.onnx' }, { ...scope(), trusted: false });
      assert.deepEqual(untrusted, { warning: 'the request\'s model "../models/m.onnx" is ignored in an untrusted workspace; the model from the settings (or the bundled one) is used instead' });
    });
  });

  describe('answering the renderer', () => {
    const editor = (folder: string) => ({ notebook: { uri: { scheme: 'file', fsPath: path.join(folder, 'explain.ipynb') } } }) as unknown as vscode.NotebookEditor;
    const payload: ExplanationPayload = { ...goldenPayload(), score: 0.5, warnings: ['from the engine'] };

    function setup(options: { trusted?: boolean; fail?: unknown; payload?: ExplanationPayload } = {}) {
      // Replies without their own (host-chosen) id; each names the request it answers.
      const replies: { message: NotebookHostMessage & { inReplyTo: string }; editor: unknown }[] = [];
      const jobs: { images: [JobImage, JobImage]; options: { model?: string; threshold?: number; faces?: [number, number]; check?: boolean } }[] = [];
      const warnings: string[] = [];
      const messaging: NotebookMessaging = {
        onDidReceiveMessage: () => ({ dispose() {} }),
        postMessage: (message, target) => {
          const { id, ...reply } = message as Reply<NotebookHostMessage>;
          assert.equal(typeof id, 'string');
          replies.push({ message: reply, editor: target });
          return Promise.resolve(true);
        },
      };
      const host: NotebookHost = {
        isTrusted: () => options.trusted ?? true,
        workspaceFolders: () => [work],
        explain: async (images, o) => {
          jobs.push({ images, options: o });
          if (options.fail) throw options.fail;
          return options.payload ?? payload;
        },
        failureText: (e) => `text for ${(e as Error).message}`,
        log: { info: () => {}, warn: (m: string) => warnings.push(m) } as unknown as NotebookHost['log'],
      };
      return { replies, jobs, warnings, messaging, host };
    }
    const explain = (request: object, run = false) => ({ type: 'explain', id: 'r1', request, run });

    it('runs a valid request with paths relative to the notebook and replies to its editor', async () => {
      const t = setup();
      const nb = editor(path.join(work, 'nb'));
      await answer(t.messaging, t.host, nb, explain({ a: '../face.png', b: '../face.png', threshold: 0.3 }));
      assert.deepEqual(t.jobs, [{ images: [path.join(work, 'face.png'), path.join(work, 'face.png')], options: { model: undefined, threshold: 0.3, faces: undefined } }]);
      assert.deepEqual(t.replies, [{ message: { type: 'explained', inReplyTo: 'r1', payload }, editor: nb }]);
    });

    it('replies with base64 maps when the engine gave float32 values (renderer messaging carries JSON)', async () => {
      const raw = (maps: Record<MapKind, MapData>) => Object.fromEntries(MAP_KINDS.map((k) => [k, rawMap(decodeMap(maps[k]), maps[k].shape)])) as Record<MapKind, MapData>;
      const t = setup({ payload: { ...payload, maps: { a: raw(payload.maps.a), b: raw(payload.maps.b) } } });
      await answer(t.messaging, t.host, editor(work), explain({ a: 'face.png', b: 'face.png' }));
      const reply = t.replies[0].message;
      assert.ok(reply.type === 'explained');
      assert.deepEqual(reply.payload.maps, payload.maps);
    });

    it('passes the faces a request names, the largest for the one it does not', async () => {
      const t = setup();
      const nb = editor(work);
      await answer(t.messaging, t.host, nb, explain({ a: 'face.png', b: 'face.png', faceB: 2 }));
      await answer(t.messaging, t.host, nb, explain({ a: 'face.png', b: 'face.png', faceA: 1 }));
      await answer(t.messaging, t.host, nb, explain({ a: 'face.png', b: 'face.png', faceA: 0, faceB: 3 }));
      assert.deepEqual(t.jobs.map((j) => j.options.faces), [[0, 2], [1, 0], [0, 3]]);
    });

    it('in an untrusted workspace asks for the button, and runs once it is pressed', async () => {
      const t = setup({ trusted: false });
      await answer(t.messaging, t.host, editor(work), explain({ a: 'face.png', b: 'face.png' }));
      assert.deepEqual(t.replies.map((r) => r.message), [{ type: 'explainFailed', inReplyTo: 'r1', message: UNTRUSTED_MESSAGE, needsTrust: true }]);
      assert.equal(t.jobs.length, 0);
      await answer(t.messaging, t.host, editor(work), explain({ a: 'face.png', b: 'face.png' }, true));
      assert.equal(t.jobs.length, 1);
      assert.equal(t.replies[1].message.type, 'explained');
    });

    it('"Check this map" explains the request again with the trust check, also in an untrusted workspace (the button is the go-ahead)', async () => {
      const t = setup({ trusted: false });
      const nb = editor(path.join(work, 'nb'));
      await answer(t.messaging, t.host, nb, { type: 'checkMap', id: 'c1', request: { a: '../face.png', b: '../face.png', faceB: 1 } });
      assert.deepEqual(t.jobs, [{ images: [path.join(work, 'face.png'), path.join(work, 'face.png')], options: { model: undefined, threshold: undefined, faces: [0, 1], check: true } }]);
      assert.deepEqual(t.replies, [{ message: { type: 'explained', inReplyTo: 'c1', payload }, editor: nb }]);
    });

    it('checks a checkMap request as it checks explain: a path outside is refused, an invalid request ignored', async () => {
      const t = setup();
      await answer(t.messaging, t.host, editor(path.join(work, 'nb')), { type: 'checkMap', id: 'c1', request: { a: '../../outside/secret.png', b: '../face.png' } });
      await answer(t.messaging, t.host, editor(work), { type: 'checkMap', id: 'c2', request: { a: 'face.png', b: 'face.png', script: 'x' } });
      assert.equal(t.jobs.length, 0);
      assert.match(t.replies[0].message.type === 'explainFailed' ? t.replies[0].message.message : '', /^"a" "\.\.\/\.\.\/outside\/secret\.png" is outside/);
      assert.equal(t.replies.length, 1);
      assert.deepEqual(t.warnings.slice(-1), ['notebook: ignored an invalid message: unknown request field(s): script']);
    });

    it('refuses a path outside, naming it, without running the engine', async () => {
      const t = setup();
      await answer(t.messaging, t.host, editor(path.join(work, 'nb')), explain({ a: '../../outside/secret.png', b: '../face.png' }));
      assert.equal(t.jobs.length, 0);
      const reply = t.replies[0].message;
      assert.equal(reply.type, 'explainFailed');
      assert.match(reply.type === 'explainFailed' ? reply.message : '', /^"a" "\.\.\/\.\.\/outside\/secret\.png" is outside the workspace folders and the notebook's folder/);
    });

    it('adds the model warning to the explanation it replies with', async () => {
      const t = setup();
      await answer(t.messaging, t.host, editor(work), explain({ a: 'face.png', b: 'face.png', model: '../outside/m.onnx' }));
      assert.equal(t.jobs[0].options.model, undefined);
      const reply = t.replies[0].message;
      assert.ok(reply.type === 'explained');
      assert.equal(reply.payload.warnings.length, 2);
      assert.equal(reply.payload.warnings[0], 'from the engine');
      assert.match(reply.payload.warnings[1], /^the model "\.\.\/outside\/m\.onnx" is outside the workspace folders/);
    });

    it("replies with the engine's message when it fails", async () => {
      const t = setup({ fail: new EngineFailure({ message: 'face.png: no face found', known: true }) });
      await answer(t.messaging, t.host, editor(work), explain({ a: 'face.png', b: 'face.png' }));
      assert.deepEqual(t.replies.map((r) => r.message), [{ type: 'explainFailed', inReplyTo: 'r1', message: 'text for face.png: no face found' }]);
    });

    it('ignores (and logs) invalid messages and messages other than explain', async () => {
      const t = setup();
      await answer(t.messaging, t.host, editor(work), { type: 'setThreshold', threshold: 0.2 });
      await answer(t.messaging, t.host, editor(work), { type: 'explain', id: 'r2', request: { a: 1, b: 'x' } });
      assert.equal(t.replies.length, 0);
      assert.equal(t.jobs.length, 0);
      assert.deepEqual(t.warnings, [
        'notebook: ignored a "setThreshold" message (notebook outputs may only ask to explain a request or check its map)',
        'notebook: ignored an invalid message: "a" must be a non-empty string',
      ]);
    });
  });
});
