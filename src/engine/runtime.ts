// onnxruntime sessions with an execution-provider choice that falls back instead of throwing.
import { execFile } from 'child_process';
import * as ort from 'onnxruntime-node';
import { UserError } from '../shared/errors';
import type { Fallback } from '../shared/protocol';
import { encodeModel, floatValueInfo, makeModel } from './onnx/proto';

export type { Fallback };

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

/** Providers `auto` tries, best first, on a platform. */
export function autoOrder(platform: NodeJS.Platform = process.platform): string[] {
  const order = ['cuda'];
  if (platform === 'win32') order.push('dml');
  if (platform === 'darwin') order.push('coreml');
  order.push('webgpu', 'cpu');
  return order;
}

/** The providers a choice tries, in order; the CPU is always last. */
export function providerOrder(choice: ExecutionProviderChoice): string[] {
  return choice === 'auto' ? autoOrder() : choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
}

export interface Session {
  readonly session: ort.InferenceSession;
  /** The provider the session actually runs on. */
  readonly ep: string;
}

/** Called once when the chosen provider (or, for `auto`, the better ones) could not be used. */
export type FallbackNotice = (fallback: Fallback) => void;

/** A provider that could not be used: why in a few words, and everything that was said. */
export interface ProviderFailure {
  ep: string;
  reason: string;
  detail: string;
}

export function fallbackTo(ep: string, failures: ProviderFailure[]): Fallback {
  const reason = failures.map((f) => f.reason).join(', ');
  return {
    providers: failures.map((f) => f.ep).join(', '),
    ep,
    reason,
    notice: `running on ${ep === 'cpu' ? 'the CPU' : ep} (${reason})`,
    // onnxruntime colours its log lines for a terminal.
    detail: failures
      .map((f) => `${f.ep}: ${(f.detail || f.reason).replace(/\x1b\[[0-9;]*m/g, '')}`)
      .join('\n')
      .split('\n')
      .filter((line) => line.trim())
      .join('\n'),
  };
}

/** A provider's trial: reason null when it ran a graph. */
interface Trial {
  ep: string;
  reason: string | null;
  detail: string;
}

// The trial runs in a child process: a provider that is not there makes onnxruntime's and the
// Vulkan loader's native code write to file descriptor 2 ("FAIL : Failed to load library …",
// "Couldn't load Vulkan"), which no JavaScript can silence, and a broken driver may crash the
// process that loads it. Each provider's native output follows a marker line on stderr; each
// result is a JSON line on stdout, so a crash still tells which trial it ended.
const TRIAL_MARK = '@@xssab-trial ';
const TRIAL_SCRIPT = `
const ort = require(process.argv[1]);
const model = Buffer.from(process.argv[2], 'base64');
(async () => {
  for (const ep of process.argv.slice(3)) {
    process.stderr.write('\\n${TRIAL_MARK}' + ep + '\\n');
    let error = null;
    try {
      const s = await ort.InferenceSession.create(model, { executionProviders: [ep], logSeverityLevel: 3 });
      await s.run({ x: new ort.Tensor('float32', Float32Array.of(-1, 2), [2]) });
      await s.release();
    } catch (e) {
      error = String((e && e.message) || e);
    }
    process.stdout.write(JSON.stringify([ep, error]) + '\\n');
  }
})();`;

/** A one-node graph (Relu of a [2] tensor): enough for a provider to load, find a device and run. */
function trialModel(): Uint8Array {
  return encodeModel(
    makeModel({ name: 'trial', node: [{ opType: 'Relu', input: ['x'], output: ['y'] }], input: [floatValueInfo('x', [2])], output: [floatValueInfo('y', [2])] }),
  );
}

/** Short words for why a provider could not be used, from its error and native output. */
export function shortReason(ep: string, error: string, native: string): string {
  const text = `${error}\n${native}`;
  if (ep === 'cuda' && /Failed to load (shared )?library/i.test(text)) return 'no CUDA libraries';
  if (ep === 'webgpu' && /Couldn't load Vulkan|Found no drivers|libvulkan/i.test(text)) return 'no Vulkan driver';
  if (ep === 'webgpu' && /No supported adapters/i.test(text)) return 'no Vulkan device WebGPU can use';
  return `${ep}: ${error.split('\n')[0].slice(0, 160)}`;
}

function runTrials(eps: string[]): Promise<Trial[]> {
  const args = ['-e', TRIAL_SCRIPT, require.resolve('onnxruntime-node'), Buffer.from(trialModel()).toString('base64'), ...eps];
  // ELECTRON_RUN_AS_NODE: in VS Code, process.execPath is Electron's binary.
  const options = { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 60_000, maxBuffer: 16 << 20 };
  return new Promise((resolve) => {
    execFile(process.execPath, args, options, (error, stdout, stderr) => {
      const native = new Map<string, string>();
      for (const part of stderr.split(`\n${TRIAL_MARK}`).slice(1)) {
        const end = part.indexOf('\n');
        native.set(part.slice(0, end), part.slice(end + 1).trim());
      }
      const done = new Map<string, string | null>();
      for (const line of stdout.split('\n').filter(Boolean)) {
        try {
          const [ep, reason] = JSON.parse(line) as [string, string | null];
          done.set(ep, reason);
        } catch {
          // a line the child did not write as a result (a driver's own output)
        }
      }
      resolve(
        eps.map((ep) => {
          const out = native.get(ep) ?? '';
          if (done.has(ep)) {
            const err = done.get(ep)!;
            return { ep, reason: err === null ? null : shortReason(ep, err, out), detail: [err, out].filter(Boolean).join('\n') };
          }
          // The child stopped during (or before) this trial: a crash, a hang, or no child at all.
          const how = error ? (error.killed ? 'it did not finish loading' : `its trial stopped: ${error.message.split('\n')[0]}`) : 'its trial gave no answer';
          return { ep, reason: `${ep}: ${how}`, detail: out };
        }),
      );
    });
  });
}

// Once per process and provider: the machine's drivers do not change while it runs.
const trials = new Map<string, Promise<Trial>>();

/** Whether each provider can run here, tried once per process in one child process. */
export function tryProviders(eps: string[]): Promise<Trial[]> {
  const untried = eps.filter((ep) => !trials.has(ep));
  if (untried.length) {
    const batch = runTrials(untried);
    untried.forEach((ep, i) => trials.set(ep, batch.then((t) => t[i])));
  }
  return Promise.all(eps.map((ep) => trials.get(ep)!));
}

/** The options of every session the engine opens, on any provider. */
export const SESSION_OPTIONS = {
  // Fatal only: a run that fails (on a GPU provider, or on the CPU) is reported by the caller,
  // in words, from the error; at level 3 onnxruntime also writes it to stderr as a red "E" line.
  logSeverityLevel: 4,
  graphOptimizationLevel: 'all',
  // The memory pattern made the second run as slow as the first (~130 ms instead of ~35 ms
  // for the default model on CPU) and cost ~75 MB, without speeding up later runs.
  enableMemPattern: false,
} as const satisfies ort.InferenceSession.SessionOptions;

/**
 * Creates a session on the chosen provider; `auto` or a provider that cannot load falls back
 * along the platform's order down to CPU (onnxruntime itself throws instead of falling back).
 * GPU providers are tried first in a child process (tryProviders), so one that is not there is
 * skipped without its native messages.
 */
export async function createSession(
  model: Uint8Array,
  choice: ExecutionProviderChoice = 'cpu',
  onFallback: FallbackNotice = () => {},
): Promise<Session> {
  const order = providerOrder(choice);
  const tried = new Map((await tryProviders(order.filter((ep) => ep !== 'cpu'))).map((t) => [t.ep, t]));
  const failures: ProviderFailure[] = [];
  for (const ep of order) {
    const trial = tried.get(ep);
    if (trial?.reason) {
      failures.push({ ...trial, reason: trial.reason });
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(model, { ...SESSION_OPTIONS, executionProviders: [ep] });
      if (failures.length) onFallback(fallbackTo(ep, failures));
      return { session, ep };
    } catch (e) {
      if (ep === 'cpu') throw e;
      const error = String(e instanceof Error ? e.message : e);
      failures.push({ ep, reason: shortReason(ep, error, ''), detail: error });
    }
  }
  throw new Error('no execution provider could be used');
}

/** onnxruntime could not run a graph: its own message, shortened, with the full text as `detail`. */
export class RunError extends UserError {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}

/**
 * A failed run in words: the node and what onnxruntime said, without its source location
 * ("…/reshape_helper.h:84 onnxruntime::ReshapeHelper::… was false.").
 */
export function runFailure(e: unknown): RunError {
  const detail = String((e as Error)?.message ?? e);
  const node = /running (\S+) node\. Name:'([^']*)' Status Message: ([^]*)/.exec(detail);
  const said = (node ? node[3] : detail).replace(/^\S+:\d+ [^]*? was false\.\s*/, '').split('\n')[0].trim();
  return new RunError(`onnxruntime could not run the model: ${node ? `its ${node[1]} node "${node[2]}" failed: ` : ''}${said}`, detail);
}

export { ort };
