import { setTimeout as sleep } from 'node:timers/promises';
import { probeSocket, requestStatus } from '../daemon/control-client.js';
import { type CliIO, complain } from '../io.js';
import { interruptSignal } from '../signals.js';
import { type Opener, systemOpener } from './browser.js';
import { type OpenRequests, OpenWhenReady } from './open-when-ready.js';

/** How often the foreground asks the background fwd how its tunnels are. */
const POLL_MS = 500;
/** How long the foreground waits for them before it gives up (a job may pend much longer: say so). */
const WAIT_MS = 30 * 60_000;

/**
 * `fwd up -d --open`: the background fwd has no terminal, and may run under another session than
 * the desktop, so this foreground process opens the browser. It follows the daemon's status over
 * its control socket until every requested tunnel is up (and its token URL known) and opens each
 * once; Ctrl-C, the daemon going away or 30 min stop the wait, never the tunnels.
 */
export async function openFromDaemon(
  socketPath: string,
  requests: OpenRequests,
  io: CliIO,
  opener: Opener = systemOpener(io.env),
): Promise<void> {
  const opening = new OpenWhenReady({
    tunnels: requests,
    opener,
    note: (_level, message) => complain(io, message),
  });
  const interrupt = interruptSignal();
  const deadline = Date.now() + WAIT_MS;
  let told = false;
  try {
    while (opening.waiting.length > 0 && !interrupt.signal.aborted) {
      const probe = await probeSocket(socketPath);
      if (probe.kind !== 'alive') {
        complain(io, 'the background fwd is gone: nothing to open');
        return;
      }
      const status = await requestStatus(probe.socket).finally(() => probe.socket.destroy());
      for (const tunnel of status.tunnels) opening.update(tunnel);
      if (opening.waiting.length === 0) break;
      if (!told) {
        told = true;
        complain(
          io,
          `${opening.waiting.join(', ')} not up yet: it opens in the browser once it is (Ctrl-C stops waiting, not the tunnels)`,
        );
      }
      if (Date.now() > deadline) {
        complain(io, `gave up waiting to open ${opening.waiting.join(', ')} after ${WAIT_MS / 60_000} min`);
        return;
      }
      await sleep(POLL_MS, undefined, { signal: interrupt.signal }).catch(() => undefined);
    }
    // Each opener reports once its browser started.
    await opening.done;
  } catch (err) {
    complain(io, `could not follow the background fwd to open its tunnels: ${(err as Error).message}`);
  } finally {
    opening.close();
    interrupt.dispose();
  }
}
