import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobClock, type JobEnd } from './job-clock.js';

const MIN = 60_000;

/** A clock on vitest's fake time, recording what it reports. */
function clock(marks: readonly number[] = [10 * MIN, MIN]) {
  const warnings: { at: number; leftMs: number; mark: number }[] = [];
  const ends: Exclude<JobEnd, undefined>[] = [];
  const c = new JobClock({
    marks,
    changed: (end) => ends.push(end),
    warn: (leftMs, mark) => warnings.push({ at: Date.now(), leftMs, mark }),
  });
  return { c, warnings, ends };
}

describe('JobClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('warns at 10 min and at 1 min before the end, once each, between polls', async () => {
    const { c, warnings, ends } = clock();
    c.update(30 * MIN);
    expect(ends).toEqual([30 * MIN]);
    await vi.advanceTimersByTimeAsync(20 * MIN - 1);
    expect(warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(warnings).toEqual([{ at: 20 * MIN, leftMs: 10 * MIN, mark: 10 * MIN }]);
    await vi.advanceTimersByTimeAsync(9 * MIN);
    expect(warnings.at(-1)).toEqual({ at: 29 * MIN, leftMs: MIN, mark: MIN });
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(warnings).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes each poll’s estimate, but a second of jitter is the same end: no new report, no re-warning', async () => {
    const { c, warnings, ends } = clock();
    c.update(30 * MIN);
    await vi.advanceTimersByTimeAsync(21 * MIN);
    for (const jitter of [-1500, 900, -300, 1999]) c.update(30 * MIN + jitter);
    expect(ends).toEqual([30 * MIN]);
    expect(warnings).toHaveLength(1);
    expect(c.end).toBe(30 * MIN);
  });

  it('first seen past a mark: one warning at once (the nearest mark), then the marks still ahead', async () => {
    const { c, warnings } = clock();
    c.update(61_000); // attached to a job with 1:01 left: past the 10 min mark, not the 1 min one
    expect(warnings).toEqual([{ at: 0, leftMs: 61_000, mark: 10 * MIN }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(warnings.at(-1)).toEqual({ at: 1_000, leftMs: MIN, mark: MIN });

    const late = clock();
    late.c.update(Date.now() + 30_000); // past both: still only one warning
    expect(late.warnings).toEqual([{ at: 1_000, leftMs: 30_000, mark: MIN }]);
  });

  it('a limit that moves (scontrol update TimeLimit=) reports the new end and re-arms the marks ahead', async () => {
    const { c, warnings, ends } = clock();
    c.update(15 * MIN);
    await vi.advanceTimersByTimeAsync(6 * MIN);
    expect(warnings).toHaveLength(1);
    c.update(75 * MIN); // extended by an hour
    expect(ends).toEqual([15 * MIN, 75 * MIN]);
    await vi.advanceTimersByTimeAsync(59 * MIN - 1);
    expect(warnings).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(warnings.at(-1)).toEqual({ at: 65 * MIN, leftMs: 10 * MIN, mark: 10 * MIN });
  });

  it('no limit: reported once, no warnings, no timer; unknown keeps the last end', async () => {
    const { c, warnings, ends } = clock();
    c.update(undefined);
    expect(ends).toEqual([]);
    c.update('unlimited');
    c.update('unlimited');
    expect(ends).toEqual(['unlimited']);
    expect(vi.getTimerCount()).toBe(0);
    c.update(5 * MIN);
    c.update(undefined); // Slurm prints INVALID once a job is past its limit
    expect(c.end).toBe(5 * MIN);
    expect(warnings).toHaveLength(1);
  });

  it('stops: no warning after the job ended or the tunnel closed', async () => {
    const { c, warnings } = clock([MIN]);
    c.update(2 * MIN);
    c.stop();
    c.update(3 * MIN);
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(warnings).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a mark weeks ahead waits in day-long steps (setTimeout cannot wait 24.8 days)', async () => {
    const { c, warnings } = clock([MIN]);
    c.update(30 * 86_400_000);
    await vi.advanceTimersByTimeAsync(30 * 86_400_000 - MIN - 1);
    expect(warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(warnings).toHaveLength(1);
  });
});
