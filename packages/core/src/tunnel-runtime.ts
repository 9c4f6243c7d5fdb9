import { EventEmitter } from 'node:events';
import { backoffDelay, DEFAULT_BACKOFF, pause } from './backoff.js';
import { type BindAddress, type ForwardTarget, formatEndpoint, type TcpAddress } from './endpoints.js';
import { FwdError } from './errors.js';
import type { HostConnection } from './host-connection.js';
import { type ForwardStats, ListeningForward } from './listening-forward.js';
import { checkReadyOnce, type ReadyCheck } from './ready-check.js';
import type { RemoteForward } from './remote-forward.js';
import { socksNegotiator } from './socks-negotiator.js';
import type { SshSession } from './ssh-session.js';
import type { TunnelEnd, TunnelGate } from './tunnel-gate.js';

/** One forward of a tunnel, as `-L`, `-R` and `-D` describe them. */
export type ForwardSpec =
  | { readonly kind: 'local'; readonly bind: BindAddress; readonly target: ForwardTarget }
  | { readonly kind: 'remote'; readonly bind: BindAddress; readonly target: ForwardTarget }
  | { readonly kind: 'dynamic'; readonly bind: BindAddress };

export interface TunnelSpec {
  name: string;
  /** The HostSpec name whose session carries this tunnel. */
  host: string;
  /** The forwards; ignored when a gate supplies them once it opens. */
  forwards: readonly ForwardSpec[];
  /** Something to wait for before forwarding (a Slurm job); see TunnelGate. */
  gate?: TunnelGate;
  /** Up only once the first local forward's target answers through the tunnel. */
  ready?: ReadyCheck;
}

export type TunnelState = 'connecting' | 'waiting' | 'up' | 'reconnecting' | 'failed' | 'ended' | 'stopped';

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
  /** What it is waiting for, or where it runs: "job 4242 pending (Priority)", "job 4242 on node1". */
  readonly detail: string | undefined;
  readonly forwards: readonly ForwardStatus[];
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
  /** Set once the tunnel ended for good (its job finished). */
  readonly ended: TunnelEnd | undefined;
  /** When the state last changed (epoch ms). */
  readonly since: number;
  readonly reconnects: number;
}

/**
 * The live side of one tunnel: its listeners stay bound for the whole run, whatever the
 * session does; remote forwards are requested again on every new session. A gate may hold the
 * tunnel in `waiting` until its targets are known, and end it for good later.
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
  #route: HostConnection;
  #forwards: readonly ForwardSpec[] | undefined;
  #detail: string | undefined;
  /** The gate's latest line: what the detail goes back to once a ready check stops talking. */
  #gateDetail: string | undefined;
  #bound: (() => void) | undefined;
  readonly #listening: Promise<readonly ForwardStatus[]>;
  #readyPending = false;
  #ended: TunnelEnd | undefined;
  #ownError: FwdError | undefined;
  #remoteError: FwdError | undefined;
  #state: TunnelState = 'connecting';
  #since = Date.now();
  #lastReported = '';
  #closing: Promise<void> | undefined;

  constructor(spec: TunnelSpec, host: HostConnection, outageWaitMs: number) {
    super();
    this.spec = spec;
    this.#host = host;
    this.#route = host;
    this.#outageWaitMs = outageWaitMs;
    this.#listening = new Promise((resolve) => {
      this.#bound = () => resolve(this.#forwardStatuses());
    });
  }

  /** Binds listeners now (ungated) or once the gate opens; a failure fails only this tunnel. */
  async start(): Promise<void> {
    this.#host.on('status', () => this.#update());
    this.#host.start();
    if (this.spec.gate) {
      void this.#runGate(this.spec.gate);
      this.#update();
      return;
    }
    await this.#openForwards(this.spec.forwards);
    this.#update();
  }

  status(): TunnelStatus {
    const stats = emptyStats();
    const live = [...this.#listeners.values(), ...this.#remotes.values()].map((f) => f.stats);
    for (const s of [this.#retired, ...live]) addStats(stats, s);
    const error =
      this.#ownError ?? this.#remoteError ?? this.#route.status.lastError ?? this.#host.status.lastError;
    return {
      name: this.spec.name,
      host: this.spec.host,
      state: this.#state,
      detail: this.#detail,
      forwards: this.#forwardStatuses(),
      lastError: error ? { code: error.code, message: error.message } : undefined,
      ended: this.#ended,
      since: this.#since,
      reconnects: this.#route.status.reconnects,
      ...stats,
    };
  }

  /** Stops accepting, ends every connection, cancels remote listens, closes the gate. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#closeForwards();
      await this.spec.gate?.close?.().catch(() => undefined);
      this.#update();
    })();
    return this.#closing;
  }

  async #runGate(gate: TunnelGate): Promise<void> {
    const signal = this.#stop.signal;
    try {
      const open = await gate.open({
        acquire: (s) => this.#host.acquire(Number.POSITIVE_INFINITY, s ?? signal),
        signal,
        progress: (detail) => {
          this.#gateDetail = detail;
          this.#detail = detail;
          this.#update();
        },
        listening: () => this.#listening,
      });
      if (signal.aborted) return;
      if (open.via) {
        this.#route = open.via;
        open.via.on('status', () => this.#update());
        open.via.start();
      }
      if (open.detail !== undefined) this.#gateDetail = open.detail;
      this.#detail = this.#gateDetail;
      await this.#openForwards(open.forwards);
      this.#update();
      const end = await Promise.race([open.ended, abortedPromise(signal)]);
      if (end === undefined || signal.aborted) return;
      this.#ended = end;
      this.#detail = end.reason;
      await this.#closeForwards();
    } catch (err) {
      if (!signal.aborted) this.#ownError = asFwdError(err);
    }
    this.#update();
  }

  async #openForwards(forwards: readonly ForwardSpec[]): Promise<void> {
    this.#forwards = forwards;
    const opener = (target: ForwardTarget, origin: TcpAddress) =>
      this.#route.acquire(this.#outageWaitMs).then((s) => s.openChannel(target, origin));
    const bound = await Promise.allSettled(
      forwards.map((f) => {
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
    if (this.#ownError || this.#stop.signal.aborted) {
      await this.#closeForwards();
      return;
    }
    this.#route.on('up', (session) => void this.#openRemotes(session));
    const live = this.#route.session;
    if (live) void this.#openRemotes(live);
    this.#bound?.();
    if (this.spec.ready) void this.#waitReady(this.spec.ready, forwards);
  }

  async #closeForwards(): Promise<void> {
    await Promise.all([...this.#listeners.values(), ...this.#remotes.values()].map((f) => f.close()));
  }

  async #waitReady(check: ReadyCheck, forwards: readonly ForwardSpec[]): Promise<void> {
    const first = forwards.find((f) => f.kind === 'local');
    if (!first) return;
    const what = formatEndpoint(first.target);
    const how = check.kind === 'http' ? `HTTP ${check.path}` : 'a TCP connection';
    const signal = this.#stop.signal;
    this.#readyPending = true;
    const before = this.#detail;
    let shown: string | undefined;
    for (let attempt = 0; !signal.aborted && this.#ended === undefined; attempt++) {
      try {
        const session = await this.#route.acquire(Number.POSITIVE_INFINITY, signal);
        await checkReadyOnce(() => session.openChannel(first.target), check, what);
        break;
      } catch (err) {
        shown = `waiting for ${what} to answer ${how} (${err instanceof Error ? err.message : String(err)})`;
        this.#detail = shown;
        this.#update();
        await pause(backoffDelay(attempt, { initialMs: 250, maxMs: 5_000 }), signal);
      }
    }
    this.#readyPending = false;
    // Put back the gate's latest line (it may have moved on meanwhile, e.g. to the app's URL).
    if (shown === undefined || this.#detail === shown) this.#detail = this.#gateDetail ?? before;
    this.#update();
  }

  #forwardStatuses(): ForwardStatus[] {
    return (this.#forwards ?? this.spec.forwards).map((f, index): ForwardStatus => {
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
    const remotes = (this.#forwards ?? []).flatMap((f, index) => (f.kind === 'remote' ? [{ f, index }] : []));
    let attempt = 0;
    while (remotes.length > 0 && session.alive && !this.#stop.signal.aborted && this.#ended === undefined) {
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
        if (this.#stop.signal.aborted || this.#ended) {
          void forward.close();
          continue;
        }
        this.#remotes.set(index, forward);
        this.#remoteListen.set(index, `${formatEndpoint(forward.remote)} (server)`);
        void forward.closed.then(() => {
          this.#remotes.delete(index);
          addStats(this.#retired, { ...forward.stats, connectionsOpen: 0 });
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
    if (this.#ended) return 'ended';
    if (this.#stop.signal.aborted) return 'stopped';
    if (this.#ownError) return 'failed';
    if (this.#host.status.state === 'failed') return 'failed';
    if (this.#forwards === undefined) {
      // A local host has no session: it is up as soon as it starts, and its tunnels wait on their gate.
      return this.#host.session || this.#host.spec.local ? 'waiting' : hostState(this.#host);
    }
    const route = hostState(this.#route);
    if (route !== 'up') return route;
    const remotesWanted = this.#forwards.filter((f) => f.kind === 'remote').length;
    if (this.#remotes.size < remotesWanted) return this.#remoteError ? 'reconnecting' : 'connecting';
    return this.#readyPending ? 'waiting' : 'up';
  }

  /** Emits only when something a user would see changed: state, detail, error, addresses. */
  #report(): void {
    const status = this.status();
    const key = JSON.stringify([status.state, status.detail, status.lastError, status.forwards]);
    if (key === this.#lastReported) return;
    this.#lastReported = key;
    this.emit('status', status);
  }
}

function hostState(host: HostConnection): TunnelState {
  const state = host.status.state;
  return state === 'closed' ? 'stopped' : state;
}

function abortedPromise(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
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
  into.connectionsOpen += from.connectionsOpen;
  into.connectionsTotal += from.connectionsTotal;
  into.connectionErrors += from.connectionErrors;
}

function asFwdError(err: unknown): FwdError {
  return err instanceof FwdError ? err : new FwdError('CONNECT_FAILED', String(err), { cause: err });
}
