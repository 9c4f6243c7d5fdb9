import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deadline } from './deadline.js';
import { FwdError } from './errors.js';

const timeout = () => new FwdError('CONNECT_TIMEOUT', 'too slow');

describe('deadline', () => {
  afterEach(() => vi.useRealTimers());

  it('aborts with the timeout reason after ms, and not before', () => {
    vi.useFakeTimers();
    const bound = deadline(1_000, timeout);
    vi.advanceTimersByTime(999);
    expect(bound.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(bound.signal.reason).toMatchObject({ code: 'CONNECT_TIMEOUT' });
  });

  it("follows its parent's abort with the parent's reason, and lets go of the parent when disposed", () => {
    const parent = new AbortController();
    const bound = deadline(60_000, timeout, parent.signal);
    parent.abort(new FwdError('ABORTED', 'stop'));
    expect(bound.signal.reason).toMatchObject({ code: 'ABORTED' });
    bound[Symbol.dispose]();

    const other = new AbortController();
    const add = vi.spyOn(other.signal, 'addEventListener');
    const remove = vi.spyOn(other.signal, 'removeEventListener');
    deadline(60_000, timeout, other.signal)[Symbol.dispose]();
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]?.[1]);
  });

  it('starts aborted under an aborted parent; an infinite bound never fires', () => {
    const parent = AbortSignal.abort(new FwdError('ABORTED', 'already'));
    expect(deadline(1_000, timeout, parent).signal.aborted).toBe(true);
    vi.useFakeTimers();
    const forever = deadline(Number.POSITIVE_INFINITY, timeout);
    vi.advanceTimersByTime(10 ** 9);
    expect(forever.signal.aborted).toBe(false);
  });

  it('fires even when only the timer refers to it and the GC runs (AbortSignal.any + timeout may not, on Node 20)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fired = await new Promise<boolean>((resolve) => {
      // Nothing but the listener's closure refers to the signal once this function returns.
      deadline(50, timeout).signal.addEventListener('abort', () => resolve(true), { once: true });
      const collect = setInterval(gc, 5);
      setTimeout(() => {
        clearInterval(collect);
        resolve(false);
      }, 5_000).unref();
      void collect;
    });
    expect(fired).toBe(true);
  });
});
