import { strict as assert } from 'assert';
import * as os from 'os';
import * as path from 'path';
import { type ConfigSource, resolveSettings } from '../../src/extension/settings';

interface Layers {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** A configuration with VS Code's precedence: folder over workspace over user over default. */
function config(values: Record<string, Layers>): ConfigSource {
  const effective = (l: Layers | undefined) => l && (l.workspaceFolderValue ?? l.workspaceValue ?? l.globalValue ?? l.defaultValue);
  return {
    get: ((key: string) => effective(values[key])) as ConfigSource['get'],
    inspect: ((key: string) => (values[key] ? { key: `xssab.${key}`, ...values[key] } : undefined)) as ConfigSource['inspect'],
  };
}

const WORKSPACE = path.resolve('/work/space');

describe('extension settings', () => {
  it('uses the bundled model, the card threshold and auto when nothing is set', () => {
    const s = resolveSettings(config({ model: { defaultValue: '' }, threshold: { defaultValue: null }, executionProvider: { defaultValue: 'auto' } }), true, WORKSPACE);
    assert.deepEqual(s, {
      model: undefined,
      modelSource: 'bundled',
      threshold: undefined,
      executionProvider: 'auto',
      logLevel: 'info',
      ignoredWorkspaceModel: undefined,
      view: { map: 'combined', opacity: 0.6, colourRange: 99, smoothing: 0 },
    });
  });

  it('takes the panel\'s starting map and opacity, and refuses values outside their range', () => {
    assert.deepEqual(resolveSettings(config({ defaultMap: { globalValue: 'dissimilarity' }, overlayOpacity: { globalValue: 0.25 } }), true, WORKSPACE).view, { map: 'dissimilarity', opacity: 0.25, colourRange: 99, smoothing: 0 });
    assert.deepEqual(resolveSettings(config({ defaultMap: { globalValue: 'heat' }, overlayOpacity: { globalValue: 1.5 } }), true, WORKSPACE).view, { map: 'combined', opacity: 0.6, colourRange: 99, smoothing: 0 });
  });

  it('takes the contrast (a percentile from 90 to 100) and the display smoothing (σ 0 to 8), and refuses values outside', () => {
    const view = (colourRange: unknown, displaySmoothing: unknown) => resolveSettings(config({ colourRange: { globalValue: colourRange }, displaySmoothing: { globalValue: displaySmoothing } }), true, WORKSPACE).view;
    assert.deepEqual(view(95, 2.5), { map: 'combined', opacity: 0.6, colourRange: 95, smoothing: 2.5 });
    assert.deepEqual(view(100, 8), { map: 'combined', opacity: 0.6, colourRange: 100, smoothing: 8 });
    assert.deepEqual(view(80, 9), { map: 'combined', opacity: 0.6, colourRange: 99, smoothing: 0 });
    assert.deepEqual(view('max', -1), { map: 'combined', opacity: 0.6, colourRange: 99, smoothing: 0 });
  });

  it('in a trusted workspace, takes the workspace model, relative to the workspace folder', () => {
    const s = resolveSettings(config({ model: { defaultValue: '', globalValue: '/models/user.onnx', workspaceValue: 'models/ws.onnx' } }), true, WORKSPACE);
    assert.equal(s.model, path.join(WORKSPACE, 'models', 'ws.onnx'));
    assert.equal(s.modelSource, 'workspace');
    assert.equal(s.ignoredWorkspaceModel, undefined);
  });

  it('prefers the folder value over the workspace value', () => {
    const s = resolveSettings(config({ model: { workspaceValue: '/a.onnx', workspaceFolderValue: '/b.onnx' } }), true, WORKSPACE);
    assert.equal(s.model, path.resolve('/b.onnx'));
  });

  it("in an untrusted workspace, ignores the workspace's model and keeps the user's", () => {
    const s = resolveSettings(config({ model: { defaultValue: '', globalValue: '/models/user.onnx', workspaceValue: '/evil/model.onnx' } }), false, WORKSPACE);
    assert.equal(s.model, path.resolve('/models/user.onnx'));
    assert.equal(s.modelSource, 'user');
    assert.equal(s.ignoredWorkspaceModel, '/evil/model.onnx');
  });

  it('in an untrusted workspace without a user model, falls back to the bundled model', () => {
    const s = resolveSettings(config({ model: { defaultValue: '', workspaceFolderValue: 'model.onnx' } }), false, WORKSPACE);
    assert.equal(s.model, undefined);
    assert.equal(s.modelSource, 'bundled');
    assert.equal(s.ignoredWorkspaceModel, 'model.onnx');
  });

  it('resolves a user model under the home folder', () => {
    assert.equal(resolveSettings(config({ model: { globalValue: '~/m/x.onnx' } }), true).model, path.join(os.homedir(), 'm', 'x.onnx'));
    assert.equal(resolveSettings(config({ model: { globalValue: 'rel.onnx' } }), true, WORKSPACE).model, path.join(os.homedir(), 'rel.onnx'));
  });

  it('clamps the threshold to the cosine range and treats null as unset', () => {
    assert.equal(resolveSettings(config({ threshold: { globalValue: 0.42 } }), true).threshold, 0.42);
    assert.equal(resolveSettings(config({ threshold: { globalValue: 3 } }), true).threshold, 1);
    assert.equal(resolveSettings(config({ threshold: { globalValue: -2 } }), true).threshold, -1);
    assert.equal(resolveSettings(config({ threshold: { globalValue: null } }), true).threshold, undefined);
    assert.equal(resolveSettings(config({ threshold: { globalValue: 'high' } }), true).threshold, undefined);
  });

  it('takes a pair-list FMR only strictly between 0 and 1', () => {
    const atFmr = (v: unknown) => resolveSettings(config({ pairListAtFmr: { globalValue: v } }), true).pairListAtFmr;
    assert.deepEqual([atFmr(0.001), atFmr(0), atFmr(1), atFmr(null), atFmr('1e-3')], [0.001, undefined, undefined, undefined, undefined]);
  });

  it('log level: debug when set so, else info', () => {
    assert.equal(resolveSettings(config({ logLevel: { globalValue: 'debug' } }), true).logLevel, 'debug');
    assert.equal(resolveSettings(config({ logLevel: { globalValue: 'trace' } }), true).logLevel, 'info');
  });

  it('passes the execution provider through (the worker checks it)', () => {
    assert.equal(resolveSettings(config({ executionProvider: { globalValue: 'cuda' } }), true).executionProvider, 'cuda');
  });
});
