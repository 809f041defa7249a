// onnxruntime sessions with an execution-provider choice that falls back instead of throwing.
import * as ort from 'onnxruntime-node';

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';
export const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

/** Providers `auto` tries, best first, for this platform. */
function autoOrder(): string[] {
  const order = ['cuda'];
  if (process.platform === 'win32') order.push('dml');
  if (process.platform === 'darwin') order.push('coreml');
  order.push('webgpu', 'cpu');
  return order;
}

export interface Session {
  readonly session: ort.InferenceSession;
  /** The provider the session actually runs on. */
  readonly ep: string;
}

/** Called once per provider that could not be used, with the reason. */
export type FallbackNotice = (provider: string, reason: string) => void;

/**
 * Creates a session on the chosen provider; `auto` or a provider that cannot load falls back
 * along the platform's order down to CPU (onnxruntime itself throws instead of falling back).
 */
export async function createSession(
  model: Uint8Array,
  choice: ExecutionProviderChoice = 'cpu',
  onFallback: FallbackNotice = () => {},
): Promise<Session> {
  const order = choice === 'auto' ? autoOrder() : choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
  let lastError: unknown;
  for (const ep of order) {
    try {
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [ep],
        logSeverityLevel: 3,
        graphOptimizationLevel: 'all',
      });
      return { session, ep };
    } catch (e) {
      lastError = e;
      if (ep !== 'cpu') onFallback(ep, firstLine(e));
    }
  }
  throw lastError;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

export { ort };
