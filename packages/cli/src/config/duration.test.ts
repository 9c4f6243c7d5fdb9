import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['15s', 15_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1500],
    ['0s', 0],
    [' 5s ', 5000],
  ])('%s = %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each([
    ['15', 'has no unit'],
    ['', 'expected a duration like 15s'],
    ['15 s', 'is not a duration'],
    ['fifteen', 'is not a duration'],
    ['1d', 'is not a duration'],
    ['-5s', 'is not a duration'],
    ['5sec', 'is not a duration'],
  ])('%j is rejected (%s)', (text, message) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it('agrees with the schema pattern editors use', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    for (const text of ['250ms', '1m30s', '1.5s', '15', '1d', '5sec', '15 s']) {
      expect(pattern.test(text), text).toBe(parseDuration(text).ok);
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [15_000, '15s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_723_004, '1h2m3s4ms'],
  ])('%i ms = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
