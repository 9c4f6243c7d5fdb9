/** An AbortSignal bounded in time; dispose it once the wait is over. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
}

/**
 * A signal that aborts when `parent` does or after `ms` (with `timeoutReason()`), held by a plain
 * timer: an AbortSignal.timeout reachable only through AbortSignal.any may be collected before it
 * fires (issue 17.2). Same signature as core's `deadline`, which replaces this file once it lands.
 */
export function deadline(ms: number, timeoutReason: () => Error, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(() => controller.abort(timeoutReason()), ms);
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
