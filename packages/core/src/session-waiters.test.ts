import { afterEach, describe, expect, it, vi } from 'vitest';
import { FwdError } from './errors.js';
import { SessionWaiters } from './session-waiters.js';
import type { SshSession } from './ssh-session.js';

const session = { where: 'alice@login' } as unknown as SshSession;
const late = () => new FwdError('TRANSPORT_CLOSED', 'no session within the bound');

afterEach(() => vi.useRealTimers());

describe('SessionWaiters', () => {
  it('hands the next session to every waiter, once', async () => {
    const waiters = new SessionWaiters();
    const a = waiters.wait(Number.POSITIVE_INFINITY, late, undefined, 'a');
    const b = waiters.wait(1_000, late, undefined, 'b');
    waiters.resolveAll(session);
    expect(await a).toBe(session);
    expect(await b).toBe(session);
    // Settled waiters are gone: a later failure reaches nobody.
    waiters.rejectAll(new FwdError('AUTH_FAILED', 'later'));
  });

  it('rejects every waiter with the host failure', async () => {
    const waiters = new SessionWaiters();
    const a = waiters.wait(1_000, late, undefined, 'a');
    waiters.rejectAll(new FwdError('AUTH_FAILED', 'denied'));
    await expect(a).rejects.toMatchObject({ code: 'AUTH_FAILED', message: 'denied' });
  });

  it('rejects with late() once its bound passed, and not before', async () => {
    vi.useFakeTimers();
    const waiters = new SessionWaiters();
    let settled = false;
    const a = waiters.wait(5_000, late, undefined, 'a').finally(() => {
      settled = true;
    });
    a.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(a).rejects.toMatchObject({
      code: 'TRANSPORT_CLOSED',
      message: 'no session within the bound',
    });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with the signal's reason, at once when it is already aborted", async () => {
    const waiters = new SessionWaiters();
    const stop = new AbortController();
    const a = waiters.wait(1_000, late, stop.signal, 'waiting for login');
    stop.abort();
    await expect(a).rejects.toMatchObject({ code: 'ABORTED', message: 'waiting for login: aborted' });
    await expect(waiters.wait(1_000, late, stop.signal, 'again')).rejects.toMatchObject({ code: 'ABORTED' });
    waiters.resolveAll(session);
  });
});
