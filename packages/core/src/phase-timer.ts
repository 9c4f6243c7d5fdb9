import type { AuthOptions } from './auth.js';
import { FwdError } from './errors.js';

type Phase = 'connect' | 'auth';

/**
 * Bounds each phase of a connect attempt with its own plain timer (never a collectable
 * `AbortSignal.timeout`): `connect` (transport, banner, key exchange) and `auth`. When a phase's
 * time is up, `attempt` aborts with CONNECT_TIMEOUT saying which phase hung.
 */
export class PhaseTimer {
  readonly #attempt: AbortController;
  readonly #where: string;
  #timer: NodeJS.Timeout | undefined;
  #current: { phase: Phase; ms: number } | undefined;

  constructor(attempt: AbortController, where: string) {
    this.#attempt = attempt;
    this.#where = where;
  }

  /** Starts `phase` with a fresh bound of `ms` (replacing the running one). */
  arm(phase: Phase, ms: number): void {
    this.stop();
    this.#current = { phase, ms };
    if (!Number.isFinite(ms) || ms <= 0) return;
    this.#timer = setTimeout(() => this.#attempt.abort(this.#timeout(phase, ms)), ms);
  }

  /** Suspends the bound (while a person answers a prompt); `resume` re-arms the same phase. */
  suspend(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  resume(): void {
    if (this.#current && !this.#attempt.signal.aborted) this.arm(this.#current.phase, this.#current.ms);
  }

  stop(): void {
    this.suspend();
    this.#current = undefined;
  }

  #timeout(phase: Phase, ms: number): FwdError {
    const seconds = `${Math.round(ms / 100) / 10} s`;
    return phase === 'connect'
      ? new FwdError(
          'CONNECT_TIMEOUT',
          `${this.#where} did not complete the SSH handshake within ${seconds} (ConnectTimeout): ` +
            'something accepts connections there but does not answer as an SSH server',
        )
      : new FwdError('CONNECT_TIMEOUT', `${this.#where} did not finish authentication within ${seconds}`);
  }
}

/** The same options, with every prompt callback suspending `timer` while it waits for a person. */
export function suspendingDuringPrompts<T extends AuthOptions>(options: T, timer: PhaseTimer): T {
  const wrap = <A extends unknown[], R>(ask: ((...args: A) => Promise<R>) | undefined) =>
    ask &&
    (async (...args: A): Promise<R> => {
      timer.suspend();
      try {
        return await ask(...args);
      } finally {
        timer.resume();
      }
    });
  const wrapped = { ...options };
  const passphrase = wrap(options.passphrase);
  const password = wrap(options.password);
  const keyboardInteractive = wrap(options.keyboardInteractive);
  if (passphrase) wrapped.passphrase = passphrase;
  if (password) wrapped.password = password;
  if (keyboardInteractive) wrapped.keyboardInteractive = keyboardInteractive;
  return wrapped;
}
