import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionHold } from './connection-hold.js';
import { FwdError } from './errors.js';

/** A client socket as far as the hold cares: it can hang up. */
const client = () => new EventEmitter() as unknown as Socket;

function hold(over: { holdMs?: number; live?: () => boolean } = {}) {
  const drops: Array<{ count: number; reason: FwdError }> = [];
  let routed = 0;
  const h = new ConnectionHold({
    holdMs: over.holdMs ?? 30_000,
    route: async () => {
      routed++;
    },
    routeLive: over.live ?? (() => true),
    waitingFor: () => 'job 7 pending (Priority)',
    changed: () => undefined,
    dropped: (count, reason) => drops.push({ count, reason }),
  });
  return { h, drops, routed: () => routed };
}

describe('ConnectionHold', () => {
  afterEach(() => vi.useRealTimers());

  it('holds connections until the tunnel opens, counting them, then lets them through', async () => {
    const { h } = hold();
    const forwardOpen = new AbortController().signal;
    const first = h.admit(client(), forwardOpen);
    const second = h.admit(client(), forwardOpen);
    await Promise.resolve();
    expect(h.waiting).toBe(2);
    h.open();
    await Promise.all([first, second]);
    expect(h.waiting).toBe(0);
    // Open with a live route: the fast path, nothing held.
    await h.admit(client(), forwardOpen);
    expect(h.waiting).toBe(0);
  });

  it('closes every held connection with the reason once the tunnel fails, reported once for the batch', async () => {
    const { h, drops } = hold();
    const signal = new AbortController().signal;
    const held = [h.admit(client(), signal), h.admit(client(), signal), h.admit(client(), signal)];
    h.close(new FwdError('SLURM_JOB_ENDED', 'job 7 FAILED (NonZeroExitCode)'));
    for (const p of held) await expect(p).rejects.toMatchObject({ code: 'SLURM_JOB_ENDED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(drops).toEqual([{ count: 3, reason: expect.objectContaining({ code: 'SLURM_JOB_ENDED' }) }]);
    // Later connections are refused at once with the same reason.
    await expect(h.admit(client(), signal)).rejects.toMatchObject({ code: 'SLURM_JOB_ENDED' });
  });

  it('gives up after holdMs with CONNECT_TIMEOUT saying what the tunnel waited for', async () => {
    vi.useFakeTimers();
    const { h } = hold({ holdMs: 120_000 });
    const held = h.admit(client(), new AbortController().signal);
    const outcome = held.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(119_999);
    expect(h.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toMatchObject({
      code: 'CONNECT_TIMEOUT',
      message: 'not ready after 120 s (job 7 pending (Priority))',
    });
  });

  it('after opening, still holds a connection while the route has no session, then routes it', async () => {
    let live = false;
    const { h, routed } = hold({ live: () => live });
    h.open();
    await h.admit(client(), new AbortController().signal);
    expect(routed()).toBe(1);
    live = true;
    await h.admit(client(), new AbortController().signal);
    expect(routed()).toBe(1);
  });

  it('stops counting a client that hung up while held, without reporting it as dropped', async () => {
    const { h, drops } = hold();
    const socket = client();
    const held = h.admit(socket, new AbortController().signal);
    await Promise.resolve();
    (socket as unknown as EventEmitter).emit('close');
    await expect(held).rejects.toMatchObject({ code: 'ABORTED' });
    expect(h.waiting).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(drops).toEqual([]);
  });
});
