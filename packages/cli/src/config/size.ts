import type { ParseResult } from './problems.js';

const UNIT = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as const;

/** The JSON Schema pattern for a size; kept next to the parser so the two cannot drift apart. */
export const SIZE_PATTERN: string = '^\\d+(\\.\\d+)?([KMG](iB)?)?$';

/** The message every bad size gets, in the loader and in editors. */
export const SIZE_HINT: string = 'expected a size like 32M, 64MiB or 1G (bytes without a unit)';

/**
 * Parses a size as OpenSSH writes them (`64M`, `1G`; K/M/G are powers of 1024, `MiB` is
 * accepted too) into bytes.
 *
 * @example parseSize('32M') // { ok: true, value: 33554432 }
 */
export function parseSize(text: string): ParseResult<number> {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)(?:iB)?$/.exec(text.trim());
  if (!m?.[1]) return { ok: false, error: SIZE_HINT };
  return { ok: true, value: Math.round(Number(m[1]) * UNIT[(m[2] ?? '') as keyof typeof UNIT]) };
}
