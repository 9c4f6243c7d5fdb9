import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import {
  type ControlReply,
  type ControlRequest,
  type DaemonStatus,
  MAX_LINE_BYTES,
  readLines,
} from './control-protocol.js';

/** What is behind a control socket path. */
export type SocketProbe =
  | { kind: 'alive'; socket: Socket }
  /** A socket file nobody listens on: its daemon died (SIGKILL, crash, reboot). */
  | { kind: 'stale' }
  | { kind: 'absent' }
  /** Something listens but did not accept in time (a hung daemon is not stale: leave it). */
  | { kind: 'unresponsive'; reason: string };

/**
 * Connects to a control socket. Only a refused connection (no listener: the kernel's word, not a
 * guess from a pid file) counts as stale.
 */
export function probeSocket(path: string, timeoutMs = 2_000): Promise<SocketProbe> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ kind: 'unresponsive', reason: `no answer in ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve({ kind: 'alive', socket });
    });
    const onError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED') resolve({ kind: 'stale' });
      else if (err.code === 'ENOENT') resolve({ kind: 'absent' });
      else resolve({ kind: 'unresponsive', reason: err.message });
    };
    socket.once('error', onError);
  });
}

/** Sends one request on an open control connection and resolves with the reply. */
export function request(socket: Socket, req: ControlRequest, timeoutMs = 5_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no reply to ${req.cmd} in ${timeoutMs} ms`)), timeoutMs);
    const finish = (result: ControlReply | Error): void => {
      clearTimeout(timer);
      socket.off('close', onClose);
      socket.off('error', finish);
      socket.pause();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onClose = (): void =>
      finish(new Error(`the daemon closed the connection before answering ${req.cmd}`));
    socket.once('close', onClose);
    socket.once('error', finish);
    let answered = false;
    readLines(
      socket,
      (line) => {
        if (answered) return;
        answered = true;
        try {
          finish(JSON.parse(line) as ControlReply);
        } catch {
          finish(new Error('the daemon answered something that is not JSON'));
        }
      },
      () => finish(new Error(`a reply longer than ${MAX_LINE_BYTES} bytes`)),
    );
    socket.resume();
    socket.write(`${JSON.stringify(req)}\n`);
  });
}

/** The status of the daemon behind an open connection. */
export async function requestStatus(socket: Socket): Promise<DaemonStatus> {
  const reply = await request(socket, { cmd: 'status' });
  if (!reply.ok) throw new Error(reply.error);
  if (!('status' in reply)) throw new Error('the daemon did not send its status');
  return reply.status;
}

/**
 * True once `pid` no longer runs. A zombie counts as gone: an orphaned daemon that exited may
 * wait a moment for init to reap it, and has let go of everything by then.
 */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    // "pid (comm) S ...": the state follows the last parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

export type StopOutcome =
  | { stopped: true; pid: number }
  | { stopped: false; pid: number | undefined; why: string };

/**
 * Asks the daemon behind `socket` to stop and waits until it is gone: the kernel closes our
 * connection when the process exits, which is the event waited on; the pid is then checked, and
 * re-checked briefly while the exit completes. Bounded by `timeoutMs`.
 */
export async function stopDaemon(socket: Socket, timeoutMs: number): Promise<StopOutcome> {
  const closed = once(socket, 'close').then(() => true);
  const deadline = Date.now() + timeoutMs;
  let pid: number | undefined;
  try {
    const reply = await request(socket, { cmd: 'stop' }, Math.min(timeoutMs, 5_000));
    if (!reply.ok) return { stopped: false, pid, why: reply.error };
    if ('pid' in reply) pid = reply.pid;
  } catch (err) {
    socket.destroy();
    return { stopped: false, pid, why: (err as Error).message };
  }
  socket.resume();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  const gone = await Promise.race([closed, timedOut]);
  clearTimeout(timer);
  if (!gone) {
    socket.destroy();
    return { stopped: false, pid, why: `still running after ${Math.round(timeoutMs / 1000)} s` };
  }
  if (pid === undefined) return { stopped: false, pid, why: 'the daemon did not say its pid' };
  // The connection closes as the process exits; its last moments are not an event we can wait on.
  while (!processGone(pid)) {
    if (Date.now() > deadline)
      return { stopped: false, pid, why: 'its connection closed but the process remains' };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { stopped: true, pid };
}
