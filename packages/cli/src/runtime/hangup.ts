import { isatty } from 'node:tty';
import type { LiveTunnels } from './live-tunnels.js';

/** Whether any of stdin, stdout, stderr is a terminal (a hung-up terminal is not one any more). */
const onTerminal = (): boolean => [0, 1, 2].some((fd) => isatty(fd));

/** Whether fwd started on a terminal: read once, when this module loads (at start). */
const startedOnTerminal = onTerminal();

/**
 * What SIGHUP means here. For a fwd started on a terminal whose terminal is gone (none of stdin,
 * stdout, stderr is a terminal any more: the kernel hung it up, which is what sent the SIGHUP),
 * it is the classic hangup: stop, as before. Otherwise (a background fwd, a service, `kill -HUP`
 * sent to a fwd whose terminal is still there) it means "read your file again".
 */
export function hangupStops(): boolean {
  return startedOnTerminal && !onTerminal();
}

/**
 * A terminal that hangs up fails every later write with EIO, and an unhandled stream error would
 * end fwd before its clean stop: once the terminal is gone there is nobody to show anything to,
 * so such errors are dropped for the rest of the process (the writes of the stop itself fail
 * after runTunnels returns; the SIGHUP that comes with the hangup is what stops fwd).
 */
export function ignoreLostTerminal(streams: readonly (NodeJS.WritableStream | NodeJS.WriteStream)[]): void {
  const ignore = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EIO' && err.code !== 'EPIPE') throw err;
  };
  for (const s of streams)
    if ((s as { isTTY?: boolean }).isTTY === true && !s.listeners('error').includes(ignore))
      s.on('error', ignore);
}

/** Reloads on SIGHUP (LiveTunnels tells how it went); true: handled, the run goes on. */
export function reloadOnHangup(live: LiveTunnels): boolean {
  live.reload('SIGHUP').catch(() => undefined);
  return true;
}
