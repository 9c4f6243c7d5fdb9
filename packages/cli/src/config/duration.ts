import type { ParseResult } from './problems.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** One `<number><unit>` part; `ms` is listed first so `5ms` is not read as `5m` + `s`. */
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** The JSON Schema pattern for a duration; kept next to the parser so the two cannot drift apart. */
export const DURATION_PATTERN: string = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$';

/** The message every bad duration gets, in the loader and in editors. */
export const DURATION_HINT: string = 'expected a duration like 15s, 250ms, 10m, 1h or 1m30s';

/**
 * Parses a duration such as `250ms`, `15s`, `10m`, `1h` or a combination like `1m30s` into
 * milliseconds. Bare numbers are rejected because their unit would be a guess.
 *
 * @example parseDuration('1m30s') // { ok: true, value: 90000 }
 */
export function parseDuration(text: string): ParseResult<number> {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: DURATION_HINT };
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (match === null) {
      const rest = trimmed.slice(start);
      const why = /^\d+(\.\d+)?$/.test(rest) ? `"${text}" has no unit` : `"${text}" is not a duration`;
      return { ok: false, error: `${why}; ${DURATION_HINT}` };
    }
    const [, amount, unit] = match;
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  if (!Number.isSafeInteger(Math.round(total))) return { ok: false, error: `"${text}" is too long` };
  return { ok: true, value: Math.round(total) };
}

/**
 * Renders milliseconds back as the shortest readable duration, for `fwd check` output.
 *
 * @example formatDuration(90_000) // '1m30s'
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
    ['s', UNIT_MS.s],
  ] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}
