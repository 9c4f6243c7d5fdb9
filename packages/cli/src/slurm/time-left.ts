/**
 * A job's remaining time as squeue's `%L` prints it: seconds, `'unlimited'` (no time limit), or
 * undefined when Slurm has none to give (`NOT_SET`, a field fwd cannot read).
 */
export type TimeLeft = number | 'unlimited' | undefined;

/** `[days-]hours:minutes:seconds` with hours optional: Slurm's secs2time_str (src/common/parse_time.c). */
const SECS2TIME = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d{2})$/;

/**
 * squeue `%L` → seconds left. Slurm prints `INVALID` for a time left below 0 (a job past its
 * limit, in OverTimeLimit or being killed) and above 365 days: neither is a number to count down
 * from, so it reads as unknown, like `NOT_SET` (no limit recorded).
 *
 * @example parseTimeLeft('1-02:03:04') // 93784
 * @example parseTimeLeft('59:12') // 3552
 * @example parseTimeLeft('UNLIMITED') // 'unlimited'
 */
export function parseTimeLeft(text: string): TimeLeft {
  const value = text.trim().toUpperCase();
  if (value === 'UNLIMITED' || value === 'INFINITE') return 'unlimited';
  const match = SECS2TIME.exec(value);
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60 + Number(seconds);
}

/**
 * Seconds as squeue prints time (so Slurm users read it at a glance): `4:05`, `3:59:12`,
 * `1-02:03:04`. Negative counts as 0.
 *
 * @example formatTimeLeft(3552) // '59:12'
 */
export function formatTimeLeft(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, '0');
  if (days > 0)
    return `${days}-${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}:${secs}`;
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${secs}`;
  return `${minutes}:${secs}`;
}

/**
 * A time-left mark in words, for warnings: `10 min`, `1 min`, `90 s`, `1 h`.
 *
 * @example formatMark(600_000) // '10 min'
 */
export function formatMark(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}
