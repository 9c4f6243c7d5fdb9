import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { ReloadRefused, type ReloadReport } from '../runtime/live-tunnels.js';
import { probeSocket, requestStatus } from './control-client.js';
import {
  type ControlReply,
  type ControlRequest,
  type DaemonStatus,
  parseRequest,
  readLines,
} from './control-protocol.js';

export interface ControlHandlers {
  status(): DaemonStatus;
  /** Begin a clean stop; the process exits when done, which closes every control connection. */
  stop(): void;
  /** Read the file again and run what it says now (rejects with why not: ReloadRefused). */
  reload(): Promise<ReloadReport>;
  /** Stop or start one tunnel of the running set. */
  stopTunnel(name: string): Promise<void>;
  startTunnel(name: string): Promise<void>;
}

export interface ControlServer {
  readonly path: string;
  /** Stop accepting (the socket file goes with it); open connections close when the process exits. */
  close(): void;
}

/** Another live daemon already owns the socket path. */
export interface AlreadyRunning {
  readonly running: DaemonStatus | undefined;
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on the control socket `path` (mode 0600; the caller's umask already keeps it private
 * while it is created, and its directory is 0700). Binding the path is what claims the name:
 * when it exists, a live owner means "already running", a dead one's stale file is removed.
 */
export async function listenControl(
  path: string,
  handlers: ControlHandlers,
): Promise<ControlServer | AlreadyRunning> {
  const server = createServer((connection) => serve(connection, handlers));
  try {
    await listen(server, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    const probe = await probeSocket(path);
    if (probe.kind === 'alive') {
      const running = await requestStatus(probe.socket).catch(() => undefined);
      probe.socket.destroy();
      return { running };
    }
    if (probe.kind === 'unresponsive') return { running: undefined };
    if (probe.kind === 'stale') await unlink(path).catch(() => undefined);
    await listen(server, path);
  }
  await chmod(path, 0o600);
  return { path, close: () => server.close() };
}

function serve(connection: Socket, handlers: ControlHandlers): void {
  connection.on('error', () => undefined);
  const reply = (message: ControlReply): void => {
    if (connection.writable) connection.write(`${JSON.stringify(message)}\n`);
  };
  readLines(
    connection,
    (line) => {
      const req = parseRequest(line);
      if (!req)
        return reply({
          ok: false,
          error:
            'unknown request; expected {"cmd":"status|stop|reload"} or {"cmd":"stop-tunnel|start-tunnel","tunnel":NAME}',
        });
      if (req.cmd === 'status') return reply({ ok: true, status: handlers.status() });
      if (req.cmd === 'stop') {
        reply({ ok: true, stopping: true, pid: process.pid });
        return handlers.stop();
      }
      void answer(req, handlers).then(reply);
    },
    () => connection.destroy(),
  );
}

/** The reply to a request that changes the running set: what it did, or why it did not. */
async function answer(
  req: Exclude<ControlRequest, { cmd: 'status' } | { cmd: 'stop' }>,
  handlers: ControlHandlers,
): Promise<ControlReply> {
  try {
    if (req.cmd === 'reload') return { ok: true, reloaded: await handlers.reload() };
    if (req.cmd === 'stop-tunnel') await handlers.stopTunnel(req.tunnel);
    else await handlers.startTunnel(req.tunnel);
    return { ok: true, tunnel: req.tunnel, done: req.cmd === 'stop-tunnel' ? 'stopped' : 'started' };
  } catch (err) {
    const problems = err instanceof ReloadRefused ? err.problems : [];
    return { ok: false, error: (err as Error).message, ...(problems.length > 0 ? { problems } : {}) };
  }
}
