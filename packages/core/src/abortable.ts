import { abortError } from './errors.js';

/**
 * `promise`, or a rejection with {@link abortError} as soon as `signal` aborts. The promise
 * itself goes on (a promise cannot be cancelled); its later outcome is ignored.
 *
 * @example const job = await abortable(follower.running, signal, 'waiting for the job');
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
