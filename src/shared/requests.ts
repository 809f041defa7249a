// The one request/reply helper of every channel (panel, notebook renderer, gallery, engine
// worker): it puts messages in envelopes with their own id, sends replies with the id of the
// message they answer (`inReplyTo`), and matches replies to the requests that wait for them, with
// a timeout and cancellation. Browser-safe: the webviews use it as the extension host does.
import { type Envelope, type MessageId, ProtocolError, type Reply, type Typed } from './protocol';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/** What is used of vscode.CancellationToken. */
export interface CancellationTokenLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): unknown };
}

/** Ids of the messages one side sends: unique on its channel (the prefix tells senders apart). */
export class Envelopes {
  private count = 0;
  constructor(private readonly prefix = '') {}

  /** A message that answers no other. */
  message<M extends Typed>(message: M): Envelope<M> {
    return { ...message, id: this.nextId() };
  }

  /** A message that answers `to`. */
  reply<M extends Typed>(to: { id: MessageId }, message: M): Reply<M> {
    return { ...message, id: this.nextId(), inReplyTo: to.id };
  }

  private nextId(): MessageId {
    return `${this.prefix}${++this.count}`;
  }
}

/** How a request ends: resolved with its result or rejected. */
export interface Settle<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export interface RequestOptions {
  /** Rejects the request with `timeoutError()` when no reply settles it in time. */
  timeoutMs?: number;
  timeoutError?: () => Error;
  /** Rejects the request with a CancelledError when cancelled; the channel's onCancel runs then. */
  token?: CancellationTokenLike;
}

interface Pending<In extends Typed> {
  envelope: Envelope<Typed>;
  onReply(reply: In, settle: Settle<never>): void;
  settle: Settle<never>;
}

/**
 * Requests of one side of a channel: `Out` is what it sends, `In` the replies it takes. A request
 * may receive several replies (progress first); its reply handler settles it with the last.
 */
export class Requests<Out extends Typed, In extends Typed> {
  private readonly envelopes: Envelopes;
  private readonly onCancel?: () => void;
  private readonly pending = new Map<MessageId, Pending<In>>();

  /** `onCancel` runs after a request was cancelled (the other side may still be working on it). */
  constructor(
    private readonly post: (message: Envelope<Out>) => void,
    options: { idPrefix?: string; onCancel?: () => void } = {},
  ) {
    this.envelopes = new Envelopes(options.idPrefix);
    this.onCancel = options.onCancel;
  }

  /** Sends `message` and waits until a reply handed to `onReply` settles it. */
  request<T>(message: Out, onReply: (reply: In, settle: Settle<T>) => void, options: RequestOptions = {}): Promise<T> {
    const { token, timeoutMs } = options;
    if (token?.isCancellationRequested) return Promise.reject(new CancelledError());
    const envelope = this.envelopes.message(message);
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.end(envelope.id)?.reject(options.timeoutError?.() ?? new Error(`no reply to "${message.type}" after ${timeoutMs} ms`)), timeoutMs);
      const subscription = token?.onCancellationRequested(() => {
        const settle = this.end(envelope.id);
        if (!settle) return;
        settle.reject(new CancelledError());
        this.onCancel?.();
      });
      const done = <V>(f: (v: V) => void) => (v: V) => {
        clearTimeout(timer);
        subscription?.dispose();
        f(v);
      };
      const settle: Settle<T> = { resolve: done(resolve), reject: done(reject) };
      this.pending.set(envelope.id, { envelope, onReply: onReply as Pending<In>['onReply'], settle: settle as Settle<never> });
      this.post(envelope);
    });
  }

  /**
   * Hands a reply to the request it answers. False when none waits for it (another side's, late,
   * or timed out). A reply its handler cannot take fails that request.
   */
  receive(reply: Envelope<In>): boolean {
    const pending = typeof reply?.inReplyTo === 'string' ? this.pending.get(reply.inReplyTo) : undefined;
    if (!pending) return false;
    const { settle } = pending;
    const once: Settle<never> = {
      resolve: (v) => this.end(pending.envelope.id) && settle.resolve(v),
      reject: (e) => this.end(pending.envelope.id) && settle.reject(e),
    };
    try {
      pending.onReply(reply, once);
    } catch (e) {
      once.reject(e instanceof Error ? e : new ProtocolError(String(e)));
    }
    return true;
  }

  /** Posts every waiting request again under its own id (the other side was restarted). */
  resend(): void {
    for (const { envelope } of this.pending.values()) this.post(envelope as Envelope<Out>);
  }

  /** Rejects every waiting request. */
  failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.end(id)?.reject(error);
  }

  /** Requests still waiting. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Forgets a request; its settle, if it was still waiting. */
  private end(id: MessageId): Settle<never> | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    return pending?.settle;
  }
}
