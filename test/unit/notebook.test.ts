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
    assert.ok(second.type === 'explain');
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

  it('a request\'s output has "Check this map": it sends checkMap with the request and draws the check chart of the answer', async () => {
    const nb = notebook();
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    nb.reply({ type: 'explained', id: 'host-1', inReplyTo: nb.posted[0].id, payload: goldenPayload() });
    await flush();
    const section = element.querySelector<HTMLElement>('.xssab-trust')!;
    assert.equal(section.hidden, false);
    const button = [...section.querySelectorAll('button')].find((b) => b.textContent === 'Check this map')!;
    assert.ok(button, 'the check button is there');
    assert.deepEqual([...element.querySelectorAll('button')].map((b) => b.textContent), ['Check this map'], 'no threshold or export controls');
    button.click();
    assert.equal(button.disabled, true);
    assert.equal(section.querySelector('[role="status"]')!.textContent, 'Checking the map…');
    assert.equal(nb.posted.length, 2);
    const sent = nb.posted[1];
    assert.deepEqual({ type: sent.type, request: sent.request }, { type: 'checkMap', request });

    // The check answered: the same viewer shows its chart (curves through the scores' span 0.1…0.5).
    const check = { levels: [0, 25, 50], order: 'highest first' as const, blurSigma: 4, seed: 1, ms: 80, a: { map: [0.5, 0.3, 0.1], random: [0.5, 0.45, 0.4], area: 0.0875 }, b: { map: [0.5, 0.5, 0.45], random: [0.5, 0.45, 0.4], area: -0.025 } };
    nb.reply({ type: 'explained', id: 'host-2', inReplyTo: sent.id, payload: { ...goldenPayload(), check } });
    await flush();
    const charts = [...element.querySelectorAll('.xssab-trust svg')];
    assert.equal(charts.length, 2);
    assert.equal(charts[0].querySelector('.xssab-check-map')!.getAttribute('points'), '34.0,6.0 114.0,49.0 194.0,92.0');
    assert.equal(element.querySelector('.xssab-trust button'), null);

    // Shown again (the notebook scrolled back, or a second output of the same request): the checked result, not sent again.
    const again = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o2', REQUEST_MIME, { ...request }), again, new AbortController().signal);
    await flush();
    assert.equal(nb.posted.length, 2);
    assert.equal(again.querySelectorAll('.xssab-trust svg').length, 2);
    assert.deepEqual(nb.errors, []);
  });

  it('a failed check says why and lets the user try again; the explanation stays', async () => {
    const nb = notebook();
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', REQUEST_MIME, request), element, new AbortController().signal);
    nb.reply({ type: 'explained', id: 'host-1', inReplyTo: nb.posted[0].id, payload: goldenPayload() });
    await flush();
    const button = element.querySelector<HTMLButtonElement>('.xssab-trust button')!;
    button.click();
    nb.reply({ type: 'explainFailed', id: 'host-2', inReplyTo: nb.posted[1].id, message: 'the engine stopped unexpectedly (exit code 1)' });
    await flush();
    assert.equal(element.querySelector('.xssab-trust [role="status"]')!.textContent, 'The check failed: the engine stopped unexpectedly (exit code 1)');
    assert.equal(button.disabled, false);
    assert.equal(element.querySelectorAll('.xssab-face').length, 2);
    button.click();
    assert.equal(nb.posted.length, 3);
    assert.equal(nb.posted[2].type, 'checkMap');
  });

  it('a stored explanation (no messaging) has no check button', async () => {
    const nb = notebook({ messaging: false });
    const element = nb.element();
    await nb.renderer.renderOutputItem(outputItem('o1', EXPLANATION_MIME, goldenPayload()), element, new AbortController().signal);
    assert.ok(element.querySelector<HTMLElement>('.xssab-trust')!.hidden);
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
