// The pair-list gallery: sorting, filtering and paging (the host keeps the records, the webview
// gets pages), the bounded first message of a 100,000-pair run, the notebook's bounded output, the
// group table, the virtual grid's window and the pages it asks for, keyboard and click handling,
// its messages, and the notebook MIME type.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { OutputItem } from 'vscode-notebook-renderer';
import type { GroupStats, GroupTable, ModelSummary, PairListRecord, PairListSummary, Rate } from '../../src/shared/pairListSummary';
import { PAIRLIST_MIME } from '../../src/shared/result';
import {
  DEFAULT_QUERY,
  type GalleryPage,
  type GalleryQuery,
  ItemPager,
  PAGE_SIZE,
  galleryItem,
  gallerySummary,
  queryItems,
} from '../../src/shared/galleryPages';
import { type PagedRun, RunPages, asRunResult, galleryData, lensGroups, notebookPairs, pairListOutput, runExplanation } from '../../src/engine/explainPairs/load';
import type { RunSettings } from '../../src/engine/explainPairs/store';
import { failureLine, fileUri, gridLayout, visibleRows } from '../../src/renderer/galleryModel';
import { type GalleryState, startGallery } from '../../src/renderer/gallery';
import { type PageSource, renderGallery } from '../../src/renderer/galleryView';
import { createRenderer } from '../../src/renderer/notebook';
import { type Envelope, type GalleryMessage, parseGalleryMessage, parsePairListOutput } from '../../src/shared/protocol';
import { goldenPayload, jsdom, PNG } from './explanationFixture';

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
    outcomes: [{ score, decision: match ? 'match' : 'no match', margin: score - THRESHOLD, errorKind }],
  };
}

/** The fairness lens of pairs 0…count − 1: gender F/F for i % 3 = 0, else M/M (as groups.json gives it). */
const genders = (count: number) =>
  lensGroups({ by: ['gender'], attributes: new Map(Array.from({ length: count }, (_, i) => [i, { gender: (i % 3 === 0 ? ['F', 'F'] : ['M', 'M']) as [string, string] }])) });

const rate = (errors: number, pairs: number, low: number, high: number): Rate => ({ errors, pairs, rate: pairs ? errors / pairs : 0, low, high });

function groupStats(name: string, genuine: number, impostor: number, tooSmall: boolean): GroupStats {
  return {
    name, crossGroup: false, genuine, impostor, tooSmall,
    global: { threshold: THRESHOLD, fmr: rate(1, impostor, 0.0177, 0.4046), fnmr: rate(2, genuine, 0.0561, 0.5098) },
    scores: {},
  };
}

const GROUP_TABLE: GroupTable = {
  by: ['gender'],
  minGroup: 30,
  models: [{
    key: 'model-a', threshold: THRESHOLD,
    groups: [groupStats('gender=F/F', 40, 35, false), groupStats('gender=M/M', 12, 9, true)],
    impostors: { withinGroup: rate(2, 44, 0.0126, 0.1513), crossGroup: rate(0, 0, 0, 1) },
    fmrRatio: { worst: 'gender=M/M', best: 'gender=F/F', ratio: 3.89 },
  }],
};

/** GROUP_TABLE with mean maps: F/F's true and false matches, and F/F − M/M for true matches. */
const GROUPS_WITH_MAPS: GroupTable = (() => {
  const files = (stem: string) => ({ similarity: { npy: `${stem}_s.npy`, png: `${stem}_s.png` }, dissimilarity: { npy: `${stem}_d.npy`, png: `${stem}_d.png` }, combined: { npy: `${stem}_c.npy`, png: `${stem}_c.png` } });
  const [f, m] = GROUP_TABLE.models[0].groups;
  const side = (name: string, tooSmall: boolean) => ({ name, genuine: 40, impostor: 35, tooSmall });
  return {
    ...GROUP_TABLE,
    models: [{ ...GROUP_TABLE.models[0], groups: [
      { ...f, aggregates: [{ group: 'true match', pairs: 5, maps: files('aggregate/model-a/by-group/0/true-match') }, { group: 'false match', pairs: 1, maps: files('aggregate/model-a/by-group/0/false-match') }] },
      { ...m, aggregates: [] },
    ] }],
    compare: { attribute: 'gender', x: 'gender=F/F', y: 'gender=M/M', models: [{ key: 'model-a', x: side('gender=F/F', false), y: side('gender=M/M', true), kinds: [{ group: 'true match', pairs: [5, 2], maps: files('aggregate/model-a/compare/true-match'), regions: [] }] }] },
  };
})();

/** A run's summary, with the records the store would give (`pairs`). */
function summary(count: number, extra: PairListRecord[] = [], groups?: GroupTable): PairListSummary & { pairs: PairListRecord[] } {
  const pairs = [...Array.from({ length: count }, (_, i) => record(i)), ...extra];
  const model = {
    key: 'model-a', name: 'test model', path: '/m.onnx', sha256: 'abc', inputSize: [112, 112], threshold: THRESHOLD, thresholdSource: 'at FMR', atFmr: 0.001,
    counts: { 'true match': 0, 'true non-match': 0, 'false match': 0, 'false non-match': 0, unlabelled: 0 },
    fmr: 0.25, fnmr: 0.5, genuine: 2, impostor: 2, scores: {},
    falseMatches: pairs.filter((p) => p.outcomes?.[0].errorKind === 'false match').map((p) => ({ index: p.index, score: 0, margin: 0 })),
    falseNonMatches: [],
    aggregates: [{ group: 'true match', pairs: 3, maps: { similarity: { npy: 'x.npy', png: 'aggregate/model-a/true-match_similarity.png' }, dissimilarity: { npy: 'y.npy', png: 'aggregate/model-a/true-match_dissimilarity.png' }, combined: { npy: 'z.npy', png: 'aggregate/model-a/true-match_combined.png' } } }],
    fnmMinusTm: { npy: 'h.npy', png: 'aggregate/model-a/fnm-minus-tm.png' },
  } as ModelSummary;
  return { version: 1, list: '/data/list.csv', shard: { index: 1, count: 1 }, total: pairs.length, explained: count, failed: extra.length, models: [model], ...(groups ? { groups } : {}), pairs };
}

/** A run as the store gives it: a thumbnail for each explained pair (not for failed or scored-only ones). */
function fakeRun(s: ReturnType<typeof summary>, thumb = Buffer.from('thumb')): PagedRun & { thumbnailsRead: number } {
  const run = {
    out: '/data/run',
    summary: s,
    thumbnailsRead: 0,
    records: () => s.pairs,
    thumbnail: async (r: PairListRecord) => {
      run.thumbnailsRead++;
      return r.outcomes && !r.scoredOnly ? thumb : undefined;
    },
  };
  return run;
}

const query = (q: Partial<GalleryQuery>): GalleryQuery => ({ ...DEFAULT_QUERY, ...q });

describe('gallery pages', () => {
  const failed: PairListRecord = { index: 6, a: '/x/zed.png', b: '/x/yan.png', failed: 'no face found' };
  const items = summary(6, [failed]).pairs.map((r) => galleryItem(r, genders(6)(r.index)));

  it('sorts by score, margin, error kind, label, group and index, ties in list order, pairs without the value last', () => {
    const scores = items.map((i) => i.outcome?.score);
    const byScore = queryItems(items, query({ sort: 'score' })).map((i) => i.index);
    assert.deepEqual(byScore, [0, 3, 1, 4, 2, 5, 6].sort((p, q) => (scores[p] ?? Infinity) - (scores[q] ?? Infinity)));
    assert.deepEqual(byScore.at(-1), 6);
    assert.deepEqual(queryItems(items, query({ sort: 'score', descending: true })).map((i) => i.index).at(-1), 6, 'unexplained last either way');
    assert.deepEqual(queryItems(items, query({ sort: 'margin' })).map((i) => i.index), byScore, 'margin = score − one threshold');
    // Kinds in ITEM_KINDS order: false non-match, false match, true match, true non-match, …, failed.
    assert.deepEqual(queryItems(items, query({ sort: 'kind' })).map((i) => i.kind), ['false non-match', 'false non-match', 'false match', 'true match', 'true non-match', 'true non-match', 'failed']);
    assert.deepEqual(queryItems(items, query({ sort: 'label' })).map((i) => i.index), [0, 2, 4, 1, 3, 5, 6]);
    assert.deepEqual(queryItems(items, query({ sort: 'group' })).map((i) => i.index), [0, 3, 1, 2, 4, 5, 6], 'F/F, then M/M, the failed pair (no attributes) last');
    assert.deepEqual(queryItems(items, query({ sort: 'index', descending: true })).map((i) => i.index), [6, 5, 4, 3, 2, 1, 0]);
  });

  it('filters by error kind, label, group and part of a file name (case-insensitive)', () => {
    assert.deepEqual(queryItems(items, query({ kind: 'false non-match' })).map((i) => i.index), [0, 4]);
    assert.deepEqual(queryItems(items, query({ kind: 'failed' })).map((i) => i.index), [6]);
    assert.deepEqual(queryItems(items, query({ label: 'different' })).map((i) => i.index), [1, 3, 5]);
    assert.deepEqual(queryItems(items, query({ label: 'unlabelled' })).map((i) => i.index), [6]);
    assert.deepEqual(queryItems(items, query({ group: 'gender=F/F' })).map((i) => i.index), [0, 3]);
    assert.deepEqual(queryItems(items, query({ group: 'gender=F/F', label: 'same' })).map((i) => i.index), [0]);
    assert.deepEqual(queryItems(items, query({ text: 'B_4' })).map((i) => i.index), [4]);
    assert.deepEqual(queryItems(items, query({ text: 'person1' })).map((i) => i.index), [], 'folders are not file names');
    assert.deepEqual(queryItems(items, query({ text: 'ZED' })).map((i) => i.index), [6]);
  });

  it('pages what a query keeps: offset and limit, the count, an offset past the end', () => {
    const pager = new ItemPager(summary(250).pairs.map((r) => galleryItem(r)));
    const kept = queryItems(summary(250).pairs.map((r) => galleryItem(r)), query({ kind: 'true non-match', sort: 'score' })).map((i) => i.index);
    const second = pager.page(query({ kind: 'true non-match', sort: 'score' }), 10, 10);
    assert.deepEqual([second.offset, second.total, second.all], [10, kept.length, 250]);
    assert.deepEqual(second.items.map((i) => i.index), kept.slice(10, 20));
    const last = pager.page(query({ kind: 'true non-match', sort: 'score' }), kept.length - 3, 10);
    assert.deepEqual(last.items.map((i) => i.index), kept.slice(-3));
    assert.deepEqual(pager.page(DEFAULT_QUERY, 1000, 10), { offset: 250, total: 250, all: 250, items: [] });
  });

  it('the host pages a run: thumbnails of the page\'s explained pairs only, groups from the run\'s fairness lens', async () => {
    const scored: PairListRecord = { ...record(7), index: 7, scoredOnly: true };
    const s = summary(7, [scored, { index: 8, a: '/x/a.png', b: '/x/b.png', failed: 'no face found' }], GROUP_TABLE);
    const run = fakeRun(s, Buffer.from([1, 2, 3]));
    const pages = new RunPages(run, genders(8));
    const page = await pages.page(query({ sort: 'index', descending: true }), 0, 4);
    assert.deepEqual(page.items.map((i) => i.index), [8, 7, 6, 5]);
    assert.deepEqual(page.thumbs, { 6: 'data:image/png;base64,AQID', 5: 'data:image/png;base64,AQID' }, 'none for the failed and the scored-only pair');
    assert.equal(run.thumbnailsRead, 2, 'only the page\'s explained pairs are read');
    assert.deepEqual(page.items.map((i) => i.group), [undefined, 'gender=M/M', 'gender=F/F', 'gender=M/M'], 'pair 8 is not in the lens');
    // List order, nothing filtered: the same page, cut from the records.
    assert.deepEqual((await pages.page(DEFAULT_QUERY, 4, 3)).items.map((i) => [i.index, i.group]), [[4, 'gender=M/M'], [5, 'gender=M/M'], [6, 'gender=F/F']]);
    assert.deepEqual((await pages.page(query({ group: 'gender=F/F' }), 0, 100)).items.map((i) => i.index), [0, 3, 6]);
    assert.equal(pages.record(7), scored);
    assert.equal(pages.record(99), undefined);
    // Without a lens nothing is grouped.
    assert.deepEqual((await new RunPages(fakeRun(summary(3)), lensGroups(undefined)).page(DEFAULT_QUERY, 0, 3)).items.map((i) => i.group), [undefined, undefined, undefined]);
  });

  it('the first message of a 100,000-pair run is as large as that of a 1,000-pair run: summary without per-pair lists, one page', async () => {
    const thumb = Buffer.alloc(9000, 7); // about a real thumbnail's size
    const sizes: number[] = [];
    for (const count of [1000, 100_000]) {
      const s = summary(count);
      const data = await galleryData(s, new RunPages(fakeRun(s, thumb)), { base: 'https://webview/run/' });
      assert.equal(data.page.items.length, PAGE_SIZE);
      assert.equal(Object.keys(data.page.thumbs).length, PAGE_SIZE);
      assert.deepEqual([data.page.total, data.page.all, data.summary.total], [count, count, count]);
      assert.ok(!('pairs' in data.summary) && !('falseMatches' in data.summary.models[0]), 'no list that grows with the run');
      sizes.push(JSON.stringify(data).length);
    }
    // Only the digits of the counts differ.
    assert.ok(Math.abs(sizes[1] - sizes[0]) < 50, `${sizes}`);
    assert.ok(sizes[1] < PAGE_SIZE * 13_000 + 20_000, `${sizes[1]} characters`);
  });

  it('a notebook output carries one bounded page: disagreements, then errors farthest from the threshold, then list order', async () => {
    const two = (index: number, a: number, b: number, label: 'same' | 'different'): PairListRecord => {
      const outcome = (score: number) => ({ score, decision: score >= THRESHOLD ? 'match' as const : 'no match' as const, margin: score - THRESHOLD, errorKind: (label === 'same') === score >= THRESHOLD ? (label === 'same' ? 'true match' as const : 'true non-match' as const) : label === 'same' ? 'false non-match' as const : 'false match' as const });
      return { index, a: `/a${index}.png`, b: `/b${index}.png`, label, outcomes: [outcome(a), outcome(b)] };
    };
    const records = [two(0, 0.9, 0.9, 'same'), two(1, 0.4, 0.4, 'different'), two(2, 0.5, 0.1, 'same'), two(3, 0.9, 0.9, 'different'), two(4, 0.8, 0.8, 'same'), two(5, 0.1, 0.1, 'same')];
    // 2: the models disagree; 3 (margin 0.6) and 5 (0.2) and 1 (0.1) are errors; 0 and 4 are right.
    assert.deepEqual(notebookPairs(records).map((r) => r.index), [2, 3, 5, 1, 0, 4]);
    assert.deepEqual(notebookPairs(records, 3).map((r) => r.index), [2, 3, 5]);

    const s = { ...summary(1200), models: [{ ...summary(0).models[0], aggregates: [], fnmMinusTm: undefined }] };
    const output = await pairListOutput(fakeRun(s, Buffer.from([1])), genders(1200), 500);
    assert.deepEqual([output.page.items.length, output.page.total, output.page.all, Object.keys(output.page.thumbs).length], [500, 500, 500, 500]);
    assert.equal(output.page.items[0].kind.startsWith('false'), true, 'errors first');
    assert.deepEqual(output.run, { out: '/data/run', pairs: 1200 });
    // What the renderer accepts of it.
    assert.equal(parsePairListOutput(JSON.parse(JSON.stringify(output))).page.items.length, 500);
  });

  it('a pair opened from the gallery is explained with the run\'s model and threshold, and shows their true source', () => {
    const s = summary(3);
    const settings = { version: 1, list: s.list, shard: s.shard, pairs: 3, models: [s.models[0]], method: { name: 'xssab', params: {} } } as unknown as RunSettings;
    assert.deepEqual(runExplanation(settings, s.pairs[1], 'model-a'), { model: s.models[0], a: s.pairs[1].a, b: s.pairs[1].b, threshold: THRESHOLD });
    assert.throws(() => runExplanation(settings, s.pairs[1], 'model-b'), /this run has no model-b/);
    assert.throws(() => runExplanation(settings, { ...s.pairs[1], failed: 'no face found' }, 'model-a'), /pair 1 could not be explained: no face found/);
    // The engine calls any threshold it is given the user's; the panel shows the run's source.
    const live = { ...goldenPayload(), thresholdSource: 'user' as const, warnings: [] };
    const same = asRunResult({ ...live, model: { ...live.model, sha256: 'abc' } }, s.models[0]);
    assert.deepEqual([same.thresholdSource, same.warnings], ['at FMR', []]);
    const changed = asRunResult({ ...live, model: { ...live.model, sha256: 'other' } }, s.models[0]);
    assert.deepEqual(changed.warnings, ['/m.onnx is no longer the model of this run (its content changed): the score may differ from the gallery\'s.']);
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
    assert.equal(fileUri({ base: 'https://file+.vscode-resource/out dir/' }, 'aggregate\\model-a/x.png'), 'https://file+.vscode-resource/out dir/aggregate/model-a/x.png');
    assert.equal(fileUri({ base: 'vscode-resource:/o' }, 'a b/#1.png'), 'vscode-resource:/o/a%20b/%231.png');
    assert.equal(fileUri({ data: { 'aggregate/model-a/x.png': PNG } }, 'aggregate\\model-a\\x.png'), PNG);
    assert.equal(fileUri({ data: {} }, 'aggregate/y.png'), undefined);
  });
});

describe('gallery view (JSDOM)', () => {
  const BASE = 'vscode-resource:/out';
  const thumbUri = (index: number) => `data:image/png;base64,${Buffer.from(`thumb ${index}`).toString('base64')}`;

  /** The gallery over a run paged as the host pages it; `asked` records the pages it asks for. */
  async function mount(s: ReturnType<typeof summary>, groups = lensGroups(undefined)) {
    const { dom, errors } = jsdom();
    const doc = dom.window.document;
    const root = doc.body.appendChild(doc.createElement('div'));
    const posted: GalleryMessage[] = [];
    const run = fakeRun(s);
    const pages = new RunPages({ ...run, thumbnail: async (r) => (r.outcomes && !r.scoredOnly ? Buffer.from(`thumb ${r.index}`) : undefined) }, groups);
    const asked: { query: GalleryQuery; offset: number; limit: number }[] = [];
    const source: PageSource = (q, offset, limit) => {
      asked.push({ query: q, offset, limit });
      return pages.page(q, offset, limit);
    };
    const data = await galleryData(s, pages, { base: BASE });
    // What the host receives is validated there (in its envelope); check it here the same way.
    const gallery = renderGallery(root, data, {
      post: (m) => {
        const { id: _id, ...message } = parseGalleryMessage({ ...m, id: 'gallery-1' });
        posted.push(message as GalleryMessage);
      },
    }, { pages: source });
    const scroller = root.querySelector<HTMLElement>('.xssab-gallery-scroller')!;
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
    return { dom, doc, root, posted, gallery, scroller, errors, data, asked, settle };
  }

  it('the header\'s buttons ask for the run\'s report and folder; the threshold\'s source is the run\'s', async () => {
    const { root, posted } = await mount(summary(3));
    const buttons = [...root.querySelectorAll<HTMLButtonElement>('.xssab-run-files button')];
    assert.deepEqual(buttons.map((b) => b.textContent), ['Open report.html', 'Reveal the run folder']);
    posted.length = 0;
    for (const b of buttons) b.click();
    assert.deepEqual(posted, [{ type: 'openRun', what: 'report' }, { type: 'openRun', what: 'folder' }]);
    assert.match(root.querySelector('.xssab-facts')!.textContent!, /threshold 0\.3000 \(at FMR 0\.10 %\)/);
  });

  it('a 100,000-pair run: only the visible rows are drawn, and only the pages they need are asked for', async () => {
    const { root, posted, scroller, errors, data, asked, settle } = await mount(summary(100_000));
    const { rowHeight, cardWidth } = gridLayout(data.summary);
    // JSDOM has no layout: the gallery assumes an 800 × 600 viewport.
    const columns = Math.floor(800 / cardWidth);
    const rowsInView = Math.ceil(600 / rowHeight) + 2;
    const rows = () => [...root.querySelectorAll('.xssab-gallery-row')];
    assert.equal(rows().length, rowsInView);
    assert.equal(root.querySelectorAll('.xssab-gallery-card').length, rowsInView * columns);
    assert.ok(rowsInView * columns <= PAGE_SIZE, 'the first page fills the view');
    assert.equal(asked.length, 0, 'the first page came with the gallery');
    assert.equal(scroller.getAttribute('aria-rowcount'), String(Math.ceil(100_000 / columns)));
    assert.equal(root.querySelector<HTMLElement>('.xssab-gallery-spacer')!.style.height, `${Math.ceil(100_000 / columns) * rowHeight}px`);
    assert.equal(root.querySelector('output.xssab-note')!.textContent, '100000 of 100000 pairs');
    assert.deepEqual(posted, [{ type: 'shown', pairs: 100_000 }]);

    scroller.scrollTop = 3000 * rowHeight;
    scroller.dispatchEvent(new scroller.ownerDocument.defaultView!.Event('scroll'));
    // Rows 2998… are drawn as loading cards until their pages come.
    assert.equal(rows()[0].getAttribute('aria-rowindex'), String(3000 - 2 + 1));
    assert.ok(root.querySelectorAll('.xssab-gallery-loading').length > 0);
    const firstPosition = 2998 * columns;
    const lastPosition = (2998 + Math.ceil(600 / rowHeight) + 4) * columns - 1;
    const expectedPages = Array.from({ length: Math.floor(lastPosition / PAGE_SIZE) - Math.floor(firstPosition / PAGE_SIZE) + 1 }, (_, k) => (Math.floor(firstPosition / PAGE_SIZE) + k) * PAGE_SIZE);
    assert.deepEqual(asked.map((a) => a.offset), expectedPages);
    await settle();
    assert.equal(root.querySelectorAll('.xssab-gallery-loading').length, 0);
    const firstCard = root.querySelector<HTMLImageElement>('.xssab-gallery-card img')!;
    assert.equal(firstCard.getAttribute('src'), thumbUri(firstPosition));
    assert.deepEqual(errors, []);
  });

  it('a scored-only pair shows a placeholder, not a broken image, and opens like the others', async () => {
    const scored: PairListRecord = { ...record(2), index: 2, scoredOnly: true };
    const { root, posted } = await mount(summary(2, [scored]));
    const cards = [...root.querySelectorAll<HTMLButtonElement>('.xssab-gallery-card')];
    assert.deepEqual(cards.map((c) => c.querySelector('img')?.getAttribute('src') ?? c.querySelector('.xssab-gallery-placeholder')?.textContent), [thumbUri(0), thumbUri(1), 'scored only']);
    cards[2].click();
    assert.deepEqual(posted.at(-1), { type: 'openPair', index: 2, model: 'model-a' });
    assert.match(root.querySelector('.xssab-gallery-detail')!.textContent!, /scored only \(opening it explains it\)/);
  });

  it('shows the headline map first, then the group means', async () => {
    const { root } = await mount(summary(10));
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

  it('a run with a group table shows it at the top with intervals and marks, and filters and groups the cards by it', async () => {
    const { doc, root, posted, asked, settle } = await mount(summary(40, [], GROUP_TABLE), genders(40));
    const table = root.querySelector('.xssab-gallery-groups table')!;
    assert.ok(root.querySelector('.xssab-gallery-groups')!.compareDocumentPosition(root.querySelector('.xssab-gallery-maps')!) & doc.defaultView!.Node.DOCUMENT_POSITION_FOLLOWING, 'above the maps');
    const cells = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    assert.deepEqual(cells, [
      ['gender=F/F', '40', '35', '2.86 % [1.77 %, 40.46 %]', '5.00 % [5.61 %, 50.98 %]', '–', ''],
      ['gender=M/M', '12', '9', '11.11 % [1.77 %, 40.46 %]', '16.67 % [5.61 %, 50.98 %]', '–', 'too small to compare (< 30 genuine or impostor)'],
    ]);
    assert.deepEqual([...table.querySelectorAll('tbody tr')].map((tr) => tr.className), ['', 'xssab-too-small']);
    assert.match(table.querySelector('caption')!.textContent!, /error rates by gender at threshold 0\.3000 \(95 % Wilson intervals\)/);
    assert.match(root.querySelector('.xssab-gallery-groups figcaption')!.textContent!, /FMR worst\/best 3\.89 \(gender=M\/M \/ gender=F\/F\)/);

    // The group filter lists the table's groups; a group's name in the table filters by it.
    const group = root.querySelector<HTMLSelectElement>('select[aria-label="Group"]')!;
    assert.deepEqual([...group.options].map((o) => o.textContent), ['all groups', 'gender=F/F', 'gender=M/M']);
    table.querySelector<HTMLButtonElement>('tbody tr button')!.click();
    assert.equal(group.value, 'gender=F/F');
    assert.deepEqual(asked.at(-1), { query: query({ group: 'gender=F/F' }), offset: 0, limit: PAGE_SIZE });
    await settle();
    const femaleCards = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === 0);
    assert.deepEqual([...root.querySelectorAll('.xssab-gallery-card')].map((c) => c.getAttribute('aria-label')!.match(/^Pair (\d+)/)![1]).map(Number), femaleCards);
    assert.deepEqual(posted.at(-1), { type: 'shown', pairs: femaleCards.length });
    // Grouping: sorted by group, F/F's pairs come first, then M/M's.
    group.value = '';
    group.dispatchEvent(new doc.defaultView!.Event('change'));
    const sort = root.querySelector<HTMLSelectElement>('select[aria-label="Sort by"]')!;
    sort.value = 'group';
    sort.dispatchEvent(new doc.defaultView!.Event('change'));
    await settle();
    const shown = [...root.querySelectorAll('.xssab-gallery-card')].map((c) => Number(c.getAttribute('aria-label')!.match(/^Pair (\d+)/)![1]));
    assert.deepEqual(shown.slice(0, femaleCards.length), femaleCards);
    assert.ok(!sort.querySelector<HTMLOptionElement>('option[value="group"]')!.disabled);
  });

  it("shows each group's mean combined map per kind and the --compare differences under the table, or why there are none", async () => {
    const { root } = await mount(summary(6, [], GROUPS_WITH_MAPS));
    const section = root.querySelector('.xssab-gallery-groups')!;
    assert.deepEqual([...section.querySelectorAll('img')].map((i) => [i.getAttribute('src'), i.getAttribute('alt')]), [
      [`${BASE}/aggregate/model-a/by-group/0/true-match_c.png`, 'gender=F/F, true match: mean combined map'],
      [`${BASE}/aggregate/model-a/by-group/0/false-match_c.png`, 'gender=F/F, false match: mean combined map'],
      [`${BASE}/aggregate/model-a/compare/true-match_c.png`, 'true match: gender=F/F minus gender=M/M'],
    ]);
    const captions = [...section.querySelectorAll('.xssab-gallery-maps > figure > figcaption')].map((c) => c.textContent);
    assert.deepEqual(captions, ['gender=F/F: mean combined map per kind', 'gender=F/F − gender=M/M: mean combined maps per kind']);
    assert.deepEqual([...section.querySelectorAll('.xssab-gallery-kinds figcaption')].map((c) => c.textContent), ['true match (5)', 'false match (1)', 'true match (5 / 2)']);
    assert.deepEqual([...section.querySelectorAll('.xssab-legend-note')].map((n) => n.textContent), ["combined: each group's map on its own range, clipped at the 99th percentile", 'symmetric around 0, to the largest difference']);
    assert.equal(section.querySelector(':scope > p.xssab-note'), null, 'no note when the maps are there');
    // The aggregate maps section below still opens with the headline.
    assert.equal(root.querySelector('.xssab-gallery-maps:not(.xssab-gallery-groups *) img')!.getAttribute('src'), `${BASE}/aggregate/model-a/fnm-minus-tm.png`);

    const note = 'no per-group mean maps: pairs of this run were explained before --by gender was given; run into a new --out folder with --by gender from the start for them';
    const { root: without } = await mount(summary(6, [], { ...GROUP_TABLE, mapsNote: note }));
    assert.deepEqual([...without.querySelectorAll('.xssab-gallery-groups > p.xssab-note')].map((p) => p.textContent), [`⚠ ${note}.`]);
    assert.equal(without.querySelector('.xssab-gallery-groups img'), null);
  });

  it('without a group table there is no table, no group filter, no sorting by group', async () => {
    const { root } = await mount(summary(5));
    assert.equal(root.querySelector('.xssab-gallery-groups table'), null);
    assert.equal(root.querySelector<HTMLSelectElement>('select[aria-label="Group"]')!.hidden, true);
    assert.equal(root.querySelector<HTMLOptionElement>('select[aria-label="Sort by"] option[value="group"]')!.disabled, true);
  });

  it('filters as the controls change (on the host\'s side) and reports the count; a click opens the pair, keys move the focus', async () => {
    const { doc, root, posted, asked, settle } = await mount(summary(40));
    const kind = root.querySelector<HTMLSelectElement>('select[aria-label="Error kind"]')!;
    kind.value = 'false match';
    kind.dispatchEvent(new doc.defaultView!.Event('change'));
    assert.deepEqual(asked.at(-1), { query: query({ kind: 'false match' }), offset: 0, limit: PAGE_SIZE });
    await settle();
    const expected = summary(40).pairs.filter((p) => p.outcomes![0].errorKind === 'false match').map((p) => p.index);
    assert.deepEqual(posted.at(-1), { type: 'shown', pairs: expected.length });
    assert.equal(root.querySelector('output.xssab-note')!.textContent, `${expected.length} of 40 pairs`);
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

  it('a page of an earlier query that arrives late is dropped', async () => {
    let answer!: (page: GalleryPage) => void;
    const { dom } = jsdom();
    const late = dom.window.document.body.appendChild(dom.window.document.createElement('div'));
    const s = summary(40);
    const pages = new RunPages(fakeRun(s));
    const data = await galleryData(s, pages, { base: BASE });
    renderGallery(late, data, null, { pages: () => new Promise((resolve) => (answer = resolve)) });
    const kind = late.querySelector<HTMLSelectElement>('select[aria-label="Error kind"]')!;
    kind.value = 'false match';
    kind.dispatchEvent(new dom.window.Event('change'));
    answer(await pages.page(DEFAULT_QUERY, 0, PAGE_SIZE)); // the answer to another query
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(late.querySelectorAll('button.xssab-gallery-card').length, 0, 'still waiting for its own query');
    assert.ok(late.querySelectorAll('.xssab-gallery-loading').length > 0);
  });
});

describe('gallery messages', () => {
  it('accepts the gallery messages and refuses anything else', () => {
    assert.deepEqual(parseGalleryMessage({ type: 'ready', id: 'g1' }), { type: 'ready', id: 'g1' });
    assert.deepEqual(parseGalleryMessage({ type: 'shown', id: 'g2', pairs: 12, extra: 1 }), { type: 'shown', id: 'g2', pairs: 12 });
    assert.deepEqual(parseGalleryMessage({ type: 'openPair', id: 'g3', index: 3, model: 'model-b' }), { type: 'openPair', id: 'g3', index: 3, model: 'model-b' });
    assert.deepEqual(parseGalleryMessage({ type: 'openRun', id: 'g5', what: 'report', path: '/etc/passwd' }), { type: 'openRun', id: 'g5', what: 'report' });
    const q = { sort: 'score', descending: true, kind: 'false match', label: 'all', group: 'gender=F/F', text: 'abc', extra: 1 };
    assert.deepEqual(parseGalleryMessage({ type: 'page', id: 'g6', query: q, offset: 120, limit: 60 }), { type: 'page', id: 'g6', query: { sort: 'score', descending: true, kind: 'false match', label: 'all', group: 'gender=F/F', text: 'abc' }, offset: 120, limit: 60 });
    const id = 'g4';
    for (const bad of [
      { type: 'openRun', id, what: '/etc' }, null, 'ready', { type: 'openPair', id, index: -1, model: 'model-a' }, { type: 'openPair', id, index: 1.5, model: 'model-a' },
      { type: 'openPair', id, index: 1, model: 'model-c' }, { type: 'shown', id, pairs: '3' }, { type: 'exportResult', id }, { type: 'ready' },
      { type: 'page', id, query: q, offset: 0, limit: 0 }, { type: 'page', id, query: q, offset: 0, limit: 501 }, { type: 'page', id, query: q, offset: -1, limit: 10 },
      { type: 'page', id, query: { ...q, sort: 'path' }, offset: 0, limit: 10 }, { type: 'page', id, query: { ...q, kind: 'error' }, offset: 0, limit: 10 },
      { type: 'page', id, query: { ...q, descending: 'yes' }, offset: 0, limit: 10 }, { type: 'page', id, query: { ...q, text: 'x'.repeat(1001) }, offset: 0, limit: 10 },
      { type: 'page', id, query: 'all', offset: 0, limit: 10 },
    ]) {
      assert.throws(() => parseGalleryMessage(bad), /must be|unknown message type|without a type/, JSON.stringify(bad));
    }
  });

  it('posts ready, shows the host\'s gallery, asks the host for pages and takes its replies; keeps its run folder in the webview state', async () => {
    const { dom, errors } = jsdom();
    const posted: Envelope<GalleryMessage>[] = [];
    let state: GalleryState | undefined;
    const handle = startGallery({ postMessage: (m) => posted.push(m), setState: (s) => (state = s) }, dom.window.document);
    assert.deepEqual(posted[0], { type: 'ready', id: 'gallery-1' });
    assert.equal(state, undefined);
    const s = summary(3);
    const pages = new RunPages(fakeRun(s));
    handle({ id: 'host-1', type: 'gallery', data: await galleryData(s, pages, { base: 'https://webview/run/' }), out: '/data/run' });
    const doc = dom.window.document;
    assert.equal(doc.querySelectorAll('.xssab-gallery-card').length, 3);
    assert.deepEqual(state, { out: '/data/run' });
    // A filter asks the host; its reply (to that request) fills the grid.
    const label = doc.querySelector<HTMLSelectElement>('select[aria-label="Label"]')!;
    label.value = 'different';
    label.dispatchEvent(new dom.window.Event('change'));
    const request = posted.find((m) => m.type === 'page')!;
    assert.deepEqual(request, { type: 'page', id: request.id, query: query({ label: 'different' }), offset: 0, limit: PAGE_SIZE });
    handle({ id: 'host-2', inReplyTo: request.id, type: 'page', page: await pages.page(query({ label: 'different' }), 0, PAGE_SIZE) });
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(doc.querySelectorAll('.xssab-gallery-card').length, 1);
    assert.deepEqual(errors, []);
  });

  it("a notebook pair-list output carries the fairness lens's combined maps, not its other maps", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-lens-pngs-'));
    try {
      const s = { ...summary(2, [], GROUPS_WITH_MAPS), models: [{ ...summary(0).models[0], aggregates: [], fnmMinusTm: undefined }] };
      const pngs = ['aggregate/model-a/by-group/0/true-match_c.png', 'aggregate/model-a/by-group/0/false-match_c.png', 'aggregate/model-a/compare/true-match_c.png'];
      for (const [i, file] of pngs.entries()) {
        fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
        fs.writeFileSync(path.join(out, file), Buffer.from([i]));
      }
      const output = await pairListOutput({ ...fakeRun(s), out });
      assert.deepEqual(output.files, { data: Object.fromEntries(pngs.map((file, i) => [file, `data:image/png;base64,${Buffer.from([i]).toString('base64')}`])) });
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('a notebook pair-list output carries PNG data URIs only', async () => {
    const output = JSON.parse(JSON.stringify(await pairListOutput(fakeRun({ ...summary(2), models: [{ ...summary(0).models[0], aggregates: [], fnmMinusTm: undefined }] }, Buffer.from([1])))));
    assert.deepEqual(parsePairListOutput({ ...output, files: { data: { 'aggregate/x.png': PNG } } }).files, { data: { 'aggregate/x.png': PNG } });
    assert.throws(() => parsePairListOutput({ ...output, files: { data: { x: 'https://example.com/x.png' } } }), /files\.data\["x"\] must be a PNG data URI/);
    assert.throws(() => parsePairListOutput({ ...output, page: { ...output.page, thumbs: { 0: 'https://example.com/x.png' } } }), /page\.thumbs\["0"\] must be a PNG data URI/);
    assert.throws(() => parsePairListOutput({ ...output, files: { base: 'https://example.com/' } }), /expected/);
    assert.throws(() => parsePairListOutput({ ...output, page: { ...output.page, items: [{}] } }), /list of pairs/);
  });

  it('the notebook renderer shows the gallery for application/vnd.xssab.pairlist+json, and says how many more pairs the run folder holds', async () => {
    const { dom, errors } = jsdom();
    const s = { ...summary(3), models: [{ ...summary(0).models[0], aggregates: [], fnmMinusTm: undefined }] };
    const output = await pairListOutput({ ...fakeRun(s), thumbnail: async (r) => (r.index === 1 ? Buffer.from('x') : undefined) }, lensGroups(undefined), 2);
    const text = JSON.stringify(output);
    const item = { id: 'o1', mime: PAIRLIST_MIME, metadata: undefined, text: () => text, json: () => JSON.parse(text), data: () => new TextEncoder().encode(text), blob: () => new Blob([text]) } as OutputItem;
    const element = dom.window.document.body.appendChild(dom.window.document.createElement('div'));
    await createRenderer({} as Parameters<typeof createRenderer>[0]).renderOutputItem(item, element, new AbortController().signal);
    const cards = [...element.querySelectorAll('.xssab-gallery-card')];
    // Two carried: the false non-match (pair 0) first, then pair 1 in list order.
    assert.deepEqual(cards.map((c) => c.querySelector('img')?.getAttribute('src') ?? c.querySelector('.xssab-gallery-placeholder')?.textContent), ['no thumbnail', 'data:image/png;base64,eA==']);
    assert.equal(element.querySelector('output.xssab-note')!.textContent, '2 of 2 pairs');
    assert.match(element.querySelector('.xssab-gallery-more')!.textContent!, /carries 2 of the run's 3 pairs .*the other 1 are in the run folder \/data\/run/);
    assert.deepEqual(errors, []);
  });
});

describe('gallery summary', () => {
  it('keeps what the gallery shows, and counts the disagreements instead of listing them', () => {
    const s = { ...summary(3), comparison: { disagreements: [0, 2], mapsComparable: true, aggregates: [] } };
    const g = gallerySummary(s);
    assert.deepEqual(g.comparison, { disagreements: 2, mapsComparable: true, aggregates: [] });
    assert.deepEqual([g.list, g.total, g.explained, g.failed, g.models[0].threshold], [s.list, 3, 3, 0, THRESHOLD]);
  });
});
