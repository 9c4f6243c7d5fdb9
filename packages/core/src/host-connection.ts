import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF, pause } from './backoff.js';
import { type ConnectOptions, connect } from './connect.js';
import { formatEndpoint, type TcpAddress } from './endpoints.js';
import { abortError, FwdError } from './errors.js';
import type { SshSession } from './ssh-session.js';
import { tcpTransport } from './tcp-transport.js';
import type { Transport } from './transport.js';

/** One SSH server the supervisor keeps a session to. */
export interface HostSpec {
  name: string;
  /** The SSH server, as known_hosts names it; also the TCP address unless `via`/`transport` say otherwise. */
  address: TcpAddress;
  /** Reach it through a session to this other host (ProxyJump); chains are hosts with `via`. */
  via?: string;
  /** A custom first hop (e.g. a websocket relay); ignored when `via` is set. */
  transport?: Transport;
  /** Everything else connect() takes: user, keys, agent, host keys, keepalive, algorithms. */
  session: Omit<ConnectOptions, 'transport' | 'signal'>;
  reconnect?: BackoffOptions;
  /**
   * This machine itself: no SSH session is kept (the host is `up` at once and `acquire` rejects).
   * Its tunnels need a gate whose `via` carries their channels (e.g. a session into a Slurm node).
   */
  local?: boolean;
}

// Probing is a TCP connect plus sshd's banner: cheap enough twice a second, and it bounds how
// long a returning server waits for us.
const REACHABILITY_PROBE_MS = 500;
const REACHABILITY_TIMEOUT_MS = 1_000;

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
 */
export class HostConnection extends EventEmitter<HostConnectionEvents> {
  readonly spec: HostSpec;
  readonly #jump: HostConnection | undefined;
  readonly #stop = new AbortController();
  #session: SshSession | undefined;
  #status: HostStatus;
  #waiters = new Set<{ resolve: (s: SshSession) => void; reject: (e: FwdError) => void }>();
  #running: Promise<void> | undefined;
  #everUp = false;
  #wake: AbortController | undefined;

  constructor(spec: HostSpec, jump: HostConnection | undefined) {
    super();
    this.spec = spec;
    this.#jump = jump;
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

  /** Starts the connect/reconnect loop (idempotent). A local host is simply up. */
  start(): void {
    if (this.spec.local) {
      if (this.#status.state === 'connecting') this.#setStatus({ state: 'up' });
      return;
    }
    this.#running ??= this.#run();
  }

  /**
   * The live session, or the next one within `waitMs`. Rejects with TRANSPORT_CLOSED when none
   * comes in time, with the fatal error of a failed host, or with CONFIG_INVALID for a local host.
   */
  acquire(waitMs: number, signal?: AbortSignal): Promise<SshSession> {
    this.start();
    if (this.spec.local) {
      return Promise.reject(
        new FwdError('CONFIG_INVALID', `${this.spec.name} is this machine: there is no SSH session to it`),
      );
    }
    const live = this.session;
    if (live) return Promise.resolve(live);
    if (this.#status.state === 'failed' && this.#status.lastError)
      return Promise.reject(this.#status.lastError);
    if (this.#status.state === 'closed') {
      return Promise.reject(new FwdError('TRANSPORT_CLOSED', `connection to ${this.spec.name} is closed`));
    }
    return new Promise<SshSession>((resolve, reject) => {
      const waiter = {
        resolve: (s: SshSession) => {
          cleanup();
          resolve(s);
        },
        reject: (e: FwdError) => {
          cleanup();
          reject(e);
        },
      };
      const timer = Number.isFinite(waitMs)
        ? setTimeout(() => {
            const why = this.#status.lastError ? `: ${this.#status.lastError.message}` : '';
            waiter.reject(
              new FwdError(
                'TRANSPORT_CLOSED',
                `no session to ${this.spec.name} within ${waitMs} ms (${this.#status.state}${why})`,
              ),
            );
          }, waitMs)
        : undefined;
      const onAbort = (): void => waiter.reject(abortError(signal, `waiting for ${this.spec.name}`));
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Checks the live session at once (after a sleep or network change); a dead one reconnects. */
  async probe(timeoutMs: number): Promise<void> {
    await this.session?.probe(timeoutMs);
  }

  /** Ends the session and the loop. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#session?.close();
    this.#rejectWaiters(new FwdError('TRANSPORT_CLOSED', `connection to ${this.spec.name} is closed`));
    await this.#running;
    this.#setStatus({ state: 'closed', retryAt: undefined });
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    let attempt = 0;
    while (!stop.aborted) {
      let failure: FwdError | undefined;
      try {
        const session = await this.#connectOnce(stop);
        attempt = 0;
        this.#session = session;
        if (this.#everUp)
          this.#setStatus({ state: 'up', retryAt: undefined, reconnects: this.#status.reconnects + 1 });
        else this.#setStatus({ state: 'up', retryAt: undefined });
        this.#everUp = true;
        this.emit('up', session);
        for (const waiter of [...this.#waiters]) waiter.resolve(session);
        failure = await session.closed;
        this.#session = undefined;
      } catch (err) {
        failure = err instanceof FwdError ? err : new FwdError('CONNECT_FAILED', String(err), { cause: err });
      }
      if (stop.aborted) break;
      failure ??= new FwdError('TRANSPORT_CLOSED', `session to ${this.spec.name} ended`);
      if (failure.fatal) {
        this.#setStatus({ state: 'failed', lastError: failure, retryAt: undefined });
        this.#rejectWaiters(failure);
        return;
      }
      const delay = backoffDelay(attempt++, this.spec.reconnect ?? DEFAULT_BACKOFF);
      this.#setStatus({
        state: this.#everUp ? 'reconnecting' : 'connecting',
        lastError: failure,
        retryAt: Date.now() + delay,
      });
      await this.#waitBeforeRetry(delay, stop);
    }
  }

  /** Cuts a backoff wait short: after a sleep/wake, or when the caller knows the network is back. */
  retryNow(): void {
    this.#wake?.abort();
  }

  /**
   * Waits out the backoff, but polls reachability meanwhile (a bare transport connect, no SSH):
   * a server that answers again is retried at once instead of up to `maxMs` later.
   */
  async #waitBeforeRetry(delayMs: number, stop: AbortSignal): Promise<void> {
    const wake = new AbortController();
    this.#wake = wake;
    const signal = AbortSignal.any([stop, wake.signal]);
    const probing = delayMs > REACHABILITY_PROBE_MS ? this.#probeUntilReachable(signal, wake) : undefined;
    await pause(delayMs, signal);
    wake.abort();
    await probing;
  }

  async #probeUntilReachable(signal: AbortSignal, wake: AbortController): Promise<void> {
    while (!signal.aborted) {
      await pause(REACHABILITY_PROBE_MS, signal);
      const transport = this.#transportNow();
      if (signal.aborted || !transport) continue;
      const probeSignal = AbortSignal.any([signal, AbortSignal.timeout(REACHABILITY_TIMEOUT_MS)]);
      try {
        const stream = await transport.connect(probeSignal);
        // A proxy, relay or frozen host may accept TCP; only sshd's banner proves it is back.
        const banner = await firstChunk(stream, probeSignal);
        stream.destroy();
        if (banner?.toString('latin1').startsWith('SSH-')) wake.abort();
      } catch {
        // Still unreachable; keep waiting.
      }
    }
  }

  /** The transport to use right now; undefined while the jump host has no live session. */
  #transportNow(): Transport | undefined {
    if (this.#jump) return this.#jump.session?.transportTo(this.spec.address);
    return (
      this.spec.transport ?? tcpTransport({ host: this.spec.address.host, port: this.spec.address.port })
    );
  }

  async #connectOnce(signal: AbortSignal): Promise<SshSession> {
    let transport =
      this.spec.transport ?? tcpTransport({ host: this.spec.address.host, port: this.spec.address.port });
    if (this.#jump) {
      const jumpSession = await this.#jump.acquire(Number.POSITIVE_INFINITY, signal);
      transport = jumpSession.transportTo(this.spec.address);
    }
    try {
      return await connect({ ...this.spec.session, transport, signal });
    } catch (err) {
      if (err instanceof FwdError && this.#jump && err.code === 'CHANNEL_REFUSED') {
        // The jump host could not reach us: say which hop, the raw message names only the channel.
        throw new FwdError(
          'CONNECT_FAILED',
          `${this.#jump.spec.name} cannot reach ${formatEndpoint(this.spec.address)}: ${err.message}`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  #rejectWaiters(error: FwdError): void {
    for (const waiter of [...this.#waiters]) waiter.reject(error);
  }

  #setStatus(change: Partial<Omit<HostStatus, 'name'>>): void {
    this.#status = { ...this.#status, ...change };
    this.emit('status', this.#status);
  }
}

function firstChunk(stream: Duplex, signal: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const done = (chunk?: Buffer): void => {
      stream.off('data', done);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      signal.removeEventListener('abort', onEnd);
      resolve(chunk);
    };
    const onEnd = (): void => done(undefined);
    stream.on('data', done);
    stream.once('end', onEnd);
    stream.once('error', onEnd);
    signal.addEventListener('abort', onEnd, { once: true });
  });
}
