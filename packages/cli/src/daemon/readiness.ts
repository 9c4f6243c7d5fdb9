import { closeSync, fstatSync, writeSync } from 'node:fs';
import type { DaemonStatus } from './control-protocol.js';

/**
 * How a starting daemon tells `fwd up -d` the outcome, once, on an inherited pipe (fd 3, the
 * s6/systemd "readiness fd" idea): its tunnels settled, or it exited first and why. The pipe
 * closing without a message means it died (the foreground then shows the end of its log).
 */
export type ReadyMessage =
  | { kind: 'settled'; status: DaemonStatus }
  | { kind: 'exited'; code: number; messages: string[]; running?: DaemonStatus };

/** The fd the foreground gives the daemon for its readiness message. */
export const READY_FD = 3;

/** Parses the daemon's readiness line; undefined when it is not one. */
export function parseReadyMessage(line: string): ReadyMessage | undefined {
  try {
    const value = JSON.parse(line) as Partial<ReadyMessage>;
    return value.kind === 'settled' || value.kind === 'exited' ? (value as ReadyMessage) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The daemon's side: a function that sends one message on `fd` and closes it; later calls do
 * nothing. Without the fd (started by hand) it does nothing at all. Written synchronously: the
 * last message goes out right before the process exits.
 */
export function readinessReporter(fd: number = READY_FD): (message: ReadyMessage) => void {
  let open: boolean;
  try {
    open = fstatSync(fd).isSocket() || fstatSync(fd).isFIFO();
  } catch {
    open = false;
  }
  return (message) => {
    if (!open) return;
    open = false;
    try {
      writeSync(fd, `${JSON.stringify(message)}\n`);
    } catch {
      // The foreground is gone (Ctrl-C): nobody is waiting for the message.
    }
    try {
      closeSync(fd);
    } catch {}
  };
}
