import { strict as assert } from 'assert';
import type { OutputItem, RendererApi, RendererContext } from 'vscode-notebook-renderer';
import { EXPLANATION_MIME, REQUEST_MIME } from '../../src/shared/result';
import { createRenderer, NO_MESSAGING } from '../../src/renderer/notebook';
import { type Envelope, type NotebookHostMessage, type NotebookMessage, parseNotebookMessage } from '../../src/shared/protocol';
import { goldenPayload, jsdom } from './explanationFixture';

function outputItem(id: string, mime: string, data: unknown): OutputItem {
  const text = JSON.stringify(data);
  return {
    id,
    mime,
    metadata: undefined,
    text: () => text,
    json: () => JSON.parse(text),
    data: () => new TextEncoder().encode(text),
    blob: () => new Blob([text]),
  };
}

interface Notebook {
  renderer: RendererApi;
  posted: Envelope<NotebookMessage>[];
  reply(message: Envelope<NotebookHostMessage>): void;
  element(): HTMLElement;
  errors: Error[];
}

function notebook(options: { messaging?: boolean; timeoutMs?: number } = {}): Notebook {
  const { dom, errors } = jsdom();
  const posted: Envelope<NotebookMessage>[] = [];
  let listener: ((m: unknown) => void) | undefined;
  const context: RendererContext<unknown> = {
    setState: () => undefined,
    getState: () => undefined,
    getRenderer: async () => undefined,
    workspace: { isTrusted: false },
    ...(options.messaging === false
      ? {}
      : {
          // What the host receives is validated there; check it here the same way.
          postMessage: (m: unknown) => posted.push(parseNotebookMessage(m)),
          onDidReceiveMessage: (l: (m: unknown) => void) => {
            listener = l;
            return { dispose: () => (listener = undefined) };
          },
        }),
  };
  return {
    renderer: createRenderer(context, options.timeoutMs),
    posted,
    reply: (m) => listener?.(m),
    element: () => dom.window.document.body.appendChild(dom.window.document.createElement('div')),
    errors,
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const request = { a: 'photos/alice.png', b: 'photos/bob.jpg' };

describe('notebook renderer', () => {
  it('renders a finished explanation with the static viewer', async () => {
    const nb = notebook({ messaging: false });
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', EXPLANATION_MIME, goldenPayload()), element, new AbortController().signal);
    assert.equal(element.querySelectorAll('.xssab-face').length, 2);
    assert.equal(element.querySelectorAll('button').length, 0);
    assert.equal(element.querySelector('.xssab-legend-high')?.textContent, '6.35e-2');
    nb.renderer.disposeOutputItem!('o1');
    assert.equal(element.querySelector('.xssab-viewer'), null);
    assert.deepEqual(nb.errors, []);
  });

  it('says so when an explanation cannot be shown', async () => {
    const nb = notebook();
    const element = nb.element();
    const broken = { ...goldenPayload(), maps: { ...goldenPayload().maps, b: { ...goldenPayload().maps.b, combined: { shape: [8, 8], data: 'AAAA' } } } };
    await nb.renderer.renderOutputItem(outputItem('o1', EXPLANATION_MIME, broken), element, new AbortController().signal);
    assert.equal(element.textContent, 'xSSAB: cannot show this explanation: map data holds 3 bytes, a 8×8 float32 map needs 256');
    assert.equal(element.querySelector('[role="alert"]')?.textContent, element.textContent);
  });

  it('sends a request, shows progress, then the viewer; re-rendering uses the cached result', async () => {
    const nb = notebook();
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    assert.equal(nb.posted.length, 1);
    const sent = nb.posted[0];
    assert.ok(sent.type === 'explain');
    assert.deepEqual(sent.request, request);
    assert.equal(sent.run, false);
    assert.equal(element.textContent, 'xSSAB: explaining alice.png and bob.jpg…');
    nb.reply({ type: 'explained', id: 'host-1', inReplyTo: 'someone-else', payload: goldenPayload() }); // another output's answer
    await flush();
    assert.equal(element.querySelector('.xssab-viewer'), null);
    nb.reply({ type: 'explained', id: 'host-1', inReplyTo: sent.id, payload: goldenPayload() });
    await flush();
    assert.equal(element.querySelectorAll('.xssab-face').length, 2);
    assert.match(element.querySelector('header')!.textContent!, /Score \(cosine\)0\.3420/);

    const again = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o2', REQUEST_MIME, { ...request }), again, new AbortController().signal);
    await flush();
    assert.equal(nb.posted.length, 1, 'the same request is not sent twice');
    assert.equal(again.querySelectorAll('.xssab-face').length, 2);
    assert.deepEqual(nb.errors, []);
  });

  it('an untrusted request shows "Run xSSAB", which re-sends it with run: true', async () => {
    const nb = notebook();
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    const first = nb.posted[0];
    nb.reply({ type: 'explainFailed', id: 'host-1', inReplyTo: first.id, message: 'this workspace is not trusted', needsTrust: true });
    await flush();
    assert.equal(element.querySelector('[role="alert"]')?.textContent, 'xSSAB: this workspace is not trusted');
    const button = element.querySelector('button')!;
    assert.equal(button.textContent, 'Run xSSAB');
    button.click();
    assert.equal(nb.posted.length, 2);
    const second = nb.posted[1];
    assert.equal(second.run, true);
    assert.notEqual(second.id, first.id);
    nb.reply({ type: 'explained', id: 'host-1', inReplyTo: second.id, payload: goldenPayload() });
    await flush();
    assert.equal(element.querySelectorAll('.xssab-face').length, 2);
  });

  it('a failure without needsTrust is shown without a button', async () => {
    const nb = notebook();
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    const sent = nb.posted[0];
    nb.reply({ type: 'explainFailed', id: 'host-1', inReplyTo: sent.id, message: 'photos/alice.png: no face found' });
    await flush();
    assert.equal(element.textContent, 'xSSAB: photos/alice.png: no face found');
    assert.equal(element.querySelector('button'), null);
  });

  it('without messaging, or with an invalid request, it says so instead of waiting', async () => {
    const nb = notebook({ messaging: false });
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    assert.equal(element.textContent, NO_MESSAGING);
    const nb2 = notebook();
    await nb2.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, { ...request, script: 'x' }), element, new AbortController().signal);
    assert.equal(element.textContent, 'xSSAB: invalid request: unknown request field(s): script');
    assert.deepEqual(nb2.posted, []);
  });

  it('times out when the extension does not answer, and a disposed output ignores late answers', async () => {
    const nb = notebook({ timeoutMs: 30 });
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 60));
    assert.match(element.textContent!, /^xSSAB: no answer from the xSSAB extension after \d+ s$/);

    const other = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o2', REQUEST_MIME, { a: 'c.png', b: 'd.png' }), other, new AbortController().signal);
    nb.renderer.disposeOutputItem!(undefined);
    const sent = nb.posted[nb.posted.length - 1];
    nb.reply({ type: 'explained', id: 'host-1', inReplyTo: sent.id, payload: goldenPayload() });
    await flush();
    assert.equal(other.querySelector('.xssab-viewer'), null);
  });
});
