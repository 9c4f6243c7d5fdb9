import { EventEmitter } from 'node:events';
import { FwdError } from './errors.js';
import { HostConnection, type HostSpec, type HostStatus } from './host-connection.js';
import { TunnelRuntime, type TunnelSpec, type TunnelStatus } from './tunnel-runtime.js';

export interface SupervisorSpec {
  hosts: readonly HostSpec[];
  tunnels: readonly TunnelSpec[];
}

export interface SupervisorOptions {
  /** Aborting stops everything, like close(). */
  signal?: AbortSignal;
  /** How long a new connection waits for a lost session to come back before it is closed. Default 10 s. */
  outageWaitMs?: number;
  /** Period of `stats` events; 0 turns them off. Default 0. */
  statsIntervalMs?: number;
  /** An event-loop gap longer than this (laptop sleep, VM pause) triggers an immediate probe. Default 5 s. */
  sleepGapMs?: number;
}

export interface SupervisorEvents {
  /** A tunnel's state, error or addresses changed. */
  tunnel: [TunnelStatus];
  /** A host's connection changed state. */
  host: [HostStatus];
  /** Periodic figures for every tunnel (see `statsIntervalMs`). */
  stats: [TunnelStatus[]];
  /** Every tunnel's first attempt has ended (up, failed, or retrying with an error to show). */
  settled: [TunnelStatus[]];
}

const PROBE_TIMEOUT_MS = 5_000;

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
  readonly #hosts = new Map<string, HostConnection>();
  readonly #tunnels: TunnelRuntime[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #resolveClosed!: () => void;
  #closing: Promise<void> | undefined;
  #settled = false;

  /** @internal Use {@link openTunnels}. */
  constructor(spec: SupervisorSpec, options: SupervisorOptions) {
    super();
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    const specs = new Map(spec.hosts.map((h) => [h.name, h]));
    const hostFor = (name: string, trail: string[]): HostConnection => {
      const existing = this.#hosts.get(name);
      if (existing) return existing;
      const hostSpec = specs.get(name);
      if (!hostSpec) throw new FwdError('CONFIG_INVALID', `no host named "${name}"`);
      if (trail.includes(name))
        throw new FwdError('CONFIG_INVALID', `jump cycle: ${[...trail, name].join(' → ')}`);
      const jump = hostSpec.via === undefined ? undefined : hostFor(hostSpec.via, [...trail, name]);
      const connection = new HostConnection(hostSpec, jump);
      connection.on('status', (status) => this.emit('host', status));
      this.#hosts.set(name, connection);
      return connection;
    };
    for (const tunnelSpec of spec.tunnels) {
      const tunnel = new TunnelRuntime(
        tunnelSpec,
        hostFor(tunnelSpec.host, []),
        options.outageWaitMs ?? 10_000,
      );
      tunnel.on('status', (status) => {
        this.emit('tunnel', status);
        this.#checkSettled();
      });
      this.#tunnels.push(tunnel);
    }
    if (options.statsIntervalMs) {
      const timer = setInterval(() => this.emit('stats', this.snapshot()), options.statsIntervalMs);
      timer.unref();
      this.#timers.push(timer);
    }
    this.#watchForSleep(options.sleepGapMs ?? 5_000);
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

  /** Stop accepting, end channels, end sessions. Idempotent; resolves when all is closed. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      await Promise.all(this.#tunnels.map((t) => t.close()));
      await Promise.all([...this.#hosts.values()].map((h) => h.close()));
      this.#resolveClosed();
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkSettled(): void {
    if (this.#settled) return;
    const snapshot = this.snapshot();
    // A first attempt that failed counts: the user should see that error, not wait for the retry.
    if (snapshot.some((t) => t.state === 'connecting' && t.lastError === undefined)) return;
    this.#settled = true;
    this.emit('settled', snapshot);
  }

  /** Timers stall while a laptop sleeps: a late tick means sessions may be dead without knowing it. */
  #watchForSleep(gapMs: number): void {
    const tickMs = 1_000;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      if (now - last > tickMs + gapMs) {
        for (const host of this.#hosts.values()) {
          void host.probe(PROBE_TIMEOUT_MS);
          host.retryNow();
        }
      }
      last = now;
    }, tickMs);
    timer.unref();
    this.#timers.push(timer);
  }
}

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
    signal.addEventListener('abort', () => void supervisor.close(), { once: true });
  }
  await supervisor.start();
  return supervisor;
}
