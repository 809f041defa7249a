import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { IMAGE_EXTENSIONS, IMAGE_FILTERS, explorerSelection, isImagePath } from '../../src/extension/images';

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
});
