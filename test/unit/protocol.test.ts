import { strict as assert } from 'assert';
import { MAX_REQUEST_FIELD, parseExplainRequest, parseViewerMessage, ProtocolError, type ViewerMessage } from '../../src/shared/protocol';

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

describe('protocol: parseViewerMessage', () => {
  it('passes every valid message unchanged', () => {
    const valid: ViewerMessage[] = [
      { type: 'ready' },
      { type: 'exportResult' },
      { type: 'exportMaps' },
      { type: 'setThreshold', threshold: -0.25 },
      { type: 'setThreshold', threshold: 1 },
      { type: 'exportMap', side: 'b', kind: 'dissimilarity', png: PNG },
      { type: 'chooseFace', side: 'a', face: 2 },
      { type: 'chooseFace', side: 'b', face: 0 },
      { type: 'explain', requestId: 'r-1', request: { a: 'x/a.png', b: PNG, model: 'm.onnx', threshold: 0.3 }, run: true },
      { type: 'explain', requestId: 'r-2', request: { a: 'a.jpg', b: 'b.jpg' }, run: false },
    ];
    for (const m of valid) assert.deepEqual(parseViewerMessage(m), m);
  });

  it('drops fields a message type does not have, and reads run only when it is true', () => {
    assert.deepEqual(parseViewerMessage({ type: 'ready', html: '<script>' }), { type: 'ready' });
    const explain = parseViewerMessage({ type: 'explain', requestId: 'r', request: { a: 'a', b: 'b' }, run: 'yes' });
    assert.deepEqual(explain, { type: 'explain', requestId: 'r', request: { a: 'a', b: 'b' }, run: false });
  });

  it('refuses messages without a type and unknown types', () => {
    for (const v of [null, undefined, 42, 'ready', [], { type: 5 }, {}]) refuses(parseViewerMessage, v, 'message without a type');
    refuses(parseViewerMessage, { type: 'runScript' }, 'unknown message type "runScript"');
    refuses(parseViewerMessage, { type: 'x'.repeat(100) }, `unknown message type "${'x'.repeat(40)}"`);
  });

  it('refuses face choices with a bad side or a face that is not a whole number ≥ 0', () => {
    refuses(parseViewerMessage, { type: 'chooseFace', side: 'c', face: 1 }, 'side must be "a" or "b"');
    for (const face of [-1, 1.5, '1', NaN, null, undefined, 2 ** 60]) {
      refuses(parseViewerMessage, { type: 'chooseFace', side: 'a', face }, 'face must be a whole number ≥ 0');
    }
  });

  it('refuses thresholds that are not finite numbers in [-1, 1]', () => {
    for (const threshold of ['0.3', 1.5, -1.01, NaN, Infinity, null, undefined]) {
      refuses(parseViewerMessage, { type: 'setThreshold', threshold }, 'threshold must be a number in [-1, 1]');
    }
  });

  it('refuses map exports with a bad side, kind or PNG', () => {
    const ok = { type: 'exportMap', side: 'a', kind: 'combined', png: PNG };
    refuses(parseViewerMessage, { ...ok, side: 'c' }, 'side must be "a" or "b"');
    refuses(parseViewerMessage, { ...ok, kind: 'none' }, 'kind must be one of similarity, dissimilarity, combined');
    refuses(parseViewerMessage, { ...ok, png: '' }, 'png must be a non-empty string');
    refuses(parseViewerMessage, { ...ok, png: 'data:image/jpeg;base64,AAAA' }, 'png must be a PNG data URI');
    refuses(parseViewerMessage, { ...ok, png: 'data:image/png;base64,AA"><script>' }, 'png must be a PNG data URI');
    refuses(parseViewerMessage, { ...ok, png: 'file:///etc/passwd' }, 'png must be a PNG data URI');
    const big = `data:image/png;base64,${'A'.repeat(8 * 1024 * 1024)}`;
    refuses(parseViewerMessage, { ...ok, png: big }, `png is too long (${big.length} characters, at most ${8 * 1024 * 1024})`);
  });

  it('refuses explain messages with a bad request id or request', () => {
    const request = { a: 'a.png', b: 'b.png' };
    refuses(parseViewerMessage, { type: 'explain', requestId: 7, request }, 'requestId must be a non-empty string');
    refuses(parseViewerMessage, { type: 'explain', requestId: 'r'.repeat(129), request }, 'requestId is too long (129 characters, at most 128)');
    refuses(parseViewerMessage, { type: 'explain', requestId: 'r', request: 'a.png b.png' }, 'the request must be a JSON object with "a" and "b"');
    refuses(parseViewerMessage, { type: 'explain', requestId: 'r', request: { ...request, threshold: 2 } }, '"threshold" must be a number in [-1, 1]');
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
