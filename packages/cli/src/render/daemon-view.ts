import type { DaemonStatus } from '../daemon/control-protocol.js';
import { formatUptime } from './format.js';
import { tableLines } from './table.js';

export interface StaticFrameOptions {
  color: boolean;
  /** Lines are cut to this width. */
  width: number;
  now: number;
}

/**
 * A background fwd as `fwd ps` and `fwd up -d` print it: a title line (name, source, pid,
 * uptime), the status table as the live one draws it, and every current error in full below.
 */
export function daemonLines(status: DaemonStatus, options: StaticFrameOptions): string[] {
  const paint = (code: string, text: string): string =>
    options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const phase = status.phase === 'running' ? '' : `  (${status.phase})`;
  const title = `${paint('1', status.name)}  ${status.source}  pid ${status.pid}  up ${formatUptime(options.now - status.startedAt)}${phase}`;
  const hosts = new Map(status.hosts.map((h) => [h.name, h]));
  const lines = [title];
  if (status.tunnels.length > 0) lines.push(...tableLines(status.tunnels, hosts, options));
  for (const t of status.tunnels) {
    if (!t.lastError || t.state === 'up') continue;
    const mark = t.state === 'failed' ? paint('31', '✗') : paint('33', '!');
    lines.push(`${mark} ${t.name}: ${t.lastError.message} [${t.lastError.code}]`);
  }
  return lines;
}
