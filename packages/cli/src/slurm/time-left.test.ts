import { describe, expect, it } from 'vitest';
import { formatMark, formatTimeLeft, parseTimeLeft } from './time-left.js';

describe('parseTimeLeft (squeue %L, Slurm 22.05 _print_job_time_left/_print_secs)', () => {
  it.each([
    ['0:45', 45],
    ['9:05', 545],
    ['59:59', 3599],
    ['1:00:00', 3600],
    ['3:59:12', 14_352],
    ['23:59:59', 86_399],
    ['1-00:00:00', 86_400],
    ['6-23:59:59', 604_799],
    ['364-23:59:59', 31_535_999],
    ['  2:00  ', 120],
  ])('%s is %d s', (text, seconds) => {
    expect(parseTimeLeft(text)).toBe(seconds);
  });

  it('UNLIMITED (time_limit INFINITE) has no end', () => {
    expect(parseTimeLeft('UNLIMITED')).toBe('unlimited');
  });

  it('NOT_SET (no limit recorded), INVALID (below 0 or over 365 days) and junk are unknown', () => {
    for (const text of ['NOT_SET', 'INVALID', 'N/A', '', '1:2:3:4', '12', 'abc']) {
      expect(parseTimeLeft(text)).toBeUndefined();
    }
  });
});

describe('formatTimeLeft', () => {
  it('prints like squeue, so Slurm users read it at a glance', () => {
    expect(formatTimeLeft(45)).toBe('0:45');
    expect(formatTimeLeft(3599)).toBe('59:59');
    expect(formatTimeLeft(14_352)).toBe('3:59:12');
    expect(formatTimeLeft(93_784)).toBe('1-02:03:04');
    expect(formatTimeLeft(-3)).toBe('0:00');
    expect(formatTimeLeft(59.9)).toBe('0:59');
  });

  it('round-trips through parseTimeLeft', () => {
    for (const s of [0, 59, 60, 3599, 3600, 86_399, 86_400, 1_000_000]) {
      expect(parseTimeLeft(formatTimeLeft(s))).toBe(s);
    }
  });
});

describe('formatMark', () => {
  it('says a warning mark in words', () => {
    expect(formatMark(600_000)).toBe('10 min');
    expect(formatMark(60_000)).toBe('1 min');
    expect(formatMark(3_600_000)).toBe('1 h');
    expect(formatMark(90_000)).toBe('90 s');
  });
});
