import { Writable } from 'node:stream';
import type { Supervisor } from '@fwd/core';
import { type CliIO, EXIT } from '../io.js';
import { type LiveTunnels, ReloadRefused } from '../runtime/live-tunnels.js';
import type { BackgroundHooks } from '../runtime/run-tunnels.js';
import { version } from '../version.js';
import { type DaemonStatus, hostView } from './control-protocol.js';
import { listenControl } from './control-server.js';
import { fwdDirs, logPath, socketPath } from './daemon-dirs.js';
import { adoptLog, STARTING_LOG_ENV } from './daemon-log.js';
import { readinessReporter } from './readiness.js';

/**
 * The background side of `fwd up -d`, run as `fwd __daemon NAME SOURCE COMMAND ARGS...` by
 * start-daemon.ts with its stdout and stderr on the log file and a readiness pipe on fd 3.
 * COMMAND is `up` or `oneoff`. Claims NAME by binding its control socket, runs COMMAND (`up` or a one-off) with NDJSON to
 * the log, answers `status` and `stop` on the socket, and reports once its tunnels settle.
 */
export async function daemonMain(argv: string[], io: CliIO): Promise<number> {
  const [name, source, command, ...args] = argv;
  const report = readinessReporter();
  const messages: string[] = [];
  if (!name || !source || (command !== 'up' && command !== 'oneoff')) {
    report({
      kind: 'exited',
      code: EXIT.usage,
      messages: ['fwd: __daemon is internal (fwd up -d starts it)'],
    });
    return EXIT.usage;
  }
  // Everything it creates (socket, log) is the user's alone.
  process.umask(0o077);
  const startedAt = Date.now();
  let dirs: Awaited<ReturnType<typeof fwdDirs>>;
  try {
    dirs = await fwdDirs(io.env);
  } catch (err) {
    report({ kind: 'exited', code: EXIT.failure, messages: [`fwd: ${(err as Error).message}`] });
    return EXIT.failure;
  }
  const stop = new AbortController();
  let supervisor: Supervisor | undefined;
  let live: LiveTunnels | undefined;
  let phase: DaemonStatus['phase'] = 'starting';
  const status = (): DaemonStatus => ({
    name,
    source,
    pid: process.pid,
    startedAt,
    version: version(),
    log: logPath(dirs, name),
    phase,
    tunnels: live?.statuses() ?? [],
    hosts: supervisor?.hosts().map(hostView) ?? [],
  });
  // What `fwd reload` and `fwd stop/start NAME/TUNNEL` do, once the tunnels run.
  const running = (): LiveTunnels => {
    if (!live) throw new ReloadRefused('it is still starting; try again in a moment');
    return live;
  };
  const control = await listenControl(socketPath(dirs, name), {
    status,
    stop: () => {
      phase = 'stopping';
      stop.abort(new Error('stop requested over the control socket'));
    },
    reload: () => running().reload('fwd reload'),
    stopTunnel: (tunnel) => running().stop(tunnel, 'fwd stop'),
    startTunnel: (tunnel) => running().start(tunnel, 'fwd start'),
  });
  if ('running' in control) {
    report({
      kind: 'exited',
      code: EXIT.failure,
      messages: [],
      ...(control.running ? { running: control.running } : {}),
    });
    return EXIT.failure;
  }
  // The name is ours: this run's log becomes NAME.log, the previous run's NAME.log.1.
  const starting = io.env[STARTING_LOG_ENV];
  delete io.env[STARTING_LOG_ENV];
  if (starting !== undefined) await adoptLog(starting, logPath(dirs, name)).catch(() => undefined);
  const hooks: BackgroundHooks = {
    stop: stop.signal,
    started(l, s) {
      live = l;
      supervisor = s;
      phase = 'running';
    },
    settled: () => report({ kind: 'settled', status: status() }),
  };
  const logIO: CliIO = { ...io, stderr: logLines(io.stdout, messages) };
  let code: number = EXIT.failure;
  try {
    code = await run(command, args, logIO, hooks);
  } finally {
    control.close();
    report({ kind: 'exited', code, messages });
  }
  return code;
}

async function run(command: string, args: string[], io: CliIO, hooks: BackgroundHooks): Promise<number> {
  if (command === 'up') return (await import('../commands/up.js')).upCommand(args, io, hooks);
  return (await import('../commands/oneoff.js')).oneoffCommand(args, io, hooks);
}

/**
 * The daemon's stderr: each line becomes an NDJSON `log` event in the log, so that the log stays
 * one JSON object per line, and is kept for the readiness report.
 */
function logLines(log: NodeJS.WritableStream, kept: string[]): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString();
      let at = pending.indexOf('\n');
      while (at >= 0) {
        const line = pending.slice(0, at);
        pending = pending.slice(at + 1);
        kept.push(line);
        const message = line.replace(/^fwd: /, '');
        log.write(
          `${JSON.stringify({ ts: new Date().toISOString(), event: 'log', level: 'error', message })}\n`,
        );
        at = pending.indexOf('\n');
      }
      callback();
    },
  });
}
