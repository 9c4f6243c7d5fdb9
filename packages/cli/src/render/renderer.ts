import type { HostStatus, TunnelNotice, TunnelStatus } from '@fwd/core';

/** Turns the supervisor's event stream into output: a live table or NDJSON lines. */
export interface Renderer {
  tunnel(status: TunnelStatus): void;
  host(status: HostStatus): void;
  stats(all: TunnelStatus[]): void;
  /** Something a tunnel says once (a gate's warning, waiting connections closed). */
  notice(notice: TunnelNotice): void;
  /** A one-off line (warnings, "stopping..."), shown without breaking the display. */
  note(level: 'info' | 'warn' | 'error', message: string): void;
  /** Step aside for a prompt, and come back. */
  suspend(): void;
  resume(): void;
  /** Final render after everything closed. */
  finish(all: TunnelStatus[]): void;
}
