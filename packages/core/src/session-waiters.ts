import { abortError, FwdError } from './errors.js';
import type { SshSession } from './ssh-session.js';

/** Callers waiting for a host's next session, each with its own time bound and AbortSignal. */
export class SessionWaiters {
  readonly #waiting = new Set<(outcome: SshSession | FwdError) => void>();

  /**
   * Resolves with the next session `resolveAll` hands out. Rejects with what `rejectAll` says, with
   * `late()` once `waitMs` has passed (Infinity: no bound), or with `signal`'s reason.
   */
  wait(
    waitMs: number,
    late: () => FwdError,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<SshSession> {
    if (signal?.aborted) return Promise.reject(abortError(signal, what));
    return new Promise<SshSession>((resolve, reject) => {
      const settle = (outcome: SshSession | FwdError): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiting.delete(settle);
        if (outcome instanceof FwdError) reject(outcome);
        else resolve(outcome);
      };
      const timer = Number.isFinite(waitMs) ? setTimeout(() => settle(late()), waitMs) : undefined;
      const onAbort = (): void => settle(abortError(signal, what));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.add(settle);
    });
  }

  resolveAll(session: SshSession): void {
    for (const settle of [...this.#waiting]) settle(session);
  }

  rejectAll(error: FwdError): void {
    for (const settle of [...this.#waiting]) settle(error);
  }
}
