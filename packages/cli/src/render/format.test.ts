import { describe, expect, it } from 'vitest';
import { formatBytes, formatRetry, formatUptime, truncate } from './format.js';

describe('format', () => {
  it('formats bytes in binary units with at most one decimal', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(300 * 1024)).toBe('300 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
  it('says when the next retry is, only in the future', () => {
    expect(formatRetry(10_500, 8_400)).toBe('in 2.1s');
    expect(formatRetry(40_000, 8_000)).toBe('in 32s');
    expect(formatRetry(1_000, 2_000)).toBeUndefined();
    expect(formatRetry(undefined, 0)).toBeUndefined();
  });
  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
  it('formats uptime coarsely', () => {
    expect(formatUptime(45_000)).toBe('45s');
    expect(formatUptime(12 * 60_000 + 5_000)).toBe('12m');
    expect(formatUptime(2 * 3_600_000 + 3 * 60_000)).toBe('2h03m');
    expect(formatUptime(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d04h');
    expect(formatUptime(-5)).toBe('0s');
  });
});
