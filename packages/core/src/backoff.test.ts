import { describe, expect, it } from 'vitest';
import { backoffDelay, pause } from './backoff.js';

describe('backoffDelay', () => {
  const opts = { initialMs: 250, maxMs: 30_000 };
  it('doubles per attempt between half and all of the slot', () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(125);
    expect(backoffDelay(0, opts, () => 1)).toBe(250);
    expect(backoffDelay(3, opts, () => 0)).toBe(1000);
    expect(backoffDelay(3, opts, () => 1)).toBe(2000);
  });
  it('never exceeds the cap, even for huge attempt numbers', () => {
    expect(backoffDelay(1000, opts, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, opts, () => 0)).toBe(15_000);
  });
});

describe('pause', () => {
  it('ends early, without error, when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
