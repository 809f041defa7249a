import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { METHOD_NAMES } from '../../src/engine/methods/registry';
import {
  TASK_COMMANDS,
  TASK_PROPERTIES,
  TASK_TYPE,
  TaskError,
  TerminalText,
  formatDuration,
  formatProgress,
  parseProgress,
  planTask,
  reportForWebview,
  resolvePath,
} from '../../src/extension/taskDefinition';
import { ProgressLine, runProgressText } from '../../src/cli/progress';

const WS = path.resolve('/ws');
const at = (...parts: string[]) => path.join(WS, ...parts);
const defaults = { executionProvider: 'auto' };
const plan = (definition: Record<string, unknown>, base: string | undefined = WS, d: { model?: string; executionProvider: string; verbose?: boolean } = defaults) =>
  planTask({ type: TASK_TYPE, ...definition }, base, d);

describe('xssab task', () => {
  it('package.json declares the task type with exactly the properties of the definition, command required', () => {
    const { contributes } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const [declared, ...others] = contributes.taskDefinitions;
    assert.equal(others.length, 0);
    assert.equal(declared.type, TASK_TYPE);
    assert.deepEqual(declared.required, ['command']);
    assert.deepEqual(Object.keys(declared.properties).sort(), Object.keys(TASK_PROPERTIES).sort());
    assert.deepEqual(declared.properties.command.enum, [...TASK_COMMANDS]);
    assert.deepEqual(declared.properties.methods.items.enum, [...METHOD_NAMES]);
    const schemaType = (p: { type: string; items?: { type: string } }) => (p.type === 'array' ? `${p.items!.type}[]` : p.type);
    for (const [name, kind] of Object.entries(TASK_PROPERTIES)) assert.equal(schemaType(declared.properties[name]), kind, name);
  });

  describe('paths', () => {
    it('takes relative paths from the workspace folder and keeps absolute ones', () => {
      assert.equal(resolvePath('sets/a', WS, 'set'), at('sets', 'a'));
      assert.equal(resolvePath('../b', WS, 'set'), path.resolve(WS, '..', 'b'));
      assert.equal(resolvePath(path.resolve('/x/y/../z'), WS, 'out'), path.resolve('/x/z'));
      assert.equal(resolvePath(path.resolve('/abs'), undefined, 'out'), path.resolve('/abs'));
    });

    it('refuses a relative path without a workspace folder, naming the property', () => {
      assert.throws(() => resolvePath('rel', undefined, 'out'), (e: Error) => e instanceof TaskError && /"out": the relative path "rel" needs an open workspace folder/.test(e.message));
    });
  });

  describe('definition → CLI runs', () => {
    it('patch-lfw on a built set: one evaluation into out, report from out', () => {
      const p = plan({ command: 'patch-lfw', set: 'samples/patch-samples', out: 'runs/a', methods: ['xssab', 'saliency'], threshold: 0.31, shard: '2/4', model: 'm/fr.onnx' });
      assert.deepEqual(p, {
        steps: [
          {
            args: ['patch-lfw', 'evaluate', '--set', at('samples', 'patch-samples'), '--out', at('runs', 'a'), '--methods', 'xssab,saliency', '--threshold', '0.31', '--shard', '2/4', '--model', at('m', 'fr.onnx'), '--ep', 'auto'],
          },
        ],
        report: at('runs', 'a'),
      });
      const compat = (referenceCompat: boolean) => plan({ command: 'patch-lfw', set: 's', out: 'o', referenceCompat }).steps[0].args;
      assert.deepEqual(compat(true), ['patch-lfw', 'evaluate', '--set', at('s'), '--out', at('o'), '--reference-compat', '--ep', 'auto']);
      assert.deepEqual(compat(false), ['patch-lfw', 'evaluate', '--set', at('s'), '--out', at('o'), '--ep', 'auto']);
    });

    it('patch-lfw from LFW: builds into out/set (skipped once its manifest exists), evaluates into out/results', () => {
      const p = plan({ command: 'patch-lfw', lfw: 'lfw', pairs: 'pairs.txt', out: 'o' }, WS, { model: '/models/a.onnx', executionProvider: 'cpu' });
      const engine = ['--model', '/models/a.onnx', '--ep', 'cpu'];
      assert.deepEqual(p, {
        steps: [
          { args: ['patch-lfw', 'build', '--lfw', at('lfw'), '--pairs', at('pairs.txt'), '--out', at('o', 'set'), ...engine], doneWhen: at('o', 'set', 'manifest.json') },
          { args: ['patch-lfw', 'evaluate', '--set', at('o', 'set'), '--out', at('o', 'results'), ...engine] },
        ],
        report: at('o', 'results'),
      });
    });

    it('patch-lfw-build from a pair list, calibrate on LFW and on a pair list', () => {
      assert.deepEqual(plan({ command: 'patch-lfw-build', pairs: 'pairs.csv', out: 'set' }), {
        steps: [{ args: ['patch-lfw', 'build', '--list', at('pairs.csv'), '--out', at('set'), '--ep', 'auto'], doneWhen: at('set', 'manifest.json') }],
      });
      assert.deepEqual(plan({ command: 'calibrate', lfw: 'lfw', pairs: 'pairs.txt' }).steps, [{ args: ['calibrate', '--lfw', at('lfw'), at('pairs.txt'), '--ep', 'auto'] }]);
      assert.deepEqual(plan({ command: 'calibrate', pairs: 'p.csv' }).steps, [{ args: ['calibrate', at('p.csv'), '--ep', 'auto'] }]);
      // xssab.logLevel debug: the CLI also says what each execution provider said.
      assert.deepEqual(plan({ command: 'calibrate', pairs: 'p.csv' }, WS, { executionProvider: 'webgpu', verbose: true }).steps, [
        { args: ['calibrate', at('p.csv'), '--ep', 'webgpu', '--verbose'] },
      ]);
    });

    it('refuses unusable definitions with a message that names the property', () => {
      const refused: [Record<string, unknown>, RegExp][] = [
        [{}, /"command" must be one of patch-lfw, patch-lfw-build, calibrate$/],
        [{ command: 'evaluate' }, /"command" must be one of .*, got "evaluate"/],
        [{ command: 'patch-lfw', set: 's' }, /the patch-lfw task needs "out"/],
        [{ command: 'patch-lfw', out: 'o' }, /the patch-lfw task needs "set" \(a built set, or "pairs" to build one\)/],
        [{ command: 'patch-lfw', set: 's', pairs: 'p', out: 'o' }, /either "set" .* or "pairs"/],
        [{ command: 'patch-lfw', set: 's', out: 'o', method: ['xssab'] }, /"method" is not a property of the patch-lfw task/],
        [{ command: 'calibrate', pairs: 'p', out: 'o' }, /"out" is not a property of the calibrate task/],
        [{ command: 'patch-lfw', set: 's', out: 'o', methods: 'xssab' }, /"methods" must be a list of strings, got "xssab"/],
        [{ command: 'patch-lfw', set: 's', out: 'o', threshold: '0.3' }, /"threshold" must be a number, got "0.3"/],
        [{ command: 'patch-lfw', set: ' ', out: 'o' }, /"set" must be a non-empty string/],
        [{ command: 'patch-lfw', set: 's', out: 'o', referenceCompat: 'yes' }, /"referenceCompat" must be true or false, got "yes"/],
        [{ command: 'patch-lfw-build', pairs: 'p', out: 'o', referenceCompat: true }, /"referenceCompat" is not a property of the patch-lfw-build task/],
        [{ command: 'patch-lfw-build', out: 'o' }, /the patch-lfw-build task needs "pairs"/],
      ];
      for (const [definition, message] of refused) {
        assert.throws(() => plan(definition), (e: Error) => e instanceof TaskError && message.test(e.message), JSON.stringify(definition));
      }
    });
  });

  describe('terminal output', () => {
    it('parses the CLI\'s evaluation progress line and nothing else', () => {
      assert.deepEqual(parseProgress('24/64 pairs, 1.20 pairs/s, 34 s left   '), { unit: 'pairs', done: 24, total: 64, perSecond: 1.2, secondsLeft: 34 });
      assert.deepEqual(parseProgress('embedding 640/7701 images, 52.30 images/s, 136 s left'), { unit: 'images', done: 640, total: 7701, perSecond: 52.3, secondsLeft: 136 });
      assert.equal(parseProgress('embedding 6/8 pairs, 1.00 pairs/s, 2 s left'), undefined);
      assert.equal(parseProgress('6/8 images, 1.00 images/s, 2 s left'), undefined);
      assert.equal(parseProgress('6/8 images, 1.00 pairs/s, 2 s left'), undefined);
      assert.equal(formatProgress({ unit: 'images', done: 640, total: 7701, perSecond: 52.3, secondsLeft: 136 }), 'embedding 640/7701 images (8%) · 52.30 images/s · 2:16 left');
      // What the CLI writes, live, for the extension.
      const written: string[] = [];
      new ProgressLine({ write: (t: string) => written.push(t) }, true).update(runProgressText({ unit: 'pairs', done: 24, total: 64, perSecond: 1.2, secondsLeft: 33.2 }), false);
      assert.deepEqual(parseProgress(written.join('').replace(/^\r/, '')), { unit: 'pairs', done: 24, total: 64, perSecond: 1.2, secondsLeft: 34 });
      assert.equal(runProgressText({ unit: 'images', done: 640, total: 7701, perSecond: 52.3, secondsLeft: 135.1 }), 'embedding 640/7701 images, 52.30 images/s, 136 s left');
      assert.equal(parseProgress('built 8/64 pairs'), undefined);
      assert.equal(parseProgress('threshold 0.5180 (EER on the unpatched pairs)'), undefined);
    });

    it('formats times left as m:ss or h:mm:ss', () => {
      assert.deepEqual([0, 9, 75, 3600, 3725].map(formatDuration), ['0:00', '0:09', '1:15', '1:00:00', '1:02:05']);
    });

    it('rewrites progress in place at once, turns line ends into CRLF, and holds an unfinished line', () => {
      const t = new TerminalText();
      assert.equal(t.push('threshold 0.5180 (EER'), '');
      assert.equal(t.push(' on the unpatched pairs)\n'), 'threshold 0.5180 (EER on the unpatched pairs)\r\n');
      assert.equal(t.push('\r8/64 pairs, 0.89 pairs/s, 63 s left   '), '\r\x1b[2K8/64 pairs (12%) · 0.89 pairs/s · 1:03 left');
      assert.equal(t.push('\r16/64 pairs, 1.05 pairs/s, 4000 s left   \r24/64 pai'), '\r\x1b[2K16/64 pairs (25%) · 1.05 pairs/s · 1:06:40 left\r');
      assert.equal(t.push('rs, 1.20 pairs/s, 34 s left   \n| a | b |\r\n'), '\x1b[2K24/64 pairs (37%) · 1.20 pairs/s · 0:34 left\r\n| a | b |\r\n');
      assert.equal(t.push('\rbuilt 3/9 pairs'), '\r');
      assert.equal(t.flush(), 'built 3/9 pairs');
      assert.equal(t.flush(), '');
    });
  });

  it('gives report.html a CSP without scripts or remote content, right after <head>', () => {
    const html = reportForWebview('<!doctype html>\n<html><head><title>DPR</title></head><body><svg></svg></body></html>', 'vscode-resource:');
    assert.equal(
      html,
      '<!doctype html>\n<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src vscode-resource: data:; style-src vscode-resource: \'unsafe-inline\'"><title>DPR</title></head><body><svg></svg></body></html>',
    );
    assert.throws(() => reportForWebview('<p>no head</p>', 'x'), TaskError);
  });
});
