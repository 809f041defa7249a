// Progress on stderr. On a terminal, and for the extension (which reads each line as it comes and
// sets XSSAB_PROGRESS=live), one line is rewritten in place after a carriage return. In a pipe or a
// log file, such as a batch scheduler's, a whole line is written at most every LOG_INTERVAL_MS,
// and the last one always, so the log holds a readable history instead of one endless line.
import type { RunProgress } from '../engine/runFiles';

export const PROGRESS_ENV = 'XSSAB_PROGRESS';
const LOG_INTERVAL_MS = 10_000;

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export class ProgressLine {
  private lastLogged = -Infinity;
  private open = false;

  constructor(
    private readonly out: Output = process.stderr,
    private readonly live = out.isTTY === true || process.env[PROGRESS_ENV] === 'live',
    private readonly now: () => number = Date.now,
  ) {}

  /** Shows `text`; `last` marks the final step, which a log always gets. */
  update(text: string, last: boolean): void {
    if (this.live) {
      // Trailing spaces cover the end of a longer line before.
      this.out.write(`\r${text}   `);
      this.open = true;
      return;
    }
    const now = this.now();
    if (!last && now - this.lastLogged < LOG_INTERVAL_MS) return;
    this.out.write(`${text}\n`);
    this.lastLogged = now;
  }

  /** Ends the line rewritten in place, if any: call once the job stops, finished or not. */
  end(): void {
    if (this.open) this.out.write('\n');
    this.open = false;
  }
}

/** The progress line of a pair run or of its scoring stage (the extension parses it: see parseProgress). */
export function runProgressText(p: RunProgress): string {
  return `${p.unit === 'images' ? 'embedding ' : ''}${p.done}/${p.total} ${p.unit}, ${p.perSecond.toFixed(2)} ${p.unit}/s, ${Math.ceil(p.secondsLeft)} s left`;
}
