import type { Socket } from 'node:net';
import { type ChannelOpener, type ForwardTarget, withDefaultHost } from './endpoints.js';
import { refuseTellingHttp } from './http-refusal.js';
import { ListeningForward } from './listening-forward.js';
import { socksNegotiator } from './socks-negotiator.js';
import type { ForwardSpec } from './tunnel-status.js';

/** The forwards that listen on this machine: `-L` and `-D`. */
export type LocalListenSpec = Extract<ForwardSpec, { kind: 'local' | 'dynamic' }>;

export interface ForwardListenerOptions {
  /** Where a `-L` connection goes when that is known only later (a gate's target); default the spec's. */
  target?: () => ForwardTarget;
  admit?: (socket: Socket, signal: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/**
 * Binds the listener of a `-L` or `-D` forward: the one factory behind `SshSession.forwardLocal`,
 * `forwardDynamic` and every tunnel, so the default bind host (127.0.0.1) is applied in one place.
 */
export function listenForward(
  forward: LocalListenSpec,
  opener: ChannelOpener,
  options: ForwardListenerOptions = {},
): Promise<ListeningForward> {
  let negotiator = socksNegotiator();
  if (forward.kind === 'local') {
    const fixed = forward.target;
    const target = options.target ?? (() => fixed);
    // A browser whose request fwd cannot carry gets a 503 saying why, not a reset.
    negotiator = { target: async () => target(), failed: refuseTellingHttp };
  }
  return ListeningForward.listen(opener, negotiator, {
    bind: withDefaultHost(forward.bind),
    ...(options.admit ? { admit: options.admit } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
