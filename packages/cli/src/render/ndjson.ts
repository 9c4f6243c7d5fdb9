import type { HostStatus, TunnelStatus } from '@fwd/core';
import type { Renderer } from './renderer.js';

/** One JSON object per line: state changes as they happen, stats periodically. For machines. */
export function ndjsonRenderer(out: NodeJS.WritableStream, now: () => Date = () => new Date()): Renderer {
  const write = (event: Record<string, unknown>): void => {
    out.write(`${JSON.stringify({ ts: now().toISOString(), ...event })}\n`);
  };
  const tunnelEvent = (s: TunnelStatus): Record<string, unknown> => ({
    // What the gate knows, for scripts: a Slurm tunnel's job, node, endsAt, timeLeft, url.
    ...s.facts,
    tunnel: s.name,
    host: s.host,
    state: s.state,
    forwards: s.forwards,
    ...(s.detail ? { detail: s.detail } : {}),
    ...(s.connectionsWaiting > 0 ? { connectionsWaiting: s.connectionsWaiting } : {}),
    ...(s.lastError ? { error: s.lastError } : {}),
    ...(s.ended ? { ended: s.ended } : {}),
  });
  const counters = (s: TunnelStatus): Record<string, unknown> => ({
    tunnel: s.name,
    state: s.state,
    ...(s.facts?.timeLeft !== undefined ? { timeLeft: s.facts.timeLeft } : {}),
    connectionsOpen: s.connectionsOpen,
    connectionsTotal: s.connectionsTotal,
    connectionErrors: s.connectionErrors,
    bytesToRemote: s.bytesToRemote,
    bytesFromRemote: s.bytesFromRemote,
  });
  return {
    tunnel: (s) => write({ event: 'tunnel', ...tunnelEvent(s) }),
    host: (h: HostStatus) =>
      write({
        event: 'host',
        host: h.name,
        state: h.state,
        reconnects: h.reconnects,
        ...(h.lastError ? { error: { code: h.lastError.code, message: h.lastError.message } } : {}),
        ...(h.retryAt ? { retryAt: new Date(h.retryAt).toISOString() } : {}),
      }),
    stats: (all) => write({ event: 'stats', tunnels: all.map(counters) }),
    notice: (n) =>
      write({ event: 'notice', ...n.facts, tunnel: n.tunnel, level: n.level, message: n.message }),
    note: (level, message) => write({ event: 'log', level, message }),
    suspend: () => undefined,
    resume: () => undefined,
    finish: (all) => write({ event: 'stopped', tunnels: all.map(counters) }),
  };
}
