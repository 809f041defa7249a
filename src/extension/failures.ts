// What a person is told when something fails in the extension. A UserError's message (thrown here,
// or in the engine worker and carried over as a known EngineFailure) is shown as it is; anything
// else is an unexpected error, shown briefly and logged in full. No vscode, so it is unit-tested.
import { UserError } from '../shared/errors';
import { EngineFailure } from './engineClient';

/** Whether `e`'s message is written for a person. */
export function isUserError(e: unknown): e is Error {
  return e instanceof UserError || (e instanceof EngineFailure && e.known);
}

/** The text of the notification (`shown`) and of the log line (`logged`). */
export function failureReport(e: unknown): { shown: string; logged: string } {
  if (isUserError(e)) return { shown: e.message, logged: e.message };
  const message = e instanceof Error ? e.message : String(e);
  const logged = e instanceof EngineFailure ? (e.detail ?? message) : e instanceof Error ? (e.stack ?? message) : message;
  return { shown: `unexpected error: ${message} (details in the "xSSAB" output)`, logged };
}
