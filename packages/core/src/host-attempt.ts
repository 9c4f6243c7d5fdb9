import { pause } from './backoff.js';
import { connect } from './connect.js';
import { formatEndpoint } from './endpoints.js';
import { FwdError } from './errors.js';
import type { HostSpec } from './host-connection.js';
import { untilReachable } from './reachability.js';
import type { SshSession } from './ssh-session.js';
import { tcpTransport } from './tcp-transport.js';
import type { Transport } from './transport.js';

// sshd sends its banner as soon as it accepts: an attempt silent this long is suspect, even on a
// loaded machine, and only then are fresh connections polled to see whether the server is elsewhere alive.
const HUNG_AFTER_MS = 2_000;

/** The host a session is reached through (ProxyJump): what one attempt needs of its connection. */
export interface JumpHost {
  readonly spec: { readonly name: string };
  readonly session: SshSession | undefined;
  acquire(waitMs: number, signal?: AbortSignal): Promise<SshSession>;
}

/** How a host is reached: its spec and, for ProxyJump, the connection to the jump host. */
export interface HostRoute {
  readonly spec: HostSpec;
  readonly jump: JumpHost | undefined;
}

/** The transport to use right now; undefined while the jump host has no live session. */
export function transportNow(route: HostRoute): Transport | undefined {
  if (route.jump) return route.jump.session?.transportTo(route.spec.address);
  return route.spec.transport ?? tcpTransport(route.spec.address);
}

/**
 * One attempt. While it has not reached the key exchange, fresh connections are polled: if
 * sshd answers one, this attempt is stuck on a half-alive path (a proxy that accepted during a
 * restart, a frozen VM) and is abandoned for an immediate retry (`answered` is called).
 */
export async function connectOnce(
  route: HostRoute,
  stop: AbortSignal,
  answered: () => void,
): Promise<SshSession> {
  const { spec, jump } = route;
  const transport = jump
    ? (await jump.acquire(Number.POSITIVE_INFINITY, stop)).transportTo(spec.address)
    : (spec.transport ?? tcpTransport(spec.address));
  const hung = new AbortController();
  const onStop = (): void => hung.abort(stop.reason);
  stop.addEventListener('abort', onStop, { once: true });
  const polling = new AbortController();
  void untilReachable(() => transportNow(route), polling.signal, HUNG_AFTER_MS).then((back) => {
    if (!back || polling.signal.aborted) return;
    answered();
    hung.abort(
      new FwdError('CONNECT_TIMEOUT', `${spec.name}: this attempt hung while sshd answered a new connection`),
    );
  });
  try {
    const fresh = await spec.freshCredentials?.();
    return await connect({
      ...spec.session,
      ...fresh,
      transport,
      signal: hung.signal,
      // The server spoke on this attempt's stream: it is slow, not stuck; stop second-guessing it.
      onServerSpoke: () => polling.abort(),
    });
  } catch (err) {
    if (err instanceof FwdError && jump && err.code === 'CHANNEL_REFUSED') {
      // The jump host could not reach us: say which hop, the raw message names only the channel.
      throw new FwdError(
        'CONNECT_FAILED',
        `${jump.spec.name} cannot reach ${formatEndpoint(spec.address)}: ${err.message}`,
        { cause: err },
      );
    }
    throw err;
  } finally {
    polling.abort();
    stop.removeEventListener('abort', onStop);
  }
}

/**
 * Waits out the backoff, but polls reachability meanwhile (a bare transport connect, no SSH)
 * unless `probe` is false: a server that answers again is retried at once instead of up to the
 * backoff's maximum later. Aborting `wake` (or `stop`) ends the wait early.
 */
export async function waitBeforeRetry(
  route: HostRoute,
  delayMs: number,
  stop: AbortSignal,
  wake: AbortController,
  probe: boolean,
): Promise<void> {
  if (delayMs <= 0) return;
  const onStop = (): void => wake.abort();
  stop.addEventListener('abort', onStop, { once: true });
  const probing = probe
    ? untilReachable(() => transportNow(route), wake.signal).then((back) => {
        if (back) wake.abort();
      })
    : undefined;
  await pause(delayMs, wake.signal);
  wake.abort();
  stop.removeEventListener('abort', onStop);
  await probing;
}
