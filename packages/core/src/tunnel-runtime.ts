import { EventEmitter } from 'node:events';
import { abortable } from './abortable.js';
import { ConnectionHold } from './connection-hold.js';
import { DEFAULTS } from './defaults.js';
import type { ForwardTarget, TcpAddress } from './endpoints.js';
import { asFwdError, FwdError } from './errors.js';
import { ForwardSlots } from './forward-slots.js';
import type { HostConnection } from './host-connection.js';
import { waitUntilReady } from './readiness.js';
import type { ReadyCheck } from './ready-check.js';
import { RemoteForwards } from './remote-forwards.js';
import type { GateContext, TunnelEnd, TunnelGate, TunnelNotice } from './tunnel-gate.js';
import {
  deriveTunnelState,
  type ForwardSpec,
  type ForwardStatus,
  forwardStatus,
  reportKey,
  sumStats,
  type TunnelFacts,
  type TunnelState,
  type TunnelStatus,
  tunnelDetail,
} from './tunnel-status.js';

export interface TunnelSpec {
  name: string;
  /**
   * The HostSpec whose session carries this tunnel. A gated tunnel may name a host that has no
   * HostSpec (e.g. this machine): its gate's `via` then carries the channels.
   */
  host: string;
  /**
   * The forwards. With a gate: the ones whose bind address is already final, bound at start so
   * early connections are held; the gate's `open` gives the complete list with targets.
   */
  forwards: readonly ForwardSpec[];
  /** Something to wait for before forwarding (a Slurm job); see TunnelGate. */
  gate?: TunnelGate;
  /** Up only once the first local forward's target answers through the tunnel. */
  ready?: ReadyCheck;
  /** How long a connection made before the tunnel is ready waits for it. Default DEFAULTS.holdMs. */
  holdMs?: number;
}

export interface TunnelEvents {
  status: [TunnelStatus];
  notice: [TunnelNotice];
}

/**
 * The live side of one tunnel: its listeners stay bound for the whole run, whatever the session
 * does, and hold connections until the tunnel is ready; remote forwards are requested again on
 * every new session. A gate may hold the tunnel in `waiting` until its targets are known, and
 * end it for good later.
 */
export class TunnelRuntime extends EventEmitter<TunnelEvents> {
  readonly spec: TunnelSpec;
  readonly #host: HostConnection | undefined;
  #route: HostConnection | undefined;
  readonly #slots: ForwardSlots;
  #opened = false;
  #remotes: RemoteForwards | undefined;
  readonly #hold: ConnectionHold;
  readonly #stop = new AbortController();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #listening: Promise<readonly ForwardStatus[]>;
  #resolveListening!: (forwards: readonly ForwardStatus[]) => void;
  #lines: { gate?: string | undefined; ready?: string | undefined } = {};
  #facts: TunnelFacts | undefined;
  #end: TunnelEnd | undefined;
  #ownError: FwdError | undefined;
  #awaitingReady = false;
  #reported: { state: TunnelState; since: number; key: string } = {
    state: 'connecting',
    since: Date.now(),
    key: '',
  };
  #closing: Promise<void> | undefined;

  constructor(spec: TunnelSpec, host: HostConnection | undefined) {
    super();
    this.spec = spec;
    this.#host = host;
    this.#route = host;
    const opener = (target: ForwardTarget, origin: TcpAddress, signal?: AbortSignal) =>
      this.#session(signal).then((s) => s.openChannel(target, origin, signal));
    this.#listening = new Promise((resolve) => {
      this.#resolveListening = resolve;
    });
    this.#hold = new ConnectionHold({
      holdMs: Math.min(spec.holdMs ?? DEFAULTS.holdMs, DEFAULTS.maxHoldMs),
      route: (signal) => this.#session(signal),
      routeLive: () => this.#route?.session !== undefined,
      waitingFor: () => this.status().detail ?? this.status().state,
      changed: () => this.#update(),
      dropped: (count, reason) =>
        this.#notice(
          'warn',
          `closed ${count} waiting connection${count === 1 ? '' : 's'}: ${reason.message}`,
        ),
    });
    this.#slots = new ForwardSlots(spec.forwards, opener, this.#hold.admit);
  }

  /** Binds listeners now (those a gate leaves to later, once it opens); a failure fails only this tunnel. */
  async start(): Promise<void> {
    if (this.#host) this.#follow(this.#host);
    const bindFailure = await this.#slots.bind();
    if (bindFailure) this.#fail(bindFailure);
    if (this.spec.gate && !this.#ownError) void this.#runGate(this.spec.gate);
    else if (!this.#ownError) this.#opened = true;
    if (this.#opened) this.#afterOpen();
    this.#update();
  }

  status(): TunnelStatus {
    const live = this.#slots.stats;
    const stats = sumStats(this.#remotes ? [this.#remotes.stats, ...live] : live);
    const error =
      this.#ownError ?? this.#remotes?.error ?? this.#route?.status.lastError ?? this.#host?.status.lastError;
    const route = this.#route?.status;
    return {
      name: this.spec.name,
      host: this.spec.host,
      state: this.#reported.state,
      detail: tunnelDetail({ end: this.#end, readyLine: this.#lines.ready, gateLine: this.#lines.gate }),
      forwards: this.#slots.forwards.map((f, i) =>
        forwardStatus(f, { bound: this.#slots.boundAt(i), remote: this.#remotes?.listenOf(i) }),
      ),
      lastError: error ? { code: error.code, message: error.message } : undefined,
      ended: this.#end,
      since: this.#reported.since,
      reconnects: route?.reconnects ?? 0,
      connectionsWaiting: this.#hold.waiting,
      facts: this.#facts,
      ...stats,
    };
  }

  /** Stops accepting, ends every connection, cancels remote listens, closes the gate. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      this.#hold.close(new FwdError('ABORTED', `tunnel ${this.spec.name} stopped`));
      await this.#closeForwards();
      await this.spec.gate?.close?.().catch(() => undefined);
      for (const off of this.#unsubscribe.splice(0)) off();
      this.#update();
    })();
    return this.#closing;
  }

  #gateContext(): GateContext {
    const signal = this.#stop.signal;
    return {
      acquire: (s) => {
        if (!this.#host) {
          return Promise.reject(
            new FwdError('CONFIG_INVALID', `tunnel ${this.spec.name} has no SSH session of its own`),
          );
        }
        return this.#host.acquire(Number.POSITIVE_INFINITY, s ?? signal);
      },
      signal,
      progress: (detail, facts) => {
        this.#lines.gate = detail;
        if (facts) this.#facts = facts;
        this.#update();
      },
      notice: (level, message, facts) => this.#notice(level, message, facts),
      listening: () => this.#listening,
    };
  }

  async #runGate(gate: TunnelGate): Promise<void> {
    const signal = this.#stop.signal;
    try {
      const open = await gate.open(this.#gateContext());
      if (signal.aborted) return;
      if (open.via) {
        this.#route = open.via;
        this.#follow(open.via);
      } else if (!this.#route) {
        throw new FwdError(
          'CONFIG_INVALID',
          `tunnel ${this.spec.name}: its gate gave no route and it has no host`,
        );
      }
      if (open.detail !== undefined) this.#lines.gate = open.detail;
      const bindFailure = await this.#slots.replace(open.forwards);
      if (bindFailure) this.#fail(bindFailure);
      if (this.#ownError || signal.aborted) return;
      this.#opened = true;
      this.#afterOpen();
      this.#update();
      this.#end = await abortable(open.ended, signal, 'tunnel');
      this.#hold.close(new FwdError('TRANSPORT_CLOSED', `${this.spec.name} ended: ${this.#end.reason}`));
      await this.#closeForwards();
    } catch (err) {
      if (!signal.aborted) this.#fail(asFwdError(err, 'CONNECT_FAILED'));
    }
    this.#update();
  }

  /** Targets are known: remote forwards are requested, the ready check (if any) runs, held connections go. */
  #afterOpen(): void {
    const route = this.#route;
    const forwards = this.#slots.forwards;
    this.#remotes = new RemoteForwards(forwards, () => this.#update());
    if (route) this.#remotes.attach(route);
    this.#resolveListening(this.status().forwards);
    const check = this.spec.ready;
    const first = forwards.find((f) => f.kind === 'local');
    if (!check || !first) {
      this.#hold.open();
      return;
    }
    this.#awaitingReady = true;
    void waitUntilReady(
      check,
      first.target,
      (signal) => this.#session(signal).then((s) => s.openChannel(first.target, undefined, signal)),
      this.#stop.signal,
      (line) => {
        this.#lines.ready = line;
        this.#update();
      },
    ).then(() => {
      this.#awaitingReady = false;
      if (!this.#stop.signal.aborted) this.#hold.open();
      this.#update();
    });
  }

  #session(signal?: AbortSignal) {
    const route = this.#route;
    if (!route)
      return Promise.reject(new FwdError('TRANSPORT_CLOSED', `tunnel ${this.spec.name} has no route yet`));
    return route.acquire(Number.POSITIVE_INFINITY, signal ?? this.#stop.signal);
  }

  #follow(connection: HostConnection): void {
    const onStatus = (): void => this.#update();
    connection.on('status', onStatus);
    this.#unsubscribe.push(() => connection.off('status', onStatus));
    connection.start();
  }

  #fail(error: FwdError): void {
    this.#ownError ??= error;
    // Held connections learn why before their listener closes under them.
    this.#hold.close(error);
    void this.#closeForwards();
  }

  async #closeForwards(): Promise<void> {
    await this.#slots.close();
    await this.#remotes?.close();
  }

  #notice(level: TunnelNotice['level'], message: string, facts?: TunnelFacts): void {
    this.emit('notice', { tunnel: this.spec.name, level, message, ...(facts ? { facts } : {}) });
  }

  /** Why the tunnel cannot go on: its own failure, or its host's or route's fatal one. */
  #failure(): FwdError | undefined {
    if (this.#ownError) return this.#ownError;
    for (const connection of [this.#host, this.#route]) {
      const status = connection?.status;
      if (status?.state === 'failed')
        return status.lastError ?? new FwdError('CONNECT_FAILED', `${status.name} failed`);
    }
    return undefined;
  }

  #update(): void {
    const failure = this.#failure();
    if (failure) this.#hold.close(failure);
    const state = deriveTunnelState({
      ended: this.#end !== undefined,
      stopped: this.#stop.signal.aborted,
      failed: failure !== undefined,
      opened: this.#opened,
      route: this.#route?.status.state,
      remotesMissing: this.#remotes?.missing ?? 0,
      remoteRefused: this.#remotes?.error !== undefined,
      readyPending: this.#awaitingReady,
    });
    if (state !== this.#reported.state)
      this.#reported = { state, since: Date.now(), key: this.#reported.key };
    const status = this.status();
    const key = reportKey(status);
    if (key === this.#reported.key) return;
    this.#reported.key = key;
    this.emit('status', status);
  }
}
