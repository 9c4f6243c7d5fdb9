import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import type { TunnelStatus } from '@fwd/core';
import { type CliIO, complain, EXIT, isTTY } from '../io.js';
import type { OpenRequests } from '../open/open-when-ready.js';
import { daemonLines } from '../render/daemon-view.js';
import { formatUptime } from '../render/format.js';
import { interruptSignal } from '../signals.js';
import { probeSocket, stopDaemon } from './control-client.js';
import { type DaemonStatus, readLines } from './control-protocol.js';
import { type FwdDirs, fwdDirs, logPath, socketPath } from './daemon-dirs.js';
import { currentLog, discardStartingLog, STARTING_LOG_ENV, startingLogPath } from './daemon-log.js';
import { lookUp } from './daemon-registry.js';
import { parseReadyMessage, READY_FD, type ReadyMessage } from './readiness.js';

export interface BackgroundStart {
  /** The daemon's name (see daemon-name.ts). */
  name: string;
  /** The config file, absolute, or the one-off's command line. */
  source: string;
  /** The command the daemon runs, as `fwd` arguments: ['up', '/abs/tunnels.yaml', '--only', 'a']. */
  args: string[];
  /** Stop a running daemon of the same name first. */
  replace: boolean;
  /** NDJSON output instead of the table. */
  json: boolean;
  /** `--open` / `open: true`: this foreground process opens these tunnels in the browser once up. */
  open?: OpenRequests;
}

/** How long `fwd up -d` waits for the tunnels to settle before giving up on them. */
const SETTLE_TIMEOUT_MS = 120_000;
/** How long a daemon gets to stop cleanly (Slurm jobs to cancel, channels to end). */
export const STOP_TIMEOUT_MS = 30_000;

/**
 * What a background start counts as working: up, or waiting for something that comes by itself
 * (its Slurm job to run, its app to answer the ready check; connections are held meanwhile).
 * Not working: failed, or still connecting or reconnecting once the first attempt is over (the
 * host refused, or did not answer): retrying in the background would hide that from the user.
 */
const working = (t: TunnelStatus): boolean => t.state === 'up' || t.state === 'waiting';

/**
 * `fwd up -d`: starts a detached copy of fwd running `args`, waits until its tunnels settle,
 * prints them once and returns 0, leaving it running. When they did not come up, prints why,
 * stops it and returns 1 (2 for a configuration error it found), so nothing is left behind.
 */
export async function startInBackground(start: BackgroundStart, io: CliIO): Promise<number> {
  let dirs: FwdDirs;
  try {
    dirs = await fwdDirs(io.env);
  } catch (err) {
    complain(io, (err as Error).message);
    return EXIT.failure;
  }
  const existing = await lookUp(dirs, start.name);
  if ('status' in existing || 'problem' in existing) {
    const running = 'status' in existing ? existing.status : undefined;
    const what = running ? ` (pid ${running.pid}, up ${formatUptime(Date.now() - running.startedAt)})` : '';
    if (!start.replace) {
      complain(
        io,
        `${start.source} is already running in the background as ${start.name}${what}: \`fwd ps\` shows it, \`fwd down ${start.name}\` stops it, \`fwd up -d --replace\` restarts it`,
      );
      return EXIT.failure;
    }
    const probe = await probeSocket(existing.path);
    if (probe.kind !== 'alive') {
      complain(io, `cannot replace ${start.name}: its control socket does not answer (${existing.path})`);
      return EXIT.failure;
    }
    const outcome = await stopDaemon(probe.socket, STOP_TIMEOUT_MS);
    if (!outcome.stopped) {
      complain(io, `cannot replace ${start.name} (pid ${outcome.pid ?? '?'}): ${outcome.why}`);
      return EXIT.failure;
    }
    io.stderr.write(`fwd: stopped the previous ${start.name} (pid ${outcome.pid})\n`);
  }

  const finalLog = logPath(dirs, start.name);
  // Its own file until the daemon wins the name (daemon-log.ts): a racing second start must not
  // clobber the log of the one that runs.
  const starting = startingLogPath(finalLog, process.pid);
  const logFd = openSync(starting, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] ?? '', '__daemon', start.name, start.source, ...start.args],
      {
        cwd: io.cwd,
        env: { ...io.env, [STARTING_LOG_ENV]: starting },
        // A session of its own (setsid): no terminal, no SIGHUP when this shell goes away.
        detached: true,
        stdio: ['ignore', logFd, logFd, 'pipe'],
      },
    );
  } finally {
    closeSync(logFd);
  }
  const outcome = await awaitReadiness(child);
  const channel = child.stdio[READY_FD] as Socket | null;
  channel?.destroy();
  const log = currentLog(starting, finalLog);

  if (outcome.kind === 'settled' && outcome.status.tunnels.every(working)) {
    printStarted(io, start, outcome.status, socketPath(dirs, start.name));
    child.unref();
    if (start.open && start.open.size > 0) {
      const { openFromDaemon } = await import('../open/open-from-daemon.js');
      await openFromDaemon(socketPath(dirs, start.name), start.open, io);
    }
    return EXIT.ok;
  }
  if (outcome.kind === 'settled') {
    printStatus(io, outcome.status, start.json);
    for (const t of outcome.status.tunnels.filter((t) => !working(t))) {
      const why = t.lastError ? `${t.lastError.message} [${t.lastError.code}]` : `${t.state}`;
      complain(io, `${t.name} did not come up: ${why}`);
    }
    // A background fwd can never prompt: when a login failed, that may be why.
    if (outcome.status.tunnels.some((t) => t.lastError?.code === 'AUTH_FAILED')) {
      complain(
        io,
        'a background fwd has no terminal to ask for a password, passphrase or code: load the key into ssh-agent (ssh-add) or run `fwd up` in the foreground',
      );
    }
  } else if (outcome.kind === 'exited') {
    for (const message of outcome.messages) io.stderr.write(`${message}\n`);
    if (outcome.messages.length === 0 && !outcome.running) {
      complain(io, `the background fwd exited (code ${outcome.code}) before its tunnels settled; see ${log}`);
    }
    if (outcome.running) {
      complain(
        io,
        `${start.source} is already running in the background as ${start.name} (pid ${outcome.running.pid})`,
      );
    }
  } else if (outcome.kind === 'died') {
    complain(io, `the background fwd exited before its tunnels settled; the end of its log (${log}):`);
    const tail = (await readFile(log, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-15);
    for (const line of tail) io.stderr.write(`  ${line}\n`);
  } else if (outcome.kind === 'timeout') {
    complain(io, `the tunnels did not settle in ${SETTLE_TIMEOUT_MS / 1000} s; see ${log}`);
  }
  await stopChild(child);
  await discardStartingLog(starting);
  if (outcome.kind === 'interrupted') return EXIT.interrupted;
  // It exited by itself: a configuration error (2), or another one won the race for the name.
  if (outcome.kind === 'exited') return outcome.code === EXIT.usage ? EXIT.usage : EXIT.failure;
  complain(
    io,
    `stopped the background fwd: nothing is left running${log === finalLog ? ` (its log: ${log})` : ''}`,
  );
  return EXIT.failure;
}

type Outcome = ReadyMessage | { kind: 'died' } | { kind: 'timeout' } | { kind: 'interrupted' };

/** The daemon's readiness message, or why none came: it died, it took too long, or Ctrl-C. */
async function awaitReadiness(child: ChildProcess): Promise<Outcome> {
  const channel = child.stdio[READY_FD] as Socket | null;
  const interrupt = interruptSignal();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), SETTLE_TIMEOUT_MS);
      interrupt.signal.addEventListener('abort', () => resolve({ kind: 'interrupted' }), { once: true });
      if (!channel) return resolve({ kind: 'died' });
      readLines(
        channel,
        (line) => resolve(parseReadyMessage(line) ?? { kind: 'died' }),
        () => resolve({ kind: 'died' }),
      );
      // The message comes before the pipe closes; a close without one is a death.
      channel.once('close', () => setImmediate(() => resolve({ kind: 'died' })));
      channel.on('error', () => undefined);
    });
  } finally {
    clearTimeout(timer);
    interrupt.dispose();
  }
}

/** Stops a daemon this process started and still owns: SIGTERM (a clean stop), SIGKILL if it hangs. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function printStatus(io: CliIO, status: DaemonStatus, json: boolean): void {
  if (json || !isTTY(io.stdout)) {
    const ts = new Date().toISOString();
    for (const t of status.tunnels) {
      io.stdout.write(
        `${JSON.stringify({
          ts,
          event: 'tunnel',
          tunnel: t.name,
          host: t.host,
          state: t.state,
          forwards: t.forwards,
          ...(t.detail ? { detail: t.detail } : {}),
          ...(t.lastError ? { error: t.lastError } : {}),
        })}\n`,
      );
    }
    return;
  }
  const stdout = io.stdout as NodeJS.WriteStream;
  const lines = daemonLines(status, {
    color: io.env.NO_COLOR === undefined,
    width: (stdout.columns || 120) - 1,
    now: Date.now(),
  });
  io.stdout.write(`${lines.join('\n')}\n`);
}

/** A started fwd with tunnels not up yet says what they wait for, so that nobody takes them for up. */
export function waitingNotes(tunnels: readonly TunnelStatus[]): string[] {
  return tunnels
    .filter((t) => t.state === 'waiting')
    .map((t) => `${t.name} is waiting${t.detail ? ` (${t.detail})` : ''}; \`fwd ps\` shows when it is up`);
}

function printStarted(io: CliIO, start: BackgroundStart, status: DaemonStatus, socket: string): void {
  printStatus(io, status, start.json);
  if (start.json || !isTTY(io.stdout)) {
    io.stdout.write(
      `${JSON.stringify({ ts: new Date().toISOString(), event: 'background', name: status.name, pid: status.pid, source: status.source, log: status.log, socket })}\n`,
    );
    return;
  }
  for (const line of waitingNotes(status.tunnels)) io.stdout.write(`${line}\n`);
  io.stdout.write(
    `running in the background as ${status.name}: \`fwd ps\` shows it, \`fwd logs ${status.name}\` its log, \`fwd down ${status.name}\` stops it\n`,
  );
}
