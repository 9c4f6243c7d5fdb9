import { parseDuration } from '../config/index.js';
import { probeSocket, stopDaemon } from '../daemon/control-client.js';
import { fwdDirsOrExit } from '../daemon/daemon-dirs.js';
import { type DaemonEntry, listDaemons } from '../daemon/daemon-registry.js';
import { resolveTarget } from '../daemon/daemon-target.js';
import { STOP_TIMEOUT_MS } from '../daemon/start-daemon.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { commandLine, type FlagOptions } from './command-line.js';

/**
 * `fwd down [file|name ...] [--all] [--timeout 30s]`: stops background fwds cleanly over their
 * control sockets (listeners closed, channels ended, Slurm jobs fwd submitted cancelled) and
 * waits until each process is gone. Exit 1 when nothing matched or one did not stop.
 */
export async function downCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine('down', argv, io, DOWN_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (values.all && positionals.length > 0) {
    complain(io, '--all or names, not both');
    return EXIT.usage;
  }
  let timeoutMs = STOP_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    const parsed = parseDuration(values.timeout);
    if (!parsed.ok) {
      complain(io, `--timeout ${values.timeout}: ${parsed.error}`);
      return EXIT.usage;
    }
    timeoutMs = parsed.value;
  }
  const dirs = await fwdDirsOrExit(io);
  if (typeof dirs === 'number') return dirs;
  const { daemons } = await listDaemons(dirs);
  const candidates = daemons.map((d) => ({ ...d, source: 'status' in d ? d.status.source : undefined }));
  const targets = new Map<string, DaemonEntry>();
  if (values.all) {
    if (daemons.length === 0) {
      complain(io, 'no fwd is running in the background');
      return EXIT.failure;
    }
    for (const d of daemons) targets.set(d.name, d);
  }
  for (const query of values.all ? [] : positionals.length > 0 ? positionals : [undefined]) {
    const target = resolveTarget(query, candidates, io.cwd, 'fwd running in the background');
    if ('problem' in target) {
      complain(io, target.problem);
      return EXIT.failure;
    }
    for (const d of target.found) targets.set(d.name, d);
  }
  const results = await Promise.all([...targets.values()].map((d) => stopOne(d, timeoutMs, io)));
  return results.every(Boolean) ? EXIT.ok : EXIT.failure;
}

async function stopOne(entry: DaemonEntry, timeoutMs: number, io: CliIO): Promise<boolean> {
  const probe = await probeSocket(entry.path);
  if (probe.kind !== 'alive') {
    const gone = probe.kind === 'stale' || probe.kind === 'absent';
    if (gone) io.stdout.write(`${entry.name} had already stopped\n`);
    else complain(io, `${entry.name} does not answer on ${entry.path}: ${probe.reason}`);
    return gone;
  }
  const outcome = await stopDaemon(probe.socket, timeoutMs);
  if (outcome.stopped) {
    const source = 'status' in entry ? ` (${entry.status.source})` : '';
    io.stdout.write(`stopped ${entry.name}${source}, pid ${outcome.pid}\n`);
    return true;
  }
  const pid = outcome.pid === undefined ? '' : ` (pid ${outcome.pid}; \`kill ${outcome.pid}\` ends it)`;
  complain(io, `${entry.name} did not stop: ${outcome.why}${pid}`);
  return false;
}

const DOWN_OPTIONS = {
  all: { type: 'boolean', short: 'a' },
  timeout: { type: 'string' },
} as const;

/** fwd down's flags, for shell completion. */
export const DOWN_FLAGS: FlagOptions = DOWN_OPTIONS;
