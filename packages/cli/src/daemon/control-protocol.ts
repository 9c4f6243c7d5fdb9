import type { HostStatus, TunnelStatus } from '@fwd/core';
import type { ReloadReport } from '../runtime/live-tunnels.js';

/**
 * The control protocol of a background fwd: one JSON object per line each way over its unix
 * socket. Requests: `{"cmd":"status"}`, `{"cmd":"stop"}`, `{"cmd":"reload"}` (read the file
 * again), `{"cmd":"stop-tunnel","tunnel":"web"}`, `{"cmd":"start-tunnel","tunnel":"web"}`. Every
 * request gets one reply line; after a stop the daemon closes its listeners and sessions and
 * exits, which closes the connection: the client's sign that the process is gone.
 */
export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'stop' }
  | { cmd: 'reload' }
  | { cmd: 'stop-tunnel'; tunnel: string }
  | { cmd: 'start-tunnel'; tunnel: string };

export type ControlReply =
  | { ok: true; status: DaemonStatus }
  | { ok: true; stopping: true; pid: number }
  | { ok: true; reloaded: ReloadReport }
  | { ok: true; tunnel: string; done: 'stopped' | 'started' }
  /** `problems`: what is wrong with the file, as `file:line:col  path: message` (a refused reload). */
  | { ok: false; error: string; problems?: readonly string[] };

/** A host's connection as the control socket reports it (errors reduced to code and message). */
export interface HostView {
  readonly name: string;
  readonly state: HostStatus['state'];
  readonly reconnects: number;
  readonly retryAt: number | undefined;
  readonly lastError: { readonly code: string; readonly message: string } | undefined;
}

/** What `fwd ps` shows of one background fwd. */
export interface DaemonStatus {
  readonly name: string;
  /** The config file (absolute), or the one-off's command line. */
  readonly source: string;
  readonly pid: number;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly version: string;
  /** Its NDJSON log. */
  readonly log: string;
  /** `starting` until its tunnels are open, `stopping` once asked to stop. */
  readonly phase: 'starting' | 'running' | 'stopping';
  readonly tunnels: readonly TunnelStatus[];
  readonly hosts: readonly HostView[];
}

/** Longest line either side accepts: a status of hundreds of tunnels fits, a runaway peer does not. */
export const MAX_LINE_BYTES: number = 1 << 20;

export function hostView(status: HostStatus): HostView {
  return {
    name: status.name,
    state: status.state,
    reconnects: status.reconnects,
    retryAt: status.retryAt,
    lastError: status.lastError
      ? { code: status.lastError.code, message: status.lastError.message }
      : undefined,
  };
}

/**
 * Calls `onLine` with each complete line read from `stream`; a line over {@link MAX_LINE_BYTES}
 * calls `onOverflow` and stops reading.
 */
export function readLines(
  stream: NodeJS.ReadableStream,
  onLine: (line: string) => void,
  onOverflow: () => void,
): void {
  let pending = '';
  const onData = (chunk: Buffer | string): void => {
    pending += chunk.toString();
    let at = pending.indexOf('\n');
    while (at >= 0) {
      const line = pending.slice(0, at);
      pending = pending.slice(at + 1);
      if (line.trim()) onLine(line);
      at = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE_BYTES) {
      stream.off('data', onData);
      onOverflow();
    }
  };
  stream.on('data', onData);
}

/** Parses a request line; undefined when it is not one. */
export function parseRequest(line: string): ControlRequest | undefined {
  let value: { cmd?: unknown; tunnel?: unknown };
  try {
    value = JSON.parse(line) as { cmd?: unknown; tunnel?: unknown };
  } catch {
    return undefined;
  }
  const cmd = value?.cmd;
  if (cmd === 'status' || cmd === 'stop' || cmd === 'reload') return { cmd };
  if (
    (cmd === 'stop-tunnel' || cmd === 'start-tunnel') &&
    typeof value.tunnel === 'string' &&
    value.tunnel !== ''
  )
    return { cmd, tunnel: value.tunnel };
  return undefined;
}
