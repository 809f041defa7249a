import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Engine } from '../../src/engine/engine';

const PHOTOS = path.join(__dirname, '..', '..', 'samples', 'photos');

describe('engine: prepared faces kept between explanations', function () {
  this.timeout(120_000);
  let engine: Engine;
  let dir: string;
  let group: string;
  let other: string;
  const image = (file: string, face?: number) => ({ source: file, label: file, face });

  before(async () => {
    engine = await Engine.create({ cachedFaces: 4 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-faces-'));
    group = path.join(dir, 'group.jpg');
    other = path.join(dir, 'other.jpg');
    fs.copyFileSync(path.join(PHOTOS, 'sample1.jpg'), group); // three faces
    fs.copyFileSync(path.join(PHOTOS, 'man_02.jpg'), other);
  });
  after(async () => {
    await engine.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a threshold change reuses both prepared faces', async () => {
    const first = await engine.explainPair(image(group), image(other), 0.3);
    const again = await engine.explainPair(image(group), image(other), 0.1);
    assert.equal(again.faces[0], first.faces[0]);
    assert.equal(again.faces[1], first.faces[1]);
    assert.equal(again.result.threshold, 0.1);
    assert.equal(again.result.score, first.result.score);
  });

  it('another face of one image prepares that image only; the result is that of an engine without the cache', async () => {
    const first = await engine.explainPair(image(group), image(other), 0.3);
    const face2 = await engine.explainPair(image(group, 2), image(other), 0.3);
    assert.notEqual(face2.faces[0], first.faces[0]);
    assert.equal(face2.faces[0].info.faceIndex, 2);
    assert.equal(face2.faces[1], first.faces[1], 'the other image is not prepared again');
    const fresh = await Engine.create();
    try {
      const reference = await fresh.explainPair(image(group, 2), image(other), 0.3);
      assert.equal(face2.result.score, reference.result.score);
      assert.deepEqual(face2.result.a, reference.result.a);
    } finally {
      await fresh.dispose();
    }
  });

  it('a file changed on disk is prepared afresh; the same bytes from a buffer are prepared once', async () => {
    const first = await engine.explainPair(image(group), image(other));
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(other, later, later);
    const touched = await engine.explainPair(image(group), image(other));
    assert.equal(touched.faces[0], first.faces[0]);
    assert.notEqual(touched.faces[1], first.faces[1]);
    const bytes = { source: fs.readFileSync(other), label: 'image b (data URI)' };
    const fromBytes = await engine.explainPair(image(group), bytes);
    const fromCopy = await engine.explainPair(image(group), { ...bytes, source: Buffer.from(bytes.source) });
    assert.equal(fromCopy.faces[1], fromBytes.faces[1]);
  });

  it('an engine without the cache prepares every time', async () => {
    const plain = await Engine.create();
    try {
      const [x, y] = [await plain.explainPair(image(group), image(other)), await plain.explainPair(image(group), image(other))];
      assert.notEqual(x.faces[0], y.faces[0]);
      assert.deepEqual(x.faces[0].info, y.faces[0].info);
    } finally {
      await plain.dispose();
    }
  });
});
