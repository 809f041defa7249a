// Inspecting the settings' model from the extension: the inspect request through the engine
// client and the worker's answer (run in-process on models built here), the report in the log, and
// one notification only for a model that cannot be explained or read.
import { strict as assert } from 'assert';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeModel } from '../../src/engine/onnx/proto';
import { EngineClient, EngineFailure, type WorkerLike } from '../../src/extension/engineClient';
import { run } from '../../src/extension/engineWorker';
import { failureReport } from '../../src/extension/failures';
import { type InspectionHost, ModelSettingWatcher, SHOW_OUTPUT, inspectAndReport } from '../../src/extension/modelInspection';
import { type ConfigSource, resolveSettings } from '../../src/extension/settings';
import { type Envelope, ProtocolError, type WorkerRequest } from '../../src/shared/protocol';
import { Envelopes } from '../../src/shared/requests';
import { Net } from './gradcheck';

/** The worker's request handler, run in this thread: replies come back as the worker posts them. */
class InProcessWorker extends EventEmitter implements WorkerLike {
  readonly requests: Envelope<WorkerRequest>[] = [];
  private readonly envelopes = new Envelopes('worker-');
  postMessage(request: Envelope<WorkerRequest>): void {
    this.requests.push(request);
    void run(request, (reply) => this.emit('message', this.envelopes.reply(request, reply)));
  }
  terminate(): Promise<number> {
    return Promise.resolve(0);
  }
}

/** A conv net on 3×8×8 images; `sin` puts two Sin nodes (no gradient rule) on the path. */
function writeModel(file: string, { sin = false, flatInput = false } = {}): string {
  const net = new Net(flatInput ? [1, 8] : [1, 3, 8, 8]);
  let y: string;
  if (flatInput) y = net.b.op('Relu', ['x']);
  else {
    const x = sin ? net.b.op('Sin', [net.b.op('Sin', ['x'])]) : 'x';
    const conv = net.b.op('Relu', [net.b.op('Conv', [x, net.weight([4, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
    y = net.b.op('Flatten', [net.b.op('GlobalAveragePool', [conv])], { axis: 1 });
  }
  fs.writeFileSync(file, encodeModel(net.model(y)));
  return file;
}

interface Recorded {
  host: InspectionHost;
  inspected: (string | undefined)[];
  /** The inspections asked for, to wait on. */
  running: PromiseLike<unknown>[];
  logged: string[];
  notified: { level: string; message: string; buttons: string[] }[];
  shows: number;
}

/** A host whose engine is the in-process worker behind a real EngineClient; `press` is the button the user presses. */
function recordingHost(press?: string): Recorded {
  const client = new EngineClient(() => new InProcessWorker());
  const r: Recorded = {
    inspected: [],
    running: [],
    logged: [],
    notified: [],
    shows: 0,
    host: {
      inspect: (job) => {
        r.inspected.push(job.model);
        const inspection = client.inspect(job);
        r.running.push(inspection.catch(() => undefined));
        return inspection;
      },
      log: { info: (m: string) => void r.logged.push(`info ${m}`), warn: (m: string) => void r.logged.push(`warn ${m}`), show: () => void r.shows++ },
      notify: (level, message, ...buttons) => {
        r.notified.push({ level, message, buttons });
        return Promise.resolve(press);
      },
      failureText: (e) => failureReport(e).shown,
    },
  };
  return r;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('inspecting the model from the extension', () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-inspect-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('sends an inspect request to the worker and takes its inspected reply: the report lines, no problem for an explainable model', async () => {
    const worker = new InProcessWorker();
    const client = new EngineClient(() => worker);
    const file = writeModel(path.join(tmp, 'conv.onnx'));
    const inspection = await client.inspect({ model: file });
    assert.deepEqual(worker.requests.map(({ type, job }) => ({ type, job })), [{ type: 'inspect', job: { model: file } }]);
    assert.equal(inspection.problem, undefined);
    assert.match(inspection.lines[1], /^input x \[N, 3, 8, 8\], output net\/Flatten_\d+ .*, embedding size 4$/);
    assert.deepEqual(inspection.lines.slice(2, 4), [
      'ops: Conv 1, Flatten 1, GlobalAveragePool 1, Relu 1',
      'gradients: every op on the path from the input to the embedding has a rule',
    ]);
  });

  it('names the ops without a gradient rule as the problem; the bundled model (no path) has none', async () => {
    const client = new EngineClient(() => new InProcessWorker());
    const sin = await client.inspect({ model: writeModel(path.join(tmp, 'sin.onnx'), { sin: true }) });
    assert.match(sin.problem ?? '', /^no rule for Sin \(2 nodes, e\.g\. "net\/Sin_node_\d+"\)$/);
    const bundled = await client.inspect({});
    assert.equal(bundled.problem, undefined);
    assert.match(bundled.lines[0], /^model MobileFaceNet/);
  });

  it("rejects with the engine's own error for a missing, a corrupt and a wrongly shaped model", async () => {
    const client = new EngineClient(() => new InProcessWorker());
    const corrupt = path.join(tmp, 'corrupt.onnx');
    fs.writeFileSync(corrupt, 'not a protobuf at all');
    const cases: [string, RegExp][] = [
      [path.join(tmp, 'absent.onnx'), /absent\.onnx: model file not found$/],
      [corrupt, /corrupt\.onnx: not an ONNX model/],
      [writeModel(path.join(tmp, 'flat.onnx'), { flatInput: true }), /flat\.onnx: input "x" has shape \[1, 8\]; expected \[N, 3, H, W\]$/],
    ];
    for (const [model, message] of cases) {
      await assert.rejects(client.inspect({ model }), (e: unknown) => e instanceof EngineFailure && e.known && message.test(e.message));
    }
  });

  it('fails an inspect request that gets an explanation reply', async () => {
    const worker = new (class extends InProcessWorker {
      postMessage(request: Envelope<WorkerRequest>): void {
        this.emit('message', { type: 'done', payload: {}, id: 'w-1', inReplyTo: request.id });
      }
    })();
    await assert.rejects(new EngineClient(() => worker).inspect({}), ProtocolError);
  });

  it('logs the report of an explainable model and shows no notification', async () => {
    const r = recordingHost();
    const file = writeModel(path.join(tmp, 'ok.onnx'));
    const inspection = await inspectAndReport(r.host, { model: file, origin: 'user settings' }, false);
    assert.ok(inspection);
    assert.deepEqual(r.notified, []);
    assert.equal(r.logged[0], `info inspecting ${file} (user settings)`);
    assert.equal(r.logged[1], `info ${inspection.lines.join('\n')}`);
    assert.equal(r.logged.length, 2);
    assert.equal(r.shows, 0);
  });

  it('gives a model with ops without a rule one warning, whose button shows the output', async () => {
    const r = recordingHost(SHOW_OUTPUT);
    await inspectAndReport(r.host, { model: writeModel(path.join(tmp, 'sin2.onnx'), { sin: true }), origin: 'workspace settings' }, false);
    await tick();
    assert.equal(r.notified.length, 1);
    const [n] = r.notified;
    assert.equal(n.level, 'warning');
    assert.match(n.message, /^xSSAB cannot explain with sin2\.onnx \(workspace settings\): no rule for Sin \(2 nodes/);
    assert.deepEqual(n.buttons, [SHOW_OUTPUT]);
    assert.equal(r.shows, 1, 'the button showed the output');
    assert.ok(r.logged.some((l) => /^warn sin2\.onnx cannot be explained: no rule for Sin/.test(l)));
  });

  it('gives a missing or corrupt file one readable error, and does not throw', async () => {
    const r = recordingHost();
    const result = await inspectAndReport(r.host, { model: path.join(tmp, 'gone.onnx'), origin: 'user settings' }, false);
    assert.equal(result, undefined);
    assert.deepEqual(r.notified, [{ level: 'error', message: `xSSAB cannot use gone.onnx (user settings): ${path.join(tmp, 'gone.onnx')}: model file not found`, buttons: [SHOW_OUTPUT] }]);
    assert.equal(r.shows, 0, 'the button was not pressed');
  });

  it('the command shows the output first, and its notification has no button to show it again', async () => {
    const r = recordingHost();
    await inspectAndReport(r.host, { model: writeModel(path.join(tmp, 'sin3.onnx'), { sin: true }), origin: 'chosen file' }, true);
    assert.equal(r.shows, 1);
    assert.deepEqual(r.notified.map((n) => n.buttons), [[]]);
  });

  describe('watching xssab.model', () => {
    /** Settings resolved as the extension does, from user and workspace values of xssab.model. */
    const settingsOf = (values: { user?: string; workspace?: string }, trusted: boolean) => () => {
      const config: ConfigSource = {
        get: (() => undefined) as ConfigSource['get'],
        inspect: (() => ({ key: 'xssab.model', globalValue: values.user, workspaceValue: values.workspace })) as ConfigSource['inspect'],
      };
      return resolveSettings(config, trusted, tmp);
    };
    /** Waits out the debounce and then the inspections it started. */
    const settled = async (r: Recorded) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      await Promise.all(r.running);
      await tick();
    };

    it('at activation inspects a model that is set, and nothing when none is', async () => {
      const r = recordingHost();
      new ModelSettingWatcher(r.host, settingsOf({}, true), 0).changed();
      await settled(r);
      assert.deepEqual(r.inspected, []);
      const file = writeModel(path.join(tmp, 'set.onnx'));
      new ModelSettingWatcher(r.host, settingsOf({ user: file }, true), 0).changed();
      await settled(r);
      assert.deepEqual(r.inspected, [file]);
    });

    it('inspects the last of quick changes once, not the same model again, and says when the bundled model is back', async () => {
      const r = recordingHost();
      const values: { user?: string } = {};
      const watcher = new ModelSettingWatcher(r.host, settingsOf(values, true), 10);
      watcher.changed();
      const [first, second] = [writeModel(path.join(tmp, 'first.onnx')), writeModel(path.join(tmp, 'second.onnx'), { sin: true })];
      values.user = first;
      watcher.changed();
      values.user = second;
      watcher.changed();
      await settled(r);
      assert.deepEqual(r.inspected, [second]);
      assert.equal(r.notified.length, 1);
      watcher.changed(); // another setting of the section changed: the model did not
      await settled(r);
      assert.deepEqual(r.inspected, [second]);
      values.user = '';
      watcher.changed();
      await settled(r);
      assert.deepEqual(r.inspected, [second]);
      assert.equal(r.logged[r.logged.length - 1], 'info xssab.model is empty: the bundled model is used');
    });

    it("in Restricted Mode ignores the workspace's model; granting trust inspects it", async () => {
      const r = recordingHost();
      const file = writeModel(path.join(tmp, 'workspace.onnx'));
      let trusted = false;
      const watcher = new ModelSettingWatcher(r.host, () => settingsOf({ workspace: file }, trusted)(), 0);
      watcher.changed();
      await settled(r);
      assert.deepEqual(r.inspected, []);
      trusted = true;
      watcher.changed();
      await settled(r);
      assert.deepEqual(r.inspected, [file]);
      assert.deepEqual(r.notified, []);
    });
  });
});
