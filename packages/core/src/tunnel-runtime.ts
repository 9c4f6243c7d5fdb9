import { EventEmitter } from 'node:events';
import { backoffDelay, DEFAULT_BACKOFF, pause } from './backoff.js';
import { type BindAddress, type ForwardTarget, formatEndpoint } from './endpoints.js';
import { FwdError } from './errors.js';
import type { HostConnection } from './host-connection.js';
import { type ForwardStats, ListeningForward } from './listening-forward.js';
import type { RemoteForward } from './remote-forward.js';
import { socksNegotiator } from './socks-negotiator.js';
import type { SshSession } from './ssh-session.js';

/** One forward of a tunnel, as `-L`, `-R` and `-D` describe them. */
export type ForwardSpec =
  | { readonly kind: 'local'; readonly bind: BindAddress; readonly target: ForwardTarget }
  | { readonly kind: 'remote'; readonly bind: BindAddress; readonly target: ForwardTarget }
  | { readonly kind: 'dynamic'; readonly bind: BindAddress };

export interface TunnelSpec {
  name: string;
  /** The HostSpec name whose session carries this tunnel. */
  host: string;
  forwards: readonly ForwardSpec[];
}

export type TunnelState = 'connecting' | 'up' | 'reconnecting' | 'failed' | 'stopped';

/** A forward as it is now: where connections come in, and where they go. */
export interface ForwardStatus {
  readonly kind: ForwardSpec['kind'];
  /** Local address bound (local, dynamic) or the server's listening address with its real port (remote). */
  readonly listen: string;
  /** "localhost:8888", "/run/app.sock", "SOCKS" for dynamic. */
  readonly target: string;
}

export interface TunnelStatus extends ForwardStats {
  readonly name: string;
  readonly host: string;
  readonly state: TunnelState;
  readonly forwards: readonly ForwardStatus[];
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  /** When the state last changed (epoch ms). */
  readonly since: number;
  readonly reconnects: number;
}

/**
 * The live side of one tunnel: its listeners stay bound for the whole run, whatever the
 * session does; remote forwards are requested again on every new session.
 */
export class TunnelRuntime extends EventEmitter<{ status: [TunnelStatus] }> {
  readonly spec: TunnelSpec;
  readonly #host: HostConnection;
  readonly #outageWaitMs: number;
  readonly #listeners = new Map<number, ListeningForward>();
  readonly #remotes = new Map<number, RemoteForward>();
  readonly #remoteListen = new Map<number, string>();
  readonly #retired: ForwardStats = emptyStats();
  readonly #stop = new AbortController();
  #ownError: FwdError | undefined;
  #remoteError: FwdError | undefined;
  #state: TunnelState = 'connecting';
  #since = Date.now();
  #lastReported = '';

  constructor(spec: TunnelSpec, host: HostConnection, outageWaitMs: number) {
    super();
    this.spec = spec;
    this.#host = host;
    this.#outageWaitMs = outageWaitMs;
  }

  /** Binds local listeners (a failure fails only this tunnel), then follows the host's session. */
  async start(): Promise<void> {
    const opener = (target: ForwardTarget, origin: { host: string; port: number }) =>
      this.#host.acquire(this.#outageWaitMs).then((s) => s.openChannel(target, origin));
    const bound = await Promise.allSettled(
      this.spec.forwards.map((f) => {
        if (f.kind === 'local') {
          const target = f.target;
          return ListeningForward.listen(opener, { target: async () => target }, { bind: f.bind });
        }
        if (f.kind === 'dynamic') return ListeningForward.listen(opener, socksNegotiator(), { bind: f.bind });
        return Promise.resolve(undefined);
      }),
    );
    bound.forEach((result, index) => {
      if (result.status === 'fulfilled' && result.value) this.#listeners.set(index, result.value);
      else if (result.status === 'rejected') this.#ownError ??= asFwdError(result.reason);
    });
    if (this.#ownError) {
      await Promise.all([...this.#listeners.values()].map((l) => l.close()));
      this.#update();
      return;
    }
    this.#host.on('status', () => this.#update());
    this.#host.on('up', (session) => void this.#openRemotes(session));
    const live = this.#host.session;
    if (live) void this.#openRemotes(live);
    this.#host.start();
    this.#update();
  }

  status(): TunnelStatus {
    const stats = emptyStats();
    for (const s of [
      this.#retired,
      ...[...this.#listeners.values()].map((l) => l.stats),
      ...[...this.#remotes.values()].map((r) => r.stats),
    ]) {
      stats.bytesToRemote += s.bytesToRemote;
      stats.bytesFromRemote += s.bytesFromRemote;
      stats.connectionsOpen += s.connectionsOpen;
      stats.connectionsTotal += s.connectionsTotal;
      stats.connectionErrors += s.connectionErrors;
    }
    const error = this.#ownError ?? this.#remoteError ?? this.#host.status.lastError;
    return {
      name: this.spec.name,
      host: this.spec.host,
      state: this.#state,
      forwards: this.#forwardStatuses(),
      lastError: error ? { code: error.code, message: error.message } : undefined,
      since: this.#since,
      reconnects: this.#host.status.reconnects,
      ...stats,
    };
  }

  /** Stops accepting, ends every connection, cancels remote listens. Idempotent. */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return;
    this.#stop.abort();
    await Promise.all([
      ...[...this.#listeners.values()].map((l) => l.close()),
      ...[...this.#remotes.values()].map((r) => r.close()),
    ]);
    this.#state = 'stopped';
    this.#since = Date.now();
    this.#report();
  }

  #forwardStatuses(): ForwardStatus[] {
    return this.spec.forwards.map((f, index): ForwardStatus => {
      if (f.kind === 'remote') {
        const listen =
          this.#remoteListen.get(index) ?? `${formatEndpoint({ host: 'localhost', ...f.bind })} (server)`;
        return { kind: f.kind, listen, target: formatEndpoint(f.target) };
      }
      const bound = this.#listeners.get(index);
      const listen = bound ? formatEndpoint(bound.address) : formatEndpoint(f.bind);
      return { kind: f.kind, listen, target: f.kind === 'local' ? formatEndpoint(f.target) : 'SOCKS' };
    });
  }

  async #openRemotes(session: SshSession): Promise<void> {
    const remotes = this.spec.forwards.flatMap((f, index) => (f.kind === 'remote' ? [{ f, index }] : []));
    let attempt = 0;
    while (remotes.length > 0 && session.alive && !this.#stop.signal.aborted) {
      const pending = remotes.filter(({ index }) => !this.#remotes.has(index));
      if (pending.length === 0) break;
      const results = await Promise.allSettled(
        pending.map(({ f }) => session.forwardRemote({ bind: f.bind, target: f.target })),
      );
      for (const [i, result] of results.entries()) {
        const index = pending[i]?.index;
        if (index === undefined) continue;
        if (result.status === 'rejected') {
          this.#remoteError = asFwdError(result.reason);
          continue;
        }
        const forward = result.value;
        if (this.#stop.signal.aborted) {
          void forward.close();
          continue;
        }
        this.#remotes.set(index, forward);
        this.#remoteListen.set(index, `${formatEndpoint(forward.remote)} (server)`);
        void forward.closed.then(() => {
          this.#remotes.delete(index);
          addStats(this.#retired, forward.stats);
          this.#update();
        });
      }
      if (results.every((r) => r.status === 'fulfilled')) this.#remoteError = undefined;
      this.#update();
      if (this.#remoteError) {
        // The old session's listener may linger on the server until it notices we are gone: retry.
        await pause(backoffDelay(attempt++, DEFAULT_BACKOFF), this.#stop.signal);
      }
    }
  }

  #update(): void {
    const next = this.#deriveState();
    if (next !== this.#state) {
      this.#state = next;
      this.#since = Date.now();
    }
    this.#report();
  }

  #deriveState(): TunnelState {
    if (this.#stop.signal.aborted) return 'stopped';
    if (this.#ownError) return 'failed';
    switch (this.#host.status.state) {
      case 'connecting':
        return 'connecting';
      case 'reconnecting':
        return 'reconnecting';
      case 'failed':
        return 'failed';
      case 'closed':
        return 'stopped';
      case 'up': {
        const remotesWanted = this.spec.forwards.filter((f) => f.kind === 'remote').length;
        if (this.#remotes.size === remotesWanted) return 'up';
        return this.#remoteError ? 'reconnecting' : 'connecting';
      }
    }
  }

  /** Emits only when something a user would see changed: state, error, addresses. */
  #report(): void {
    const status = this.status();
    const key = JSON.stringify([status.state, status.lastError, status.forwards]);
    if (key === this.#lastReported) return;
    this.#lastReported = key;
    this.emit('status', status);
  }
}

function emptyStats(): ForwardStats {
  return {
    bytesToRemote: 0,
    bytesFromRemote: 0,
    connectionsOpen: 0,
    connectionsTotal: 0,
    connectionErrors: 0,
  };
}

function addStats(into: ForwardStats, from: ForwardStats): void {
  into.bytesToRemote += from.bytesToRemote;
  into.bytesFromRemote += from.bytesFromRemote;
  into.connectionsTotal += from.connectionsTotal;
  into.connectionErrors += from.connectionErrors;
}

function asFwdError(err: unknown): FwdError {
  return err instanceof FwdError ? err : new FwdError('CONNECT_FAILED', String(err), { cause: err });
}
