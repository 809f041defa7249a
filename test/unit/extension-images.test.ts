import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { IMAGE_EXTENSIONS, IMAGE_FILTERS, explorerSelection, isImagePath, restoredPair } from '../../src/extension/images';

const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

/** The regular expression of `resourceExtname =~ /…/flags` in a when clause. */
function extnameRegex(when: string): RegExp {
  const m = /resourceExtname =~ \/(.+?)\/([a-z]*)/.exec(when);
  assert.ok(m, `no resourceExtname test in: ${when}`);
  return new RegExp(m[1], m[2]);
}

describe('Explain Match: which files', () => {
  it('accepts the image extensions in any case, and nothing else', () => {
    for (const p of ['a.png', 'b.JPG', 'c.jpeg', 'd.webp', 'e.BMP', 'f.gif', 'g.tif', 'h.Tiff', '/x/y.z/face.PnG']) assert.ok(isImagePath(p), p);
    for (const p of ['notes.txt', 'png', 'a.png.txt', 'a.svg', 'a.heic', 'a']) assert.equal(isImagePath(p), false, p);
  });

  it('offers the same extensions in the open dialog', () => {
    assert.deepEqual(IMAGE_FILTERS.Images, ['png', 'jpg', 'jpeg', 'webp', 'bmp', 'gif', 'tif', 'tiff']);
  });

  it("shows the Explorer menu entry for exactly the extensions the command accepts", () => {
    const entry = manifest.contributes.menus['explorer/context'].find((m: { command: string }) => m.command === 'xssab.explainMatch');
    assert.match(entry.when, /\blistMultiSelection\b/);
    const re = extnameRegex(entry.when);
    for (const ext of IMAGE_EXTENSIONS) {
      assert.ok(re.test(ext), ext);
      assert.ok(re.test(ext.toUpperCase()), ext.toUpperCase());
    }
    for (const ext of ['.txt', '.svg', '.pngx', 'x.png', '.jp', '.tifff', '']) assert.equal(re.test(ext), false, ext);
  });

  it('takes the Explorer selection, else the clicked file, else nothing', () => {
    assert.deepEqual(explorerSelection('a', ['a', 'b']), ['a', 'b']);
    assert.deepEqual(explorerSelection('c', ['a', 'b', 'c']), ['a', 'b', 'c']);
    assert.deepEqual(explorerSelection('a', []), ['a']);
    assert.deepEqual(explorerSelection('a', undefined), ['a']);
    assert.equal(explorerSelection(undefined, undefined), undefined);
  });

  it('takes a restored panel\'s pair only from a saved payload with two absolute image paths', () => {
    const [a, b] = [path.resolve('faces', 'a.png'), path.resolve('faces', 'b.JPG')];
    const saved = (pa: unknown, pb: unknown) => ({ payload: { a: { path: pa }, b: { path: pb }, score: 0.5 }, view: {} });
    assert.deepEqual(restoredPair(saved(a, b)), [a, b]);
    assert.equal(restoredPair(saved('faces/a.png', b)), undefined, 'relative path');
    assert.equal(restoredPair(saved(a, path.resolve('notes.txt'))), undefined, 'not an image');
    assert.equal(restoredPair(saved(a, 7)), undefined, 'not a string');
    assert.equal(restoredPair({ payload: { a: { path: a } } }), undefined, 'one side missing');
    for (const state of [undefined, null, 'x', [], { payload: [a, b] }]) assert.equal(restoredPair(state), undefined, JSON.stringify(state));
  });
});
