import { backoffDelay, pause } from './backoff.js';
import { DEFAULTS } from './defaults.js';
import { formatEndpoint } from './endpoints.js';
import { asFwdError, type FwdError } from './errors.js';
import type { HostConnection } from './host-connection.js';
import type { ForwardStats } from './listening-forward.js';
import type { RemoteForward } from './remote-forward.js';
import type { SshSession } from './ssh-session.js';
import { emptyStats, type ForwardSpec, sumStats } from './tunnel-status.js';

type RemoteSpec = Extract<ForwardSpec, { kind: 'remote' }>;

/**
 * The `-R` forwards of one tunnel: requested on every new session of its route, and again with
 * backoff while the server refuses (the old session's listener may linger until the server
 * notices it is gone). Figures of forwards that closed are kept.
 */
export class RemoteForwards {
  /** The last refusal, until every forward is granted again. */
  error: FwdError | undefined;
  readonly #wanted: ReadonlyMap<number, RemoteSpec>;
  readonly #granted = new Map<number, RemoteForward>();
  readonly #retired: ForwardStats = emptyStats();
  readonly #stop = new AbortController();
  readonly #changed: () => void;
  #route: HostConnection | undefined;
  readonly #onUp = (session: SshSession): void => void this.#request(session);

  /** `forwards` is the tunnel's whole list: only its remote ones are kept, by their index. */
  constructor(forwards: readonly ForwardSpec[], changed: () => void) {
    const wanted = new Map<number, RemoteSpec>();
    forwards.forEach((f, index) => {
      if (f.kind === 'remote') wanted.set(index, f);
    });
    this.#wanted = wanted;
    this.#changed = changed;
  }

  /** How many are wanted but not granted right now. */
  get missing(): number {
    return this.#wanted.size - this.#granted.size;
  }

  get stats(): ForwardStats {
    return sumStats([this.#retired, ...[...this.#granted.values()].map((f) => f.stats)]);
  }

  /** The server's listening address of forward `index`, with its real port, once granted. */
  listenOf(index: number): string | undefined {
    const granted = this.#granted.get(index);
    return granted ? `${formatEndpoint(granted.remote)} (server)` : undefined;
  }

  /** Requests them on `route`'s live session and on each new one, until close. */
  attach(route: HostConnection): void {
    if (this.#wanted.size === 0 || this.#route) return;
    this.#route = route;
    route.on('up', this.#onUp);
    const live = route.session;
    if (live) void this.#request(live);
  }

  /** Cancels every granted forward on the server and ends their connections. Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#route?.off('up', this.#onUp);
    await Promise.all([...this.#granted.values()].map((f) => f.close()));
  }

  async #request(session: SshSession): Promise<void> {
    const signal = this.#stop.signal;
    for (let attempt = 0; session.alive && !signal.aborted; attempt++) {
      const pending = [...this.#wanted].filter(([index]) => !this.#granted.has(index));
      if (pending.length === 0) return;
      const results = await Promise.allSettled(
        pending.map(([, f]) => session.forwardRemote({ bind: f.bind, target: f.target })),
      );
      let refused: FwdError | undefined;
      results.forEach((result, i) => {
        const index = pending[i]?.[0];
        if (index === undefined) return;
        if (result.status === 'rejected') refused = asFwdError(result.reason, 'REMOTE_BIND_REFUSED');
        else this.#keep(index, result.value);
      });
      this.error = refused;
      this.#changed();
      if (refused) await pause(backoffDelay(attempt, DEFAULTS.reconnect), signal);
    }
  }

  #keep(index: number, forward: RemoteForward): void {
    if (this.#stop.signal.aborted) {
      void forward.close();
      return;
    }
    this.#granted.set(index, forward);
    void forward.closed.then(() => {
      this.#granted.delete(index);
      const { connectionsOpen: _, ...rest } = forward.stats;
      Object.assign(this.#retired, sumStats([this.#retired, { ...rest, connectionsOpen: 0 }]));
      this.#changed();
    });
  }
}
