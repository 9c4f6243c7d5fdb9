import { EventEmitter } from 'node:events';
import { CertificateUnusableError } from './auth-steps.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import type { ConnectOptions } from './connect.js';
import { DEFAULTS } from './defaults.js';
import type { TcpAddress } from './endpoints.js';
import { asFwdError, FwdError } from './errors.js';
import { connectOnce, type HostRoute, waitBeforeRetry } from './host-attempt.js';
import { SessionWaiters } from './session-waiters.js';
import type { SshSession } from './ssh-session.js';
import type { Transport } from './transport.js';

/** One SSH server the supervisor keeps a session to. */
export interface HostSpec {
  name: string;
  /** The SSH server, as known_hosts names it; also the TCP address unless `via`/`transport` say otherwise. */
  address: TcpAddress;
  /** Reach it through a session to this other host (ProxyJump); chains are hosts with `via`. */
  via?: string;
  /** A custom first hop (e.g. a websocket relay, a ProxyCommand); ignored when `via` is set. */
  transport?: Transport;
  /** Everything else connect() takes: user, keys, agent, host keys, keepalive, timeouts. */
  session: Omit<ConnectOptions, 'transport' | 'signal'>;
  /**
   * Read before each attempt, over `session`'s: keys and certificates as they are on disk now, so
   * a short-lived certificate renewed while fwd runs is the one the next login offers.
   */
  freshCredentials?: () => Promise<FreshCredentials>;
  reconnect?: BackoffOptions;
}

export type FreshCredentials = Pick<ConnectOptions, 'privateKey' | 'certificates'>;

export type HostState = 'connecting' | 'up' | 'reconnecting' | 'failed' | 'closed';

export interface HostStatus {
  readonly name: string;
  readonly state: HostState;
  /** Why the last session ended or the last attempt failed. */
  readonly lastError: FwdError | undefined;
  /** When the next attempt starts (epoch ms), while reconnecting. */
  readonly retryAt: number | undefined;
  readonly reconnects: number;
}

export interface HostConnectionEvents {
  status: [HostStatus];
  up: [SshSession];
}

/**
 * Keeps one session to a host alive: connects, and after any loss reconnects with backoff,
 * forever, unless the failure is one retrying cannot fix (auth, host key): then `failed`.
 * While it waits, and while an attempt hangs before the key exchange, it polls whether sshd
 * answers a fresh connection, and retries at once when it does.
 */
export class HostConnection extends EventEmitter<HostConnectionEvents> {
  readonly spec: HostSpec;
  readonly #route: HostRoute;
  readonly #stop = new AbortController();
  #session: SshSession | undefined;
  #status: HostStatus;
  readonly #waiters = new SessionWaiters();
  #running: Promise<void> | undefined;
  #everUp = false;
  #wake: AbortController | undefined;
  #closing: Promise<void> | undefined;

  constructor(spec: HostSpec, jump: HostConnection | undefined) {
    super();
    this.spec = spec;
    this.#route = { spec, jump };
    this.#status = {
      name: spec.name,
      state: 'connecting',
      lastError: undefined,
      retryAt: undefined,
      reconnects: 0,
    };
  }

  get status(): HostStatus {
    return this.#status;
  }

  /** The live session, if there is one right now. */
  get session(): SshSession | undefined {
    return this.#session?.alive ? this.#session : undefined;
  }

  /** Starts the connect/reconnect loop (idempotent). */
  start(): void {
    if (this.#closing) return;
    this.#running ??= this.#run();
  }

  /**
   * The live session, or the next one within `waitMs`. Rejects with TRANSPORT_CLOSED when none
   * comes in time, with the fatal error of a failed host, or with `signal`'s reason.
   */
  acquire(waitMs: number, signal?: AbortSignal): Promise<SshSession> {
    this.start();
    const live = this.session;
    if (live) return Promise.resolve(live);
    if (this.#status.state === 'failed' && this.#status.lastError)
      return Promise.reject(this.#status.lastError);
    if (this.#status.state === 'closed' || this.#closing) {
      return Promise.reject(new FwdError('TRANSPORT_CLOSED', `connection to ${this.spec.name} is closed`));
    }
    return this.#waiters.wait(
      waitMs,
      () => {
        const why = this.#status.lastError ? `: ${this.#status.lastError.message}` : '';
        return new FwdError(
          'TRANSPORT_CLOSED',
          `no session to ${this.spec.name} within ${waitMs} ms (${this.#status.state}${why})`,
        );
      },
      signal,
      `waiting for ${this.spec.name}`,
    );
  }

  /** Checks the live session at once (after a sleep or network change); a dead one reconnects. */
  async probe(timeoutMs: number): Promise<void> {
    await this.session?.probe(timeoutMs);
  }

  /** Cuts a backoff wait short: after a sleep/wake, or when the caller knows the network is back. */
  retryNow(): void {
    this.#wake?.abort();
  }

  /** Ends the session and the loop. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#session?.close();
      this.#waiters.rejectAll(new FwdError('TRANSPORT_CLOSED', `connection to ${this.spec.name} is closed`));
      await this.#running;
      this.#setStatus({ state: 'closed', retryAt: undefined });
    })();
    return this.#closing;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    let attempt = 0;
    while (!stop.aborted) {
      let failure: FwdError | undefined;
      let answered = false;
      try {
        const session = await connectOnce(this.#route, stop, () => {
          answered = true;
        });
        attempt = 0;
        this.#session = session;
        const reconnects = this.#status.reconnects + (this.#everUp ? 1 : 0);
        this.#setStatus({ state: 'up', retryAt: undefined, reconnects });
        this.#everUp = true;
        this.emit('up', session);
        this.#waiters.resolveAll(session);
        failure = await session.closed;
        this.#session = undefined;
      } catch (err) {
        failure = asFwdError(err, 'CONNECT_FAILED');
      }
      if (stop.aborted) break;
      failure ??= new FwdError('TRANSPORT_CLOSED', `session to ${this.spec.name} ended`);
      // A certificate that ran out while fwd ran: nothing reached the server, and the next attempt
      // reads the files again, so it waits (without probing) for the renewal instead of failing.
      const awaitingRenewal = this.#everUp && failure instanceof CertificateUnusableError;
      if (failure.fatal && !awaitingRenewal) {
        this.#setStatus({ state: 'failed', lastError: failure, retryAt: undefined });
        this.#waiters.rejectAll(failure);
        return;
      }
      // A fresh connection was answered while this attempt hung: the server is back, go now.
      const delay = answered ? 0 : backoffDelay(attempt++, this.spec.reconnect ?? DEFAULTS.reconnect);
      this.#setStatus({
        state: this.#everUp ? 'reconnecting' : 'connecting',
        lastError: failure,
        retryAt: Date.now() + delay,
      });
      this.#wake = new AbortController();
      await waitBeforeRetry(this.#route, delay, stop, this.#wake, !awaitingRenewal);
    }
  }

  #setStatus(change: Partial<Omit<HostStatus, 'name'>>): void {
    this.#status = { ...this.#status, ...change };
    this.emit('status', this.#status);
  }
}
