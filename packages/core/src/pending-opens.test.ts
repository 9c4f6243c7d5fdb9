import { afterEach, describe, expect, it, vi } from 'vitest';
import { PendingOpens } from './pending-opens.js';

describe('PendingOpens', () => {
  afterEach(() => vi.useRealTimers());

  it('expires an open the server never answers, within 1.25 × the bound, and not one answered in time', () => {
    vi.useFakeTimers();
    const opens = new PendingOpens(30_000);
    const expired: string[] = [];
    opens.add(() => expired.push('silent'));
    const answered = opens.add(() => expired.push('answered'));
    vi.advanceTimersByTime(29_999);
    answered();
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(37_500 - 29_999);
    expect(expired).toEqual(['silent']);
    // Nothing pending: no timer left running.
    expect(vi.getTimerCount()).toBe(0);
  });
});
