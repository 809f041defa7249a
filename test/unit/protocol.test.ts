import { strict as assert } from 'assert';
import {
  type Envelope,
  MAX_REQUEST_FIELD,
  type NotebookMessage,
  type PanelMessage,
  parseExplainRequest,
  parseNotebookMessage,
  parsePanelMessage,
  ProtocolError,
} from '../../src/shared/protocol';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==';

function refuses(parse: (v: unknown) => unknown, value: unknown, message: string): void {
  assert.throws(
    () => parse(value),
    (e: unknown) => {
      assert.ok(e instanceof ProtocolError, `expected a ProtocolError, got ${e}`);
      assert.equal(e.message, message);
      return true;
    },
  );
}

describe('protocol: parsePanelMessage and parseNotebookMessage', () => {
  it('passes every valid message unchanged', () => {
    const panel: Envelope<PanelMessage>[] = [
      { type: 'ready', id: 'p1' },
      { type: 'exportResult', id: 'p2' },
      { type: 'exportMaps', id: 'p3' },
      { type: 'setThreshold', id: 'p4', threshold: -0.25 },
      { type: 'setThreshold', id: 'p5', threshold: 1 },
      { type: 'exportMap', id: 'p6', side: 'b', kind: 'dissimilarity', png: PNG },
      { type: 'chooseFace', id: 'p7', side: 'a', face: 2 },
      { type: 'chooseFace', id: 'p8', side: 'b', face: 0 },
      { type: 'checkMap', id: 'p9' },
    ];
    for (const m of panel) assert.deepEqual(parsePanelMessage(m), m);
    const notebook: Envelope<NotebookMessage>[] = [
      { type: 'explain', id: 'r-1', request: { a: 'x/a.png', b: PNG, model: 'm.onnx', threshold: 0.3 }, run: true },
      { type: 'explain', id: 'r-2', request: { a: 'a.jpg', b: 'b.jpg' }, run: false },
      { type: 'checkMap', id: 'c-1', request: { a: 'a.jpg', b: 'b.jpg', faceA: 1 } },
    ];
    for (const m of notebook) assert.deepEqual(parseNotebookMessage(m), m);
  });

  it('drops fields a message type does not have, and reads run only when it is true', () => {
    assert.deepEqual(parsePanelMessage({ type: 'ready', id: 'p', html: '<script>', inReplyTo: 'x' }), { type: 'ready', id: 'p' });
    const explain = parseNotebookMessage({ type: 'explain', id: 'r', request: { a: 'a', b: 'b' }, run: 'yes' });
    assert.deepEqual(explain, { type: 'explain', id: 'r', request: { a: 'a', b: 'b' }, run: false });
  });

  it('refuses messages without a type and unknown types, also the other channel\'s', () => {
    for (const parse of [parsePanelMessage, parseNotebookMessage]) {
      for (const v of [null, undefined, 42, 'ready', [], { type: 5 }, {}]) refuses(parse, v, 'message without a type');
      refuses(parse, { type: 'runScript', id: 'p' }, 'unknown message type "runScript"');
      refuses(parse, { type: 'x'.repeat(100), id: 'p' }, `unknown message type "${'x'.repeat(40)}"`);
    }
    refuses(parsePanelMessage, { type: 'explain', id: 'r', request: { a: 'a', b: 'b' }, run: true }, 'unknown message type "explain"');
    refuses(parseNotebookMessage, { type: 'setThreshold', id: 'p', threshold: 0 }, 'unknown message type "setThreshold"');
  });

  it('refuses messages without an id, or with one that is not a short string', () => {
    refuses(parsePanelMessage, { type: 'ready' }, 'id must be a non-empty string');
    refuses(parsePanelMessage, { type: 'ready', id: 7 }, 'id must be a non-empty string');
    const request = { a: 'a.png', b: 'b.png' };
    refuses(parseNotebookMessage, { type: 'explain', id: 7, request }, 'id must be a non-empty string');
    refuses(parseNotebookMessage, { type: 'explain', id: 'r'.repeat(129), request }, 'id is too long (129 characters, at most 128)');
  });

  it('refuses face choices with a bad side or a face that is not a whole number ≥ 0', () => {
    refuses(parsePanelMessage, { type: 'chooseFace', id: 'p', side: 'c', face: 1 }, 'side must be "a" or "b"');
    for (const face of [-1, 1.5, '1', NaN, null, undefined, 2 ** 60]) {
      refuses(parsePanelMessage, { type: 'chooseFace', id: 'p', side: 'a', face }, 'face must be a whole number ≥ 0');
    }
  });

  it('refuses thresholds that are not finite numbers in [-1, 1]', () => {
    for (const threshold of ['0.3', 1.5, -1.01, NaN, Infinity, null, undefined]) {
      refuses(parsePanelMessage, { type: 'setThreshold', id: 'p', threshold }, 'threshold must be a number in [-1, 1]');
    }
  });

  it('refuses map exports with a bad side, kind or PNG', () => {
    const ok = { type: 'exportMap', id: 'p', side: 'a', kind: 'combined', png: PNG };
    refuses(parsePanelMessage, { ...ok, side: 'c' }, 'side must be "a" or "b"');
    refuses(parsePanelMessage, { ...ok, kind: 'none' }, 'kind must be one of similarity, dissimilarity, combined');
    refuses(parsePanelMessage, { ...ok, png: '' }, 'png must be a non-empty string');
    refuses(parsePanelMessage, { ...ok, png: 'data:image/jpeg;base64,AAAA' }, 'png must be a PNG data URI');
    refuses(parsePanelMessage, { ...ok, png: 'data:image/png;base64,AA"><script>' }, 'png must be a PNG data URI');
    refuses(parsePanelMessage, { ...ok, png: 'file:///etc/passwd' }, 'png must be a PNG data URI');
    const big = `data:image/png;base64,${'A'.repeat(8 * 1024 * 1024)}`;
    refuses(parsePanelMessage, { ...ok, png: big }, `png is too long (${big.length} characters, at most ${8 * 1024 * 1024})`);
  });

  it('refuses explain messages with a bad request', () => {
    refuses(parseNotebookMessage, { type: 'explain', id: 'r', request: 'a.png b.png' }, 'the request must be a JSON object with "a" and "b"');
    refuses(parseNotebookMessage, { type: 'explain', id: 'r', request: { a: 'a.png', b: 'b.png', threshold: 2 } }, '"threshold" must be a number in [-1, 1]');
  });
});

describe('protocol: parseExplainRequest', () => {
  it('passes valid requests unchanged', () => {
    for (const r of [{ a: 'a.png', b: '../b.jpg' }, { a: PNG, b: PNG, model: 'models/m.onnx', threshold: -0.1 }, { a: 'g.jpg', b: 'h.jpg', faceA: 0, faceB: 3 }]) {
      assert.deepEqual(parseExplainRequest(r), r);
    }
  });

  it('refuses wrong types, unknown fields and oversized fields', () => {
    for (const v of [null, [], 'a.png', 3]) refuses(parseExplainRequest, v, 'the request must be a JSON object with "a" and "b"');
    refuses(parseExplainRequest, { a: 'a', b: 'b', c: 1, path: 'x' }, 'unknown request field(s): c, path');
    refuses(parseExplainRequest, { b: 'b' }, '"a" must be a non-empty string');
    refuses(parseExplainRequest, { a: 'a', b: ['b.png'] }, '"b" must be a non-empty string');
    refuses(parseExplainRequest, { a: 'a', b: '' }, '"b" must be a non-empty string');
    refuses(parseExplainRequest, { a: 'a', b: 'b', model: 1 }, '"model" must be a non-empty string');
    refuses(parseExplainRequest, { a: 'a', b: 'b', faceA: -1 }, '"faceA" must be a whole number ≥ 0');
    refuses(parseExplainRequest, { a: 'a', b: 'b', faceB: '2' }, '"faceB" must be a whole number ≥ 0');
    refuses(parseExplainRequest, { a: 'a', b: 'b', model: 'm'.repeat(4097) }, '"model" is too long (4097 characters, at most 4096)');
    refuses(parseExplainRequest, { a: 'a', b: 'b', threshold: '0.3' }, '"threshold" must be a number in [-1, 1]');
    refuses(parseExplainRequest, { a: 'a', b: 'b', threshold: -1.5 }, '"threshold" must be a number in [-1, 1]');
    const huge = 'x'.repeat(MAX_REQUEST_FIELD + 1);
    refuses(parseExplainRequest, { a: huge, b: 'b' }, `"a" is too long (${MAX_REQUEST_FIELD + 1} characters, at most ${MAX_REQUEST_FIELD})`);
  });
});
