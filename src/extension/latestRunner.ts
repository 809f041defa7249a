// Runs the newest of a stream of requests (the panel's threshold changes): requests are debounced,
// a request arriving while one runs waits for it, and of those waiting only the newest runs.

export class LatestRunner<T> {
  private timer?: NodeJS.Timeout;
  private wanted?: { value: T };
  private running = false;

  /** `run` reports its own errors: it should not reject. */
  constructor(
    private readonly run: (value: T) => Promise<void>,
    private readonly debounceMs: number,
  ) {}

  request(value: T): void {
    this.wanted = { value };
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), this.debounceMs);
  }

  /** Drops what has not started; a run in progress finishes. */
  dispose(): void {
    clearTimeout(this.timer);
    this.wanted = undefined;
  }

  private async drain(): Promise<void> {
    if (this.running) return; // the running loop picks the newest request up
    this.running = true;
    try {
      while (this.wanted) {
        const { value } = this.wanted;
        this.wanted = undefined;
        await this.run(value);
      }
    } finally {
      this.running = false;
    }
  }
}
