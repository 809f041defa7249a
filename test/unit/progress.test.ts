// The CLI's progress output: rewritten in place on a terminal or for the extension, a whole line
// at most every 10 s (and the last) in a pipe or log file.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { ProgressLine } from '../../src/cli/progress';

function recorder() {
  const written: string[] = [];
  return { written, out: { write: (t: string) => written.push(t) } };
}

describe('CLI progress', () => {
  it('rewrites one line in place when live, and ends it once', () => {
    const { written, out } = recorder();
    const line = new ProgressLine(out, true);
    line.update('1/2 pairs', false);
    line.update('2/2 pairs', true);
    line.end();
    line.end();
    assert.deepStrictEqual(written, ['\r1/2 pairs   ', '\r2/2 pairs   ', '\n']);
  });

  it('writes whole lines at most every 10 s to a log, and always the last', () => {
    const { written, out } = recorder();
    let now = 1_000;
    const line = new ProgressLine(out, false, () => now);
    line.update('1/5', false);
    now += 9_999;
    line.update('2/5', false);
    now += 1;
    line.update('3/5', false);
    now += 1;
    line.update('5/5', true);
    line.end();
    assert.deepStrictEqual(written, ['1/5\n', '3/5\n', '5/5\n']);
  });

  it('gives a piped calibrate run separate lines, not carriage returns', function () {
    this.timeout(60000);
    const root = path.join(__dirname, '..', '..');
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'calibrate', path.join(root, 'samples', 'patch-samples', 'pairs.csv')], {
      encoding: 'utf8',
      cwd: root,
      env: { ...process.env, XSSAB_PROGRESS: '' },
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\r/);
    assert.match(r.stderr, /^embedded 38\/38 images$/m);
  });
});
