import { EXIT } from './io.js';

export interface Interrupt {
  /** Aborts on the first of the signals asked for (SIGINT, SIGTERM, SIGHUP by default). */
  readonly signal: AbortSignal;
  /** Which signal stopped us, for the exit code (130 after Ctrl-C, 0 after SIGTERM). */
  readonly received: () => NodeJS.Signals | undefined;
  readonly dispose: () => void;
}

/**
 * Ctrl-C / SIGTERM ask for a clean stop (close listeners, end channels, cancel jobs); a second
 * Ctrl-C exits at once, as users expect when the clean stop hangs.
 */
export function interruptSignal(
  onSecond: () => void = () => process.exit(EXIT.interrupted),
  // `fwd relay` leaves SIGHUP out: for a daemon it means "reload".
  signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'],
  /** Asked first on SIGHUP: true when it handled it (`fwd up` reloads its file), false to stop. */
  onHangup?: () => boolean,
): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (name: NodeJS.Signals): void => {
    if (name === 'SIGHUP' && onHangup?.()) return;
    if (received !== undefined) {
      if (name === 'SIGINT') onSecond();
      return;
    }
    received = name;
    controller.abort(new Error(`received ${name}`));
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/** The exit code for a run that was stopped by `received` (or ran to its end). */
export function exitCodeFor(received: NodeJS.Signals | undefined, failed: boolean): number {
  if (received === 'SIGINT') return EXIT.interrupted;
  return failed ? EXIT.failure : EXIT.ok;
}
