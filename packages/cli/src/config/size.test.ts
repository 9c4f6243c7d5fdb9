import { describe, expect, it } from 'vitest';
import { parseSize, SIZE_PATTERN } from './size.js';

describe('parseSize', () => {
  it('reads OpenSSH-style sizes in powers of 1024', () => {
    expect(parseSize('32M')).toEqual({ ok: true, value: 32 * 1024 * 1024 });
    expect(parseSize('64MiB')).toEqual({ ok: true, value: 64 * 1024 * 1024 });
    expect(parseSize('1G')).toEqual({ ok: true, value: 1024 ** 3 });
    expect(parseSize('1.5K')).toEqual({ ok: true, value: 1536 });
    expect(parseSize('4096')).toEqual({ ok: true, value: 4096 });
  });

  it('rejects what is not a size, like the schema pattern', () => {
    for (const bad of ['', 'M', '32 MB', '-1M', '32T', 'lots']) {
      expect(parseSize(bad).ok).toBe(false);
      expect(new RegExp(SIZE_PATTERN).test(bad)).toBe(false);
    }
    expect(new RegExp(SIZE_PATTERN).test('64MiB')).toBe(true);
  });
});
