import type { Socket } from 'node:net';
import { type ChannelOpener, type ForwardTarget, formatEndpoint } from './endpoints.js';
import { asFwdError, type FwdError } from './errors.js';
import { listenForward } from './forward-listener.js';
import type { ForwardStats, ListeningForward } from './listening-forward.js';
import type { ForwardSpec } from './tunnel-status.js';

interface Slot {
  spec: ForwardSpec;
  listener: ListeningForward | undefined;
}

/**
 * The forwards of one tunnel and the listeners of its `-L`/`-D` ones. A listener reads its
 * target from its slot at each connection, so a gate can fill targets in (or change them)
 * without closing it, and connections held on it survive.
 */
export class ForwardSlots {
  #slots: Slot[];
  readonly #opener: ChannelOpener;
  readonly #admit: (socket: Socket, signal: AbortSignal) => Promise<void>;

  constructor(
    forwards: readonly ForwardSpec[],
    opener: ChannelOpener,
    admit: (socket: Socket, signal: AbortSignal) => Promise<void>,
  ) {
    this.#slots = forwards.map((spec) => ({ spec, listener: undefined }));
    this.#opener = opener;
    this.#admit = admit;
  }

  get forwards(): readonly ForwardSpec[] {
    return this.#slots.map((s) => s.spec);
  }

  /** Figures of every listener, bound or closed. */
  get stats(): ForwardStats[] {
    return this.#slots.flatMap((s) => (s.listener ? [s.listener.stats] : []));
  }

  /** Where forward `index` really listens (port 0 resolved), once bound. */
  boundAt(index: number): string | undefined {
    const listener = this.#slots[index]?.listener;
    return listener ? formatEndpoint(listener.address) : undefined;
  }

  /** Binds every local and dynamic forward not bound yet; resolves with the first failure. */
  async bind(): Promise<FwdError | undefined> {
    const results = await Promise.allSettled(
      this.#slots.map(async (slot) => {
        const spec = slot.spec;
        if (spec.kind === 'remote' || slot.listener) return;
        const target = (): ForwardTarget => (slot.spec.kind === 'local' ? slot.spec.target : { path: '?' });
        slot.listener = await listenForward(spec, this.#opener, { target, admit: this.#admit });
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    return failed ? asFwdError(failed.reason, 'BIND_DENIED') : undefined;
  }

  /**
   * Takes a gate's list: a forward of the same kind and bind as one already bound keeps that
   * listener (and the connections held on it); the rest are bound now, leftovers closed.
   */
  async replace(forwards: readonly ForwardSpec[]): Promise<FwdError | undefined> {
    const early = [...this.#slots];
    this.#slots = forwards.map((spec) => {
      const at = early.findIndex((s) => s.listener && s.spec.kind === spec.kind && sameBind(s.spec, spec));
      const reused = at === -1 ? undefined : early.splice(at, 1)[0];
      if (!reused) return { spec, listener: undefined };
      reused.spec = spec;
      return reused;
    });
    await Promise.all(early.map((s) => s.listener?.close()));
    return this.bind();
  }

  /** Stops accepting and ends every connection. */
  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.listener?.close()));
  }
}

function sameBind(a: ForwardSpec, b: ForwardSpec): boolean {
  return formatEndpoint(a.bind) === formatEndpoint(b.bind);
}
