import { EventEmitter } from 'node:events';
import { FwdError } from './errors.js';
import { HostConnection, type HostSpec, type HostStatus } from './host-connection.js';
import { SleepWatch } from './sleep-watch.js';
import type { TunnelNotice } from './tunnel-gate.js';
import { TunnelRuntime, type TunnelSpec } from './tunnel-runtime.js';
import type { TunnelStatus } from './tunnel-status.js';

export interface SupervisorSpec {
  hosts: readonly HostSpec[];
  tunnels: readonly TunnelSpec[];
}

export interface SupervisorOptions {
  /** Aborting stops everything, like close(). */
  signal?: AbortSignal;
  /** Period of `stats` events; 0 turns them off. Default 0. */
  statsIntervalMs?: number;
  /** An event-loop gap longer than this (laptop sleep, VM pause) triggers an immediate probe. Default 5 s. */
  sleepGapMs?: number;
}

export interface SupervisorEvents {
  /** A tunnel's state, error, addresses or facts changed. */
  tunnel: [TunnelStatus];
  /** A host's connection changed state. */
  host: [HostStatus];
  /** Something to tell the user once: a gate's warning, connections closed while waiting. */
  notice: [TunnelNotice];
  /** Periodic figures for every tunnel (see `statsIntervalMs`). */
  stats: [TunnelStatus[]];
  /** Every tunnel's first attempt has ended (up, failed, or retrying with an error to show). */
  settled: [TunnelStatus[]];
}

/**
 * Runs a set of tunnels over one SSH connection per host, reconnecting forever (except on
 * auth and host-key failures) and keeping local listeners bound through outages.
 *
 * @example
 * await using tunnels = await openTunnels(spec, { signal });
 * tunnels.on('tunnel', (s) => console.log(s.name, s.state));
 */
export class Supervisor extends EventEmitter<SupervisorEvents> implements AsyncDisposable {
  readonly closed: Promise<void>;
  #specs = new Map<string, HostSpec>();
  readonly #hosts = new Map<string, HostConnection>();
  #tunnels: TunnelRuntime[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #sleep: SleepWatch;
  #resolveClosed!: () => void;
  #closing: Promise<void> | undefined;
  #settled = false;

  /** @internal Use {@link openTunnels}. */
  constructor(spec: SupervisorSpec, options: SupervisorOptions) {
    super();
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#specs = new Map(spec.hosts.map((h) => [h.name, h]));
    this.#tunnels = spec.tunnels.map((t) => this.#tunnel(t));
    if (options.statsIntervalMs) {
      const timer = setInterval(() => this.emit('stats', this.snapshot()), options.statsIntervalMs);
      timer.unref();
      this.#timers.push(timer);
    }
    // Timers stall while a laptop sleeps: sessions may be dead without knowing it.
    this.#sleep = new SleepWatch(options.sleepGapMs ?? 5_000, () => {
      for (const host of this.#hosts.values()) {
        void host.probe(PROBE_TIMEOUT_MS);
        host.retryNow();
      }
    });
  }

  /** @internal */
  async start(): Promise<void> {
    await Promise.all(this.#tunnels.map((t) => t.start()));
    this.#checkSettled();
  }

  /** Every tunnel's current status, in spec order. */
  snapshot(): TunnelStatus[] {
    return this.#tunnels.map((t) => t.status());
  }

  hosts(): HostStatus[] {
    return [...this.#hosts.values()].map((h) => h.status);
  }

  /** Resolves once every tunnel's first attempt has ended (see the `settled` event). */
  settled(): Promise<TunnelStatus[]> {
    if (this.#settled) return Promise.resolve(this.snapshot());
    return new Promise((resolve) => this.once('settled', resolve));
  }

  /**
   * Runs `spec` from now on, touching only what changed: tunnels new in it start, tunnels no
   * longer in it stop, and what `restart` names stops and starts anew — tunnels by name, and
   * hosts (a new connection with the new spec; every tunnel over it, directly or through a jump
   * chain, restarts too). Everything else, open connections included, goes on untouched. Hosts no
   * tunnel uses any more are closed. Resolves once new listeners are bound.
   */
  async apply(
    spec: SupervisorSpec,
    restart: { tunnels?: ReadonlySet<string>; hosts?: ReadonlySet<string> } = {},
  ): Promise<void> {
    if (this.#closing) throw new FwdError('ABORTED', 'the supervisor is closed');
    this.#specs = new Map(spec.hosts.map((h) => [h.name, h]));
    const hosts = new Set(restart.hosts ?? []);
    const dependsOnRestarted = (name: string | undefined): boolean =>
      name !== undefined && (hosts.has(name) || dependsOnRestarted(this.#hosts.get(name)?.spec.via));
    const wanted = new Set(spec.tunnels.map((t) => t.name));
    const keep = new Map(
      this.#tunnels
        .filter(
          (t) =>
            wanted.has(t.spec.name) && !restart.tunnels?.has(t.spec.name) && !dependsOnRestarted(t.spec.host),
        )
        .map((t) => [t.spec.name, t]),
    );
    await Promise.all(this.#tunnels.filter((t) => !keep.has(t.spec.name)).map((t) => t.close()));
    const stale = [...this.#hosts].filter(([name]) => dependsOnRestarted(name));
    for (const [name] of stale) this.#hosts.delete(name);
    await Promise.all(stale.map(([, host]) => host.close()));
    const started: TunnelRuntime[] = [];
    this.#tunnels = spec.tunnels.map((t) => {
      const running = keep.get(t.name);
      if (running) return running;
      const tunnel = this.#tunnel(t);
      started.push(tunnel);
      return tunnel;
    });
    await Promise.all(started.map((t) => t.start()));
    await this.#closeUnusedHosts();
  }

  /** Stop accepting, end channels, end sessions. Idempotent; resolves when all is closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      this.#sleep.close();
      await Promise.all(this.#tunnels.map((t) => t.close()));
      await Promise.all([...this.#hosts.values()].map((h) => h.close()));
      this.#resolveClosed();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #tunnel(spec: TunnelSpec): TunnelRuntime {
    // A gated tunnel may run without a host session of its own (its gate brings the route).
    const host = this.#specs.has(spec.host) || !spec.gate ? this.#hostFor(spec.host, []) : undefined;
    const tunnel = new TunnelRuntime(spec, host);
    tunnel.on('status', (status) => {
      this.emit('tunnel', status);
      this.#checkSettled();
    });
    tunnel.on('notice', (notice) => this.emit('notice', notice));
    return tunnel;
  }

  #hostFor(name: string, trail: readonly string[]): HostConnection {
    const existing = this.#hosts.get(name);
    if (existing) return existing;
    const spec = this.#specs.get(name);
    if (!spec) throw new FwdError('CONFIG_INVALID', `no host named "${name}"`);
    if (trail.includes(name))
      throw new FwdError('CONFIG_INVALID', `jump cycle: ${[...trail, name].join(' → ')}`);
    const jump = spec.via === undefined ? undefined : this.#hostFor(spec.via, [...trail, name]);
    const connection = new HostConnection(spec, jump);
    connection.on('status', (status) => this.emit('host', status));
    this.#hosts.set(name, connection);
    return connection;
  }

  /** Closes host connections that no tunnel (nor any jump chain of one) uses any more. */
  async #closeUnusedHosts(): Promise<void> {
    const used = new Set<string>();
    const mark = (name: string | undefined): void => {
      if (name === undefined || used.has(name) || !this.#hosts.has(name)) return;
      used.add(name);
      mark(this.#specs.get(name)?.via);
    };
    for (const t of this.#tunnels) mark(t.spec.host);
    const unused = [...this.#hosts].filter(([name]) => !used.has(name));
    for (const [name] of unused) this.#hosts.delete(name);
    await Promise.all(unused.map(([, host]) => host.close()));
  }

  #checkSettled(): void {
    if (this.#settled) return;
    const snapshot = this.snapshot();
    // A first attempt that failed counts: the user should see that error, not wait for the retry.
    if (snapshot.some((t) => t.state === 'connecting' && t.lastError === undefined)) return;
    this.#settled = true;
    this.emit('settled', snapshot);
  }
}

const PROBE_TIMEOUT_MS = 5_000;

/**
 * Opens every tunnel of `spec`: listeners are bound when this resolves (a taken port fails
 * only its tunnel), sessions connect in the background; watch `tunnel` events or `settled()`.
 */
export async function openTunnels(
  spec: SupervisorSpec,
  options: SupervisorOptions = {},
): Promise<Supervisor> {
  const supervisor = new Supervisor(spec, options);
  const signal = options.signal;
  if (signal) {
    if (signal.aborted) {
      await supervisor.close();
      return supervisor;
    }
    const onAbort = (): void => void supervisor.close();
    signal.addEventListener('abort', onAbort, { once: true });
    void supervisor.closed.then(() => signal.removeEventListener('abort', onAbort));
  }
  await supervisor.start();
  return supervisor;
}
