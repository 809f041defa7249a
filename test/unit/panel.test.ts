import { strict as assert } from 'assert';
import { type PanelState, startPanel, type WebviewApi } from '../../src/renderer/panel';
import type { Envelope, PanelMessage } from '../../src/shared/protocol';
import { decodeMap, rawMap } from '../../src/shared/mapCodec';
import { MAP_KINDS, type MapData, type MapKind } from '../../src/shared/result';
import { goldenPayload, jsdom, PHOTO } from './explanationFixture';

function api(saved?: PanelState): WebviewApi & { posted: Envelope<PanelMessage>[]; state?: PanelState } {
  const fake = {
    posted: [] as Envelope<PanelMessage>[],
    state: saved,
    postMessage: (m: Envelope<PanelMessage>) => fake.posted.push(m),
    getState: () => fake.state,
    setState: (s: PanelState) => (fake.state = s),
  };
  return fake;
}

describe('webview panel', () => {
  it('posts ready, shows explanations, progress and errors, and keeps the last explanation in its state', () => {
    const { dom, errors } = jsdom();
    const doc = dom.window.document;
    const webview = api();
    const handle = startPanel(webview, doc);
    assert.deepEqual(webview.posted, [{ type: 'ready', id: 'panel-1' }]);
    handle({ id: 'host-1', type: 'progress', message: 'Loading the model…' });
    assert.equal(doc.querySelector('[role="status"][aria-busy="true"]')?.textContent, 'Loading the model…');
    const payload = goldenPayload();
    handle({ id: 'host-1', type: 'explanation', payload, photos: { a: PHOTO, b: PHOTO } });
    assert.equal(doc.querySelectorAll('.xssab-face').length, 2);
    assert.equal(doc.querySelector('[aria-busy="true"]'), null, 'the progress line is cleared');
    assert.equal(webview.state?.payload, payload);
    handle({ id: 'host-1', type: 'explanation', payload: { ...payload, score: 0.5 } });
    assert.equal(doc.querySelectorAll('.xssab-viewer').length, 1, 'the viewer is updated, not duplicated');
    assert.match(doc.querySelector('header')!.textContent!, /Score \(cosine\)0\.5000/);
    handle({ id: 'host-1', type: 'error', message: 'xSSAB: no face found in b.png' });
    assert.equal(doc.querySelector('[role="alert"]')?.textContent, 'xSSAB: no face found in b.png');
    assert.equal(doc.querySelectorAll('.xssab-face').length, 2, 'an error leaves the last explanation visible');
    assert.deepEqual(errors, []);
  });

  it('shows maps that arrive as float32 values, and saves them in base64 (the state is JSON)', () => {
    const { dom, errors } = jsdom();
    const doc = dom.window.document;
    const webview = api();
    const handle = startPanel(webview, doc);
    const golden = goldenPayload();
    const raw = (maps: Record<MapKind, MapData>) => Object.fromEntries(MAP_KINDS.map((k) => [k, rawMap(decodeMap(maps[k]), maps[k].shape)])) as Record<MapKind, MapData>;
    handle({ id: 'host-1', type: 'explanation', payload: { ...golden, maps: { a: raw(golden.maps.a), b: raw(golden.maps.b) } } });
    assert.equal(doc.querySelectorAll('.xssab-face').length, 2);
    assert.equal(doc.querySelector('.xssab-legend-high')?.textContent, '6.35e-2');
    const saved = JSON.parse(JSON.stringify(webview.state));
    assert.deepEqual(saved.payload.maps, JSON.parse(JSON.stringify(golden.maps)));
    assert.deepEqual(errors, []);
  });

  it('restores the saved explanation before the host answers', () => {
    const { dom } = jsdom();
    const doc = dom.window.document;
    startPanel(api({ payload: goldenPayload() }), doc);
    assert.equal(doc.querySelectorAll('.xssab-face').length, 2);
  });
});
