import { formatBytes } from './format.js';

interface LogForward {
  kind?: string;
  listen?: string;
  target?: string;
  url?: string;
}

interface LogCounters {
  tunnel?: string;
  connectionsOpen?: number;
  bytesToRemote?: number;
  bytesFromRemote?: number;
}

interface LogEvent {
  ts?: string;
  event?: string;
  tunnel?: string;
  host?: string;
  state?: string;
  detail?: string;
  level?: string;
  message?: string;
  reconnects?: number;
  retryAt?: string;
  forwards?: LogForward[];
  tunnels?: LogCounters[];
  error?: { code?: string; message?: string };
  ended?: { ok?: boolean; reason?: string };
}

export interface LogLineOptions {
  color: boolean;
  /** Stats lines are many and dull; shown only when asked. */
  stats?: boolean;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "2026-11-23 13:00:01" in local time: log readers compare with their own clock. */
function localTime(ts: string | undefined): string {
  const date = ts ? new Date(ts) : undefined;
  if (!date || Number.isNaN(date.getTime())) return ' '.repeat(19);
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/**
 * One line of a background fwd's NDJSON log as a person reads it (`fwd logs` on a terminal);
 * undefined for lines not worth showing (stats, unless asked). Lines that are not JSON (a crash
 * trace) come back unchanged.
 */
export function formatLogLine(line: string, options: LogLineOptions): string | undefined {
  let event: LogEvent;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null) return line;
    event = parsed as LogEvent;
  } catch {
    return line;
  }
  const paint = (code: string, text: string): string =>
    options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const time = paint('90', localTime(event.ts));
  const error = event.error ? `${event.error.message ?? ''} [${event.error.code ?? '?'}]` : undefined;
  switch (event.event) {
    case 'tunnel': {
      const state = event.state ?? '?';
      const color = state === 'up' ? '32' : state === 'failed' ? '31' : state === 'waiting' ? '36' : '33';
      const forwards = (event.forwards ?? [])
        .map((f) => `${f.listen ?? '?'} ${f.kind === 'remote' ? '←' : '→'} ${f.target ?? '?'}`)
        .join(', ');
      const urls = state === 'up' ? (event.forwards ?? []).flatMap((f) => (f.url ? [f.url] : [])) : [];
      const tail = [
        event.detail,
        state !== 'up' ? error : undefined,
        event.ended?.reason,
        ...urls.map((u) => `open ${u}`),
      ].filter(Boolean);
      return `${time}  ${event.tunnel ?? '?'} ${paint(color, state)}  ${forwards}${tail.length ? `  ${tail.join('  ')}` : ''}`;
    }
    case 'host': {
      const retry = event.retryAt ? `, next attempt ${localTime(event.retryAt).slice(11)}` : '';
      return `${time}  host ${event.host ?? '?'} ${event.state ?? '?'}${retry}${error ? `  ${error}` : ''}`;
    }
    case 'log': {
      const level = event.level ?? 'info';
      const mark =
        level === 'error' ? paint('31', '✗') : level === 'warn' ? paint('33', '!') : paint('36', '·');
      return `${time}  ${mark} ${event.message ?? ''}`;
    }
    case 'stats':
    case 'stopped': {
      if (event.event === 'stats' && !options.stats) return undefined;
      const counters = (event.tunnels ?? [])
        .map(
          (t) =>
            `${t.tunnel ?? '?'} ${t.connectionsOpen ?? 0} open ↑${formatBytes(t.bytesToRemote ?? 0)} ↓${formatBytes(t.bytesFromRemote ?? 0)}`,
        )
        .join('; ');
      return `${time}  ${event.event}${counters ? `  ${counters}` : ''}`;
    }
    default:
      return `${time}  ${line}`;
  }
}
