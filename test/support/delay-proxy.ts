// A TCP proxy that delays each direction by half a round trip without capping bandwidth: a loopback
// path that behaves like a long-haul link (the kernel here has no netem). Used by the window test
// and by `npm run bench`'s long-path rows.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface DelayProxy extends AsyncDisposable {
  readonly port: number;
  readonly rttMs: number;
  close(): Promise<void>;
}

/** Past this many bytes queued towards one side, the other side is paused (memory stays bounded). */
const HIGH_WATER = 64 * 1024 * 1024;

function delayed(from: Socket, to: Socket, oneWayMs: number): void {
  // Chunks wait in arrival order; one timer per chunk keeps each chunk's own delay exact.
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (to.destroyed) return;
      if (!to.write(chunk) && to.writableLength > HIGH_WATER && !from.isPaused()) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }, oneWayMs);
  });
  from.on('end', () => setTimeout(() => to.end(), oneWayMs));
  from.on('error', () => to.destroy());
  // Closed: the chunks still in flight go out first, then the far side closes too.
  from.on('close', () =>
    setTimeout(() => {
      if (to.writableLength === 0) to.destroy();
      else to.once('drain', () => to.destroy());
    }, oneWayMs + 5),
  );
}

/** Listens on 127.0.0.1 (port 0 = any) and forwards every connection to `target`, RTT `rttMs`. */
export async function startDelayProxy(
  target: { host: string; port: number },
  rttMs: number,
  port = 0,
): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ ...target, allowHalfOpen: true, noDelay: true });
    track(client);
    track(upstream);
    delayed(client, upstream, rttMs / 2);
    delayed(upstream, client, rttMs / 2);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  return {
    port: (server.address() as AddressInfo).port,
    rttMs,
    close,
    [Symbol.asyncDispose]: close,
  };
}
