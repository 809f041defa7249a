import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FIRST_PAIR, NOTEBOOK, SAMPLES_FOLDER, copySamples, newSamplesFolder, patchSamplesTask, sampleFiles } from '../../src/extension/samples';
import { planTask } from '../../src/extension/taskDefinition';

const root = path.join(__dirname, '..', '..');

describe('Try the Samples: files', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-samples-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('copies every sample file with the repository layout, and everything the notebook and the lists name exists in the copy', () => {
    const { copied, kept } = copySamples(root, tmp);
    assert.deepEqual(kept, []);
    assert.equal(copied.length, 1 + 1 + 40 + 24 + 3 + 1);
    for (const rel of copied) assert.ok(fs.readFileSync(path.join(tmp, rel)).equals(fs.readFileSync(path.join(root, rel))), rel);
    for (const rel of [...FIRST_PAIR, NOTEBOOK, 'samples/photos/sample1.jpg']) assert.ok(copied.includes(rel), rel);
    // Paths inside the lists and the notebook are relative: they resolve in the copy.
    const named = (file: string, pattern: RegExp) => [...fs.readFileSync(path.join(tmp, file), 'utf8').matchAll(pattern)].map((m) => path.resolve(tmp, path.dirname(file), m[1]));
    const referenced = [
      ...named('samples/pairs.csv', /^([^#,\n][^,\n]*\.png),/gm),
      ...named('samples/patch-samples/pairs.csv', /^([^#,\n][^,\n]*\.png),/gm),
      ...named(NOTEBOOK, /"(\.\.\/samples\/[^"\\]+\.png)\\?"/g),
    ];
    assert.ok(referenced.length > 700, `${referenced.length} paths`);
    for (const file of referenced) assert.ok(fs.existsSync(file), file);
  });

  it('never replaces a file that is there: it is kept and counted', () => {
    fs.mkdirSync(path.join(tmp, 'samples'));
    fs.writeFileSync(path.join(tmp, 'samples', 'pairs.csv'), 'mine');
    const { copied, kept } = copySamples(root, tmp);
    assert.deepEqual(kept, ['samples/pairs.csv']);
    assert.equal(fs.readFileSync(path.join(tmp, 'samples', 'pairs.csv'), 'utf8'), 'mine');
    assert.equal(copied.length, sampleFiles(root).length - 1);
    assert.deepEqual(copySamples(root, tmp).copied, [], 'a second copy copies nothing');
  });

  it('names a new folder that does not exist yet', () => {
    assert.equal(newSamplesFolder(tmp), path.join(tmp, SAMPLES_FOLDER));
    fs.mkdirSync(path.join(tmp, SAMPLES_FOLDER));
    fs.mkdirSync(path.join(tmp, `${SAMPLES_FOLDER}-2`));
    assert.equal(newSamplesFolder(tmp), path.join(tmp, `${SAMPLES_FOLDER}-3`));
  });

  it('the Patch-Samples task names the copied set relative to the workspace folder, and plans a run on it', () => {
    const target = path.join(tmp, SAMPLES_FOLDER);
    const task = patchSamplesTask(tmp, target);
    assert.deepEqual(task, { label: 'Patch-Samples', type: 'xssab', command: 'patch-lfw', set: 'xssab-samples/samples/patch-samples', out: 'xssab-samples/xssab-out/patch-samples', problemMatcher: [] });
    // VS Code hands a task provider the task type's own properties, not label or problemMatcher.
    const { label: _label, problemMatcher: _matcher, ...definition } = task;
    const plan = planTask(definition, tmp, { executionProvider: 'auto' });
    assert.deepEqual(plan.steps[0].args.slice(0, 6), ['patch-lfw', 'evaluate', '--set', path.join(target, 'samples', 'patch-samples'), '--out', path.join(target, 'xssab-out', 'patch-samples')]);
  });
});
