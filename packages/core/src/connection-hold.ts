import type { Socket } from 'node:net';
import { abortable } from './abortable.js';
import { deadline } from './deadline.js';
import { asFwdError, FwdError } from './errors.js';

export interface ConnectionHoldOptions {
  /** How long one connection may wait; then it is closed with CONNECT_TIMEOUT. */
  readonly holdMs: number;
  /** Resolves with a live session (or whatever carries channels); the wait for it is held too. */
  readonly route: (signal: AbortSignal) => Promise<unknown>;
  /** True when `route` would resolve at once: the fast path takes no timer and no promise chain. */
  readonly routeLive: () => boolean;
  /** What the tunnel waits for right now, for the message of a connection that waited too long. */
  readonly waitingFor: () => string;
  /** The number of waiting connections changed. */
  readonly changed: () => void;
  /** Connections were closed without being carried; reported once per batch, not per socket. */
  readonly dropped: (count: number, reason: FwdError) => void;
}

/**
 * The one place where connections that arrive before their tunnel is ready wait: while the host
 * connects or reconnects, while a gate (a Slurm job) is pending, while the app does not answer
 * its ready check. They are then carried, or closed with the reason once the tunnel fails or
 * ends, or after `holdMs` — never reset because they came early.
 */
export class ConnectionHold {
  readonly #options: ConnectionHoldOptions;
  readonly #ready: Promise<void>;
  #open!: () => void;
  #close!: (reason: FwdError) => void;
  #state: 'pending' | 'open' | FwdError = 'pending';
  #waiting = 0;
  readonly #drops = new Map<string, { count: number; reason: FwdError }>();

  constructor(options: ConnectionHoldOptions) {
    this.#options = options;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#close = reject;
    });
    // Nobody may be waiting when the tunnel ends: that rejection is expected, not unhandled.
    this.#ready.catch(() => undefined);
  }

  /** Connections held right now. */
  get waiting(): number {
    return this.#waiting;
  }

  /** The tunnel is ready: held connections proceed (once the route has a session), new ones pass. */
  open(): void {
    if (this.#state !== 'pending') return;
    this.#state = 'open';
    this.#open();
  }

  /** The tunnel failed or ended: held connections are closed with `reason`, new ones at once. */
  close(reason: FwdError): void {
    if (this.#state instanceof FwdError) return;
    this.#state = reason;
    this.#close(reason);
  }

  /** ListeningForward's `admit`: resolves when the connection may be carried. */
  readonly admit = async (socket: Socket, signal: AbortSignal): Promise<void> => {
    if (this.#state === 'open' && this.#options.routeLive()) return;
    if (this.#state instanceof FwdError) throw this.#drop(this.#state);
    const { holdMs } = this.#options;
    // One signal for "stop waiting": the client hung up, or the forward closed.
    const stop = new AbortController();
    const clientGone = new FwdError('ABORTED', 'the client gave up waiting');
    const onClose = (): void => stop.abort(clientGone);
    const onForwardClosed = (): void => stop.abort(signal.reason);
    socket.once('close', onClose);
    signal.addEventListener('abort', onForwardClosed, { once: true });
    using bound = deadline(
      holdMs,
      () =>
        new FwdError(
          'CONNECT_TIMEOUT',
          `not ready after ${Math.round(holdMs / 1000)} s (${this.#options.waitingFor()})`,
        ),
      stop.signal,
    );
    this.#waiting++;
    this.#options.changed();
    try {
      await abortable(this.#ready, bound.signal, 'waiting for the tunnel');
      await this.#options.route(bound.signal);
    } catch (err) {
      // Once the tunnel is over, that is the reason, whatever woke this wait first.
      const reason = this.#closedWith() ?? asFwdError(err, 'ABORTED');
      throw stop.signal.reason === clientGone ? reason : this.#drop(reason);
    } finally {
      socket.off('close', onClose);
      signal.removeEventListener('abort', onForwardClosed);
      this.#waiting--;
      this.#options.changed();
    }
  };

  #closedWith(): FwdError | undefined {
    return this.#state instanceof FwdError ? this.#state : undefined;
  }

  /** Counts a dropped connection; one report per reason per turn of the event loop. */
  #drop(reason: FwdError): FwdError {
    const key = `${reason.code} ${reason.message}`;
    const batch = this.#drops.get(key);
    if (batch) batch.count++;
    else {
      this.#drops.set(key, { count: 1, reason });
      setImmediate(() => {
        const count = this.#drops.get(key)?.count ?? 1;
        this.#drops.delete(key);
        this.#options.dropped(count, reason);
      });
    }
    return reason;
  }
}
