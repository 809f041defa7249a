// The pair-list gallery: sorting and filtering, the virtual grid's window (only visible rows in the
// DOM for 5,000 pairs), keyboard and click handling, its messages, and the notebook MIME type.
import { strict as assert } from 'assert';
import type { OutputItem } from 'vscode-notebook-renderer';
import type { ModelSummary, PairListRecord, PairListSummary } from '../../src/shared/pairListSummary';
import { PAIRLIST_MIME } from '../../src/shared/result';
import {
  DEFAULT_QUERY,
  failureLine,
  fileUri,
  type GalleryQuery,
  galleryItems,
  gridLayout,
  queryItems,
  visibleRows,
} from '../../src/renderer/galleryModel';
import { type GalleryState, startGallery } from '../../src/renderer/gallery';
import { renderGallery } from '../../src/renderer/galleryView';
import { createRenderer } from '../../src/renderer/notebook';
import { type Envelope, type GalleryMessage, parseGalleryMessage, parsePairListOutput } from '../../src/shared/protocol';
import { jsdom, PNG } from './explanationFixture';

const THRESHOLD = 0.3;

/** Pair i: label same for even i; score follows a fixed pattern so that every kind occurs. */
function record(index: number): PairListRecord {
  const label = index % 2 === 0 ? 'same' : 'different';
  const score = ((index * 37) % 100) / 100 - 0.2;
  const match = score >= THRESHOLD;
  const errorKind = label === 'same' ? (match ? 'true match' : 'false non-match') : match ? 'false match' : 'true non-match';
  return {
    index,
    a: `/data/person${index}/a_${index}.png`,
    b: `/data/person${index}/b_${index}.png`,
    label,
    dir: `pairs/${String(index).padStart(6, '0')}`,
    outcomes: [{ score, decision: match ? 'match' : 'no match', margin: score - THRESHOLD, errorKind }],
  };
}

function summary(count: number, extra: PairListRecord[] = []): PairListSummary {
  const pairs = [...Array.from({ length: count }, (_, i) => record(i)), ...extra];
  const model = {
    key: 'model-a', name: 'test model', path: '/m.onnx', sha256: '0', inputSize: [112, 112], threshold: THRESHOLD, thresholdSource: 'user',
    counts: { 'true match': 0, 'true non-match': 0, 'false match': 0, 'false non-match': 0, unlabelled: 0 },
    fmr: 0.25, fnmr: 0.5, genuine: 2, impostor: 2, scores: {}, falseMatches: [], falseNonMatches: [],
    aggregates: [{ group: 'true match', pairs: 3, maps: { similarity: { npy: 'x.npy', png: 'aggregate/model-a/true-match_similarity.png' }, dissimilarity: { npy: 'y.npy', png: 'aggregate/model-a/true-match_dissimilarity.png' }, combined: { npy: 'z.npy', png: 'aggregate/model-a/true-match_combined.png' } } }],
    fnmMinusTm: { npy: 'h.npy', png: 'aggregate/model-a/fnm-minus-tm.png' },
  } as ModelSummary;
  return { version: 1, list: '/data/list.csv', shard: { index: 1, count: 1 }, total: pairs.length, explained: count, failed: extra.length, models: [model], pairs };
}

const query = (q: Partial<GalleryQuery>) => ({ ...DEFAULT_QUERY, ...q });

describe('gallery model', () => {
  const failed: PairListRecord = { index: 6, a: '/x/zed.png', b: '/x/yan.png', dir: 'pairs/000006', failed: 'no face found' };
  const items = galleryItems(summary(6, [failed]));

  it('sorts by score, margin, error kind, label and index, ties in list order, unexplained pairs last', () => {
    const scores = items.map((i) => i.outcome?.score);
    const byScore = queryItems(items, query({ sort: 'score' })).map((i) => i.index);
    assert.deepEqual(byScore, [0, 3, 1, 4, 2, 5, 6].sort((p, q) => (scores[p] ?? Infinity) - (scores[q] ?? Infinity)));
    assert.deepEqual(byScore.at(-1), 6);
    assert.deepEqual(queryItems(items, query({ sort: 'score', descending: true })).map((i) => i.index).at(-1), 6, 'unexplained last either way');
    assert.deepEqual(queryItems(items, query({ sort: 'margin' })).map((i) => i.index), byScore, 'margin = score − one threshold');
    // Kinds in ITEM_KINDS order: false non-match, false match, true match, true non-match, …, failed.
    assert.deepEqual(queryItems(items, query({ sort: 'kind' })).map((i) => i.kind), ['false non-match', 'false non-match', 'false match', 'true match', 'true non-match', 'true non-match', 'failed']);
    assert.deepEqual(queryItems(items, query({ sort: 'label' })).map((i) => i.index), [0, 2, 4, 1, 3, 5, 6]);
    assert.deepEqual(queryItems(items, query({ sort: 'index', descending: true })).map((i) => i.index), [6, 5, 4, 3, 2, 1, 0]);
  });

  it('filters by error kind, label and part of a file name (case-insensitive)', () => {
    assert.deepEqual(queryItems(items, query({ kind: 'false non-match' })).map((i) => i.index), [0, 4]);
    assert.deepEqual(queryItems(items, query({ kind: 'failed' })).map((i) => i.index), [6]);
    assert.deepEqual(queryItems(items, query({ label: 'different' })).map((i) => i.index), [1, 3, 5]);
    assert.deepEqual(queryItems(items, query({ label: 'unlabelled' })).map((i) => i.index), [6]);
    assert.deepEqual(queryItems(items, query({ text: 'B_4' })).map((i) => i.index), [4]);
    assert.deepEqual(queryItems(items, query({ text: 'person1' })).map((i) => i.index), [], 'folders are not file names');
    assert.deepEqual(queryItems(items, query({ text: 'ZED' })).map((i) => i.index), [6]);
  });

  it('the virtual window covers the viewport plus the overscan, clipped to the rows', () => {
    assert.deepEqual(visibleRows(0, 600, 100, 1000, 2), { first: 0, end: 8 });
    assert.deepEqual(visibleRows(1050, 600, 100, 1000, 2), { first: 8, end: 19 });
    assert.deepEqual(visibleRows(99_500, 600, 100, 1000, 2), { first: 993, end: 1000 });
    assert.deepEqual(visibleRows(0, 600, 100, 0, 2), { first: 0, end: 0 });
  });

  it('a failed card says the reason first, then the file\'s name', () => {
    assert.equal(failureLine('/data/sets/lfw/aligned/missing_face0.png: file not found'), 'file not found (missing_face0.png)');
    assert.equal(failureLine('C:\\data\\a b.jpg: no face detected (the detector found none above 0.5)'), 'no face detected (the detector found none above 0.5) (a b.jpg)');
    assert.equal(failureLine('out of memory'), 'out of memory');
  });

  it('names files under a webview base URI or from carried data URIs', () => {
    assert.equal(fileUri({ base: 'https://file+.vscode-resource/out dir/' }, 'pairs\\000001/thumb.png'), 'https://file+.vscode-resource/out dir/pairs/000001/thumb.png');
    assert.equal(fileUri({ base: 'vscode-resource:/o' }, 'a b/#1.png'), 'vscode-resource:/o/a%20b/%231.png');
    assert.equal(fileUri({ data: { 'pairs/000001/thumb.png': PNG } }, 'pairs\\000001\\thumb.png'), PNG);
    assert.equal(fileUri({ data: {} }, 'pairs/000002/thumb.png'), undefined);
  });
});

describe('gallery view (JSDOM)', () => {
  const BASE = 'vscode-resource:/out';

  function mount(count: number) {
    const { dom, errors } = jsdom();
    const doc = dom.window.document;
    const root = doc.body.appendChild(doc.createElement('div'));
    const posted: GalleryMessage[] = [];
    const data = { summary: summary(count), files: { base: BASE } };
    // What the host receives is validated there (in its envelope); check it here the same way.
    const gallery = renderGallery(root, data, {
      post: (m) => {
        const { id: _id, ...message } = parseGalleryMessage({ ...m, id: 'gallery-1' });
        posted.push(message as GalleryMessage);
      },
    });
    const scroller = root.querySelector<HTMLElement>('.xssab-gallery-scroller')!;
    return { dom, doc, root, posted, gallery, scroller, errors, data };
  }

  it('the header\'s buttons ask for the run\'s report and folder', () => {
    const { root, posted } = mount(3);
    const buttons = [...root.querySelectorAll<HTMLButtonElement>('.xssab-run-files button')];
    assert.deepEqual(buttons.map((b) => b.textContent), ['Open report.html', 'Reveal the run folder']);
    posted.length = 0;
    for (const b of buttons) b.click();
    assert.deepEqual(posted, [{ type: 'openRun', what: 'report' }, { type: 'openRun', what: 'folder' }]);
  });

  it('renders only the visible rows of a 5,000-pair list, and the rows in view after a scroll', () => {
    const { root, posted, scroller, errors, data } = mount(5000);
    const { rowHeight, cardWidth } = gridLayout(data.summary);
    // JSDOM has no layout: the gallery assumes an 800 × 600 viewport.
    const columns = Math.floor(800 / cardWidth);
    const rowsInView = Math.ceil(600 / rowHeight) + 2;
    const rows = () => [...root.querySelectorAll('.xssab-gallery-row')];
    assert.equal(rows().length, rowsInView);
    assert.equal(root.querySelectorAll('.xssab-gallery-card').length, rowsInView * columns);
    assert.equal(scroller.getAttribute('aria-rowcount'), String(Math.ceil(5000 / columns)));
    assert.equal(root.querySelector<HTMLElement>('.xssab-gallery-spacer')!.style.height, `${Math.ceil(5000 / columns) * rowHeight}px`);
    assert.deepEqual(posted, [{ type: 'shown', pairs: 5000 }]);

    scroller.scrollTop = 300 * rowHeight;
    scroller.dispatchEvent(new scroller.ownerDocument.defaultView!.Event('scroll'));
    assert.equal(rows()[0].getAttribute('aria-rowindex'), String(300 - 2 + 1));
    assert.equal(rows().length, Math.ceil(600 / rowHeight) + 4);
    const firstCard = root.querySelector<HTMLImageElement>('.xssab-gallery-card img')!;
    assert.equal(firstCard.getAttribute('src'), `${BASE}/pairs/${String(298 * columns).padStart(6, '0')}/thumb.png`);
    assert.deepEqual(errors, []);
  });

  it('shows the headline map first, then the group means', () => {
    const { root } = mount(10);
    const images = [...root.querySelectorAll('.xssab-gallery-maps img')].map((i) => i.getAttribute('src'));
    assert.deepEqual(images, [
      `${BASE}/aggregate/model-a/fnm-minus-tm.png`,
      `${BASE}/aggregate/model-a/true-match_similarity.png`,
      `${BASE}/aggregate/model-a/true-match_dissimilarity.png`,
      `${BASE}/aggregate/model-a/true-match_combined.png`,
    ]);
    // Each map enlarges on a click, and back; the legends say what the colours mean.
    const button = root.querySelector<HTMLButtonElement>('.xssab-gallery-headline button.xssab-gallery-map')!;
    assert.equal(button.getAttribute('aria-expanded'), 'false');
    button.click();
    assert.equal(button.getAttribute('aria-expanded'), 'true');
    button.click();
    assert.equal(button.getAttribute('aria-expanded'), 'false');
    const notes = [...root.querySelectorAll('.xssab-gallery-legend .xssab-legend-note')].map((n) => n.textContent);
    assert.deepEqual(notes, [
      'symmetric around 0, to the largest difference',
      "similarity: each group's map on its own range, clipped at the 99th percentile; shared by similarity and dissimilarity",
      "dissimilarity: each group's map on its own range, clipped at the 99th percentile; shared by similarity and dissimilarity",
      "combined: each group's map on its own range, clipped at the 99th percentile",
    ]);
    assert.match(root.querySelector<HTMLElement>('.xssab-gallery-headline .xssab-legend-bar')!.style.backgroundImage, /^linear-gradient\(to right, rgb\(/);
  });

  it('filters as the controls change and reports the count; a click opens the pair, keys move the focus', () => {
    const { doc, root, posted } = mount(40);
    const kind = root.querySelector<HTMLSelectElement>('select[aria-label="Error kind"]')!;
    kind.value = 'false match';
    kind.dispatchEvent(new doc.defaultView!.Event('change'));
    const expected = galleryItems(summary(40)).filter((i) => i.kind === 'false match').map((i) => i.index);
    assert.deepEqual(posted.at(-1), { type: 'shown', pairs: expected.length });
    const cards = [...root.querySelectorAll<HTMLButtonElement>('.xssab-gallery-card')];
    assert.equal(cards.length, expected.length);
    assert.deepEqual(cards.map((c) => c.tabIndex), cards.map((_, i) => (i === 0 ? 0 : -1)), 'one tab stop');

    cards[1].click();
    assert.deepEqual(posted.at(-1), { type: 'openPair', index: expected[1], model: 'model-a' });
    assert.match(root.querySelector('.xssab-gallery-detail')!.textContent!, new RegExp(`#${expected[1]} · different · false match`));
    const focused = () => doc.activeElement?.getAttribute('data-position');
    assert.equal(focused(), '1');
    doc.activeElement!.dispatchEvent(new doc.defaultView!.KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    assert.equal(focused(), '2');
    doc.activeElement!.dispatchEvent(new doc.defaultView!.KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    assert.equal(focused(), String(expected.length - 1));
  });
});

describe('gallery messages', () => {
  it('accepts the gallery messages and refuses anything else', () => {
    assert.deepEqual(parseGalleryMessage({ type: 'ready', id: 'g1' }), { type: 'ready', id: 'g1' });
    assert.deepEqual(parseGalleryMessage({ type: 'shown', id: 'g2', pairs: 12, extra: 1 }), { type: 'shown', id: 'g2', pairs: 12 });
    assert.deepEqual(parseGalleryMessage({ type: 'openPair', id: 'g3', index: 3, model: 'model-b' }), { type: 'openPair', id: 'g3', index: 3, model: 'model-b' });
    assert.deepEqual(parseGalleryMessage({ type: 'openRun', id: 'g5', what: 'report', path: '/etc/passwd' }), { type: 'openRun', id: 'g5', what: 'report' });
    const id = 'g4';
    for (const bad of [{ type: 'openRun', id, what: '/etc' }, null, 'ready', { type: 'openPair', id, index: -1, model: 'model-a' }, { type: 'openPair', id, index: 1.5, model: 'model-a' }, { type: 'openPair', id, index: 1, model: 'model-c' }, { type: 'shown', id, pairs: '3' }, { type: 'exportResult', id }, { type: 'ready' }]) {
      assert.throws(() => parseGalleryMessage(bad), /must be|unknown message type|without a type/, JSON.stringify(bad));
    }
  });

  it('posts ready, shows the host\'s gallery and keeps its run folder in the webview state', () => {
    const { dom, errors } = jsdom();
    const posted: Envelope<GalleryMessage>[] = [];
    let state: GalleryState | undefined;
    const handle = startGallery({ postMessage: (m) => posted.push(m), setState: (s) => (state = s) }, dom.window.document);
    assert.deepEqual(posted[0], { type: 'ready', id: 'gallery-1' });
    assert.equal(state, undefined);
    handle({ id: 'host-1', type: 'gallery', data: { summary: summary(3), files: { base: 'https://webview/run/' } }, out: '/data/run' });
    assert.equal(dom.window.document.querySelectorAll('.xssab-gallery-card').length, 3);
    assert.deepEqual(state, { out: '/data/run' });
    assert.deepEqual(errors, []);
  });

  it('a notebook pair-list output carries PNG data URIs only', () => {
    const s = summary(2);
    assert.deepEqual(parsePairListOutput({ summary: s, files: { data: { 'pairs/000000/thumb.png': PNG } } }).files, { data: { 'pairs/000000/thumb.png': PNG } });
    assert.throws(() => parsePairListOutput({ summary: s, files: { data: { x: 'https://example.com/x.png' } } }), /must be a PNG data URI/);
    assert.throws(() => parsePairListOutput({ summary: s, files: { base: 'https://example.com/' } }), /expected/);
    assert.throws(() => parsePairListOutput({ summary: { ...s, pairs: [{}] }, files: { data: {} } }), /pair records/);
  });

  it('the notebook renderer shows the gallery for application/vnd.xssab.pairlist+json', async () => {
    const { dom, errors } = jsdom();
    const text = JSON.stringify({ summary: summary(3), files: { data: { 'pairs/000001/thumb.png': PNG } } });
    const item = { id: 'o1', mime: PAIRLIST_MIME, metadata: undefined, text: () => text, json: () => JSON.parse(text), data: () => new TextEncoder().encode(text), blob: () => new Blob([text]) } as OutputItem;
    const element = dom.window.document.body.appendChild(dom.window.document.createElement('div'));
    await createRenderer({} as Parameters<typeof createRenderer>[0]).renderOutputItem(item, element, new AbortController().signal);
    const cards = [...element.querySelectorAll('.xssab-gallery-card')];
    assert.equal(cards.length, 3);
    assert.deepEqual(cards.map((c) => c.querySelector('img')?.getAttribute('src') ?? c.querySelector('.xssab-gallery-placeholder')?.textContent), ['no thumbnail', PNG, 'no thumbnail']);
    assert.deepEqual(errors, []);
  });
});
