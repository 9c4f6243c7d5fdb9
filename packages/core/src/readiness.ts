import type { Duplex } from 'node:stream';
import { backoffDelay, pause } from './backoff.js';
import { type ForwardTarget, formatEndpoint } from './endpoints.js';
import { checkReadyOnce, type ReadyCheck } from './ready-check.js';

// Retries of a ready check: quick at first (an app that is nearly up), then every 5 s.
const RETRY = { initialMs: 250, maxMs: 5_000 } as const;

/**
 * Waits until `target` answers `check` through the tunnel: resolves when it does, or when
 * `signal` aborts (then nothing more happens). While it waits, `line` says what it waits for and
 * what it saw, and `onLine` is told each change (undefined once it is over).
 *
 * @example const ready = waitUntilReady({ kind: 'http', path: '/api' }, target, open, signal, show);
 */
export async function waitUntilReady(
  check: ReadyCheck,
  target: ForwardTarget,
  open: (signal: AbortSignal) => Promise<Duplex>,
  signal: AbortSignal,
  onLine: (line: string | undefined) => void,
): Promise<void> {
  const what = formatEndpoint(target);
  const how = check.kind === 'http' ? `HTTP ${check.path}` : 'a TCP connection';
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      await checkReadyOnce(() => open(signal), check, what);
      break;
    } catch (err) {
      if (signal.aborted) break;
      onLine(`waiting for ${what} to answer ${how} (${err instanceof Error ? err.message : String(err)})`);
      await pause(backoffDelay(attempt, RETRY), signal);
    }
  }
  onLine(undefined);
}
