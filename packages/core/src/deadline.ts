/** An AbortSignal bounded in time; dispose it once the wait is over. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
}

/**
 * A signal that aborts when `parent` does (with its reason) or after `ms` (with `timeoutReason()`).
 * Held by a plain timer and a listener, never by `AbortSignal.any` + `AbortSignal.timeout`: on
 * Node 20 such a timeout signal can be garbage-collected before it fires (a connect never timed out).
 * Disposing clears the timer and the listener on `parent`.
 *
 * @example
 * using bound = deadline(10_000, () => new FwdError('CONNECT_TIMEOUT', 'no banner in 10 s'), signal);
 * await transport.connect(bound.signal);
 */
export function deadline(ms: number, timeoutReason: () => Error, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  const timer = Number.isFinite(ms) ? setTimeout(() => controller.abort(timeoutReason()), ms) : undefined;
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
