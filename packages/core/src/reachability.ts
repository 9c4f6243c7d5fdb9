import type { Duplex } from 'node:stream';
import { pause } from './backoff.js';
import { deadline } from './deadline.js';
import { FwdError } from './errors.js';
import type { Transport } from './transport.js';

// Probing is a bare connect plus sshd's banner: cheap enough twice a second, and it bounds how
// long a returning server waits for us.
const PROBE_EVERY_MS = 500;
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Polls until a fresh connection is answered by an SSH server (its `SSH-` banner): resolves true
 * then, false once `signal` aborts. Only a banner counts: a proxy, relay or frozen host may accept
 * TCP. `transport` is asked each time (undefined = not reachable now, e.g. no jump session);
 * transports that must not be opened just to look (`probe: false`) are never polled.
 */
export async function untilReachable(
  transport: () => Transport | undefined,
  signal: AbortSignal,
  firstAfterMs: number = PROBE_EVERY_MS,
): Promise<boolean> {
  for (let wait = firstAfterMs; !signal.aborted; wait = PROBE_EVERY_MS) {
    await pause(wait, signal);
    const now = transport();
    if (signal.aborted) return false;
    if (!now || now.probe === false) continue;
    using bound = deadline(
      PROBE_TIMEOUT_MS,
      () => new FwdError('CONNECT_TIMEOUT', 'probe timed out'),
      signal,
    );
    try {
      const stream = await now.connect(bound.signal);
      const banner = await firstChunk(stream, bound.signal);
      stream.destroy();
      if (banner?.toString('latin1').startsWith('SSH-')) return !signal.aborted;
    } catch {
      // Still unreachable; keep polling.
    }
  }
  return false;
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
