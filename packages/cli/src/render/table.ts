import type { HostStatus, TunnelState, TunnelStatus } from '@fwd/core';
import { formatTimeLeft } from '../slurm/time-left.js';
import { formatBytes, formatRetry, truncate } from './format.js';
import { urlOf } from './http-urls.js';
import { timeLeftOf } from './job-facts.js';
import type { Renderer } from './renderer.js';

export interface TableOptions {
  color: boolean;
  /** Terminal width; lines are cut to it so redraws can count lines. */
  columns: () => number;
  now?: () => number;
}

const STATE_COLOR: Record<TunnelState, string> = {
  connecting: '33',
  waiting: '36',
  up: '32',
  reconnecting: '33',
  failed: '31',
  ended: '90',
  stopped: '90',
};

const HEADERS = [
  'TUNNEL',
  'STATE',
  'LISTEN',
  '',
  'TARGET',
  'CONN',
  '↑ SENT',
  '↓ RECV',
  'DETAIL / LAST ERROR',
];

/** What a static frame needs of a host: when its next attempt is, for "reconnecting (in 2.1s)". */
export interface HostRetry {
  readonly retryAt: number | undefined;
}

export interface FrameOptions {
  color: boolean;
  /** Lines are cut to this width (the terminal's, less one). */
  width: number;
  now: number;
}

/**
 * One frame of the status table: a header, then one line per forward (state, counters and detail
 * on a tunnel's first line). Shared by the live table, `fwd ps` and `fwd up -d`.
 */
export function tableLines(
  tunnels: Iterable<TunnelStatus>,
  hosts: ReadonlyMap<string, HostRetry>,
  options: FrameOptions,
): string[] {
  const paint = (code: string, text: string): string =>
    options.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  const body: string[][] = [];
  for (const t of tunnels) {
    const retry =
      t.state === 'reconnecting' || t.state === 'connecting'
        ? formatRetry(hosts.get(t.host)?.retryAt, options.now)
        : undefined;
    const state = retry ? `${t.state} (${retry})` : t.state;
    const error = t.lastError && t.state !== 'up' ? `${t.lastError.code}: ${t.lastError.message}` : '';
    const shown =
      t.detail && (t.state === 'waiting' || t.state === 'up' || t.state === 'ended' || !error)
        ? t.detail
        : error;
    // A Slurm job's time left counts down with every redraw (the table redraws each second).
    const left = t.state === 'ended' || t.state === 'failed' ? undefined : timeLeftOf(t, options.now);
    const info =
      left === undefined ? shown : [shown, `${formatTimeLeft(left)} left`].filter(Boolean).join(' · ');
    t.forwards.forEach((f, i) => {
      const first = i === 0;
      // The URL to open shows once the tunnel forwards, on its forward's line.
      const url = t.state === 'up' ? urlOf(f) : undefined;
      const detail = [first ? info : '', url ?? ''].filter(Boolean).join('  ');
      body.push([
        first ? t.name : '',
        first ? state : '',
        f.listen,
        f.kind === 'remote' ? '←' : '→',
        f.target,
        first ? connections(t) : '',
        first ? formatBytes(t.bytesToRemote) : '',
        first ? formatBytes(t.bytesFromRemote) : '',
        detail,
      ]);
    });
  }
  const all = [HEADERS, ...body];
  const widths = HEADERS.map((_, col) => Math.max(...all.map((r) => (r[col] ?? '').length)));
  const width = Math.max(20, options.width);
  return all.map((row, index) => {
    const cells = row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col] ?? 0)));
    let line = truncate(cells.join('  ').trimEnd(), width);
    if (index === 0) line = paint('1', line);
    else {
      const state = row[1] ?? '';
      const key = state.split(' ')[0] as TunnelState;
      if (state && STATE_COLOR[key]) line = line.replace(state, paint(STATE_COLOR[key], state));
    }
    return line;
  });
}

/** Open connections, and those held until the tunnel is ready: "0 (+3 held)". */
function connections(t: TunnelStatus): string {
  return t.connectionsWaiting > 0
    ? `${t.connectionsOpen} (+${t.connectionsWaiting} held)`
    : String(t.connectionsOpen);
}

/**
 * The live status table of `fwd up` on a terminal: redrawn in place (one write per frame, no
 * clear-screen flicker), with full error messages printed once above it when they first appear.
 */
export function tableRenderer(out: NodeJS.WritableStream, options: TableOptions): Renderer {
  const now = options.now ?? Date.now;
  const tunnels = new Map<string, TunnelStatus>();
  const hosts = new Map<string, HostStatus>();
  const announced = new Map<string, string>();
  let drawnLines = 0;
  let suspended = false;
  let scheduled: NodeJS.Immediate | undefined;
  const paint = (code: string, text: string): string =>
    options.color ? `\x1b[${code}m${text}\x1b[0m` : text;

  const frame = (): string[] =>
    tableLines(tunnels.values(), hosts, { color: options.color, width: options.columns() - 1, now: now() });

  const draw = (): void => {
    scheduled = undefined;
    if (suspended) return;
    const lines = frame();
    const up = drawnLines > 0 ? `\x1b[${drawnLines}A\r` : '';
    out.write(`${up}\x1b[J${lines.join('\n')}\n`);
    drawnLines = lines.length;
  };
  const schedule = (): void => {
    scheduled ??= setImmediate(draw);
  };
  const printAbove = (text: string): void => {
    const up = drawnLines > 0 ? `\x1b[${drawnLines}A\r\x1b[J` : '';
    out.write(`${up}${text}\n`);
    drawnLines = 0;
    schedule();
  };

  return {
    tunnel(status) {
      tunnels.set(status.name, status);
      const error = status.lastError;
      const key = error ? `${status.state}:${error.code}` : '';
      // A tunnel that stops or ends keeps its last error; it was shown when it happened.
      const live = status.state !== 'up' && status.state !== 'stopped' && status.state !== 'ended';
      if (error && live && announced.get(status.name) !== key) {
        announced.set(status.name, key);
        const mark = status.state === 'failed' ? paint('31', '✗') : paint('33', '!');
        printAbove(`${mark} ${status.name}: ${error.message} [${error.code}]`);
      }
      if (status.state === 'up') announced.delete(status.name);
      schedule();
    },
    host(status) {
      hosts.set(status.name, status);
      schedule();
    },
    stats(all) {
      // The whole set: a tunnel a reload removed leaves the table.
      tunnels.clear();
      for (const s of all) tunnels.set(s.name, s);
      schedule();
    },
    notice(n) {
      // A job about to hit its time limit rings the terminal bell: the user may be in the browser.
      if (n.level === 'warn' && n.facts?.timeLeft !== undefined) out.write('\x07');
      this.note(n.level, `${n.tunnel}: ${n.message}`);
    },
    note(level, message) {
      const mark =
        level === 'error' ? paint('31', '✗') : level === 'warn' ? paint('33', '!') : paint('36', '·');
      printAbove(`${mark} ${message}`);
    },
    suspend() {
      suspended = true;
      if (drawnLines > 0) out.write(`\x1b[${drawnLines}A\r\x1b[J`);
      drawnLines = 0;
    },
    resume() {
      suspended = false;
      schedule();
    },
    finish(all) {
      if (scheduled) clearImmediate(scheduled);
      for (const s of all) tunnels.set(s.name, s);
      suspended = false;
      draw();
    },
  };
}
