// Errors meant for a person are UserErrors, and every surface decides by that alone: the CLI, the
// engine worker (whose errors reach the host as EngineFailures) and the extension's notifications.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { UnsupportedGradientError } from '../../src/engine/autodiff/rules';
import { FaceError } from '../../src/engine/engine';
import { ExplainPairsError } from '../../src/engine/explainPairs/run';
import { OutputError } from '../../src/engine/files';
import { readNpy } from '../../src/engine/output';
import { ImageError } from '../../src/engine/image';
import { ModelError } from '../../src/engine/model';
import { OnnxFormatError } from '../../src/engine/onnx/proto';
import { PairListError } from '../../src/engine/pairList';
import { LfwError } from '../../src/engine/patchlfw/lfw';
import { RecordsError } from '../../src/engine/runFiles';
import { InterruptedError } from '../../src/cli/lifecycle';
import { EngineFailure } from '../../src/extension/engineClient';
import { describeFailure } from '../../src/extension/engineWorker';
import { failureReport, isUserError } from '../../src/extension/failures';
import { PairListRunError } from '../../src/extension/pairListRun';
import { TaskError } from '../../src/extension/taskDefinition';
import { TasksJsonError } from '../../src/extension/tasksJson';
import { RequestError } from '../../src/extension/notebookMessaging';
import { UsageError, UserError } from '../../src/shared/errors';

describe('user errors', () => {
  it('every error written for a person is a UserError; a usage error is one too', () => {
    const classes = [PairListError, LfwError, ExplainPairsError, RecordsError, ImageError, FaceError, ModelError, OnnxFormatError, OutputError, UnsupportedGradientError, InterruptedError, UsageError, PairListRunError, TaskError, RequestError, TasksJsonError];
    for (const C of classes) assert.ok(new C('m') instanceof UserError, C.name);
    assert.ok(!isUserError(new Error('m')) && !isUserError(new TypeError('m')) && !isUserError('m'));
  });

  it('an OutputError the engine worker meets reading a file is shown in VS Code as it is, not as "unexpected error"', () => {
    // A map file that is not a .npy.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xssab-failure-'));
    fs.writeFileSync(path.join(dir, 'a_similarity.npy'), 'this is not a numpy file');
    const thrown = (() => {
      try {
        readNpy(path.join(dir, 'a_similarity.npy'));
      } catch (e) {
        return e;
      }
      assert.fail('a map that is not a .npy file was read');
    })();
    assert.ok(thrown instanceof OutputError);
    // What the worker sends to the host, and what the host makes of it.
    const failure = describeFailure(thrown);
    assert.equal(failure.known, true);
    const expected = `${path.join(dir, 'a_similarity.npy')}: not a little-endian float32 .npy file`;
    assert.deepEqual(failureReport(new EngineFailure(failure)), { shown: expected, logged: expected });
  });

  it('anything else is an unexpected error: shown briefly, logged in full', () => {
    const bug = new TypeError('x is undefined');
    const failure = describeFailure(bug);
    assert.equal(failure.known, false);
    const report = failureReport(new EngineFailure(failure));
    assert.equal(report.shown, 'unexpected error: x is undefined (details in the "xSSAB" output)');
    assert.equal(report.logged, bug.stack);
    assert.equal(failureReport(new UsageError('select exactly two images')).shown, 'select exactly two images');
  });
});
