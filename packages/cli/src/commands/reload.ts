import { probeSocket, request } from '../daemon/control-client.js';
import type { ControlReply, ControlRequest } from '../daemon/control-protocol.js';
import { fwdDirsOrExit } from '../daemon/daemon-dirs.js';
import { type DaemonEntry, listDaemons } from '../daemon/daemon-registry.js';
import { resolveTarget } from '../daemon/daemon-target.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { describeReload } from '../runtime/live-tunnels.js';
import { commandLine, type FlagOptions } from './command-line.js';

/** A reload reads and checks a file, then starts listeners and sessions: more than a status. */
const CHANGE_TIMEOUT_MS = 60_000;

/**
 * `fwd reload [name|file]`: a background fwd reads its file again and applies the difference
 * (added tunnels start, removed ones stop, changed ones restart; the others and their open
 * connections go on). A file with problems is refused with them (exit 2), and nothing changes.
 */
export async function reloadCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine('reload', argv, io, RELOAD_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 1) {
    complain(io, 'reload takes one name or file; see fwd reload --help');
    return EXIT.usage;
  }
  const daemon = await findDaemon(parsed.positionals[0], io);
  if (typeof daemon === 'number') return daemon;
  return report(io, daemon.name, await ask(daemon, { cmd: 'reload' }));
}

/** `fwd stop NAME/TUNNEL` and `fwd start NAME/TUNNEL`: one tunnel of a background fwd. */
export async function tunnelCommand(action: 'stop' | 'start', argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine(action, argv, io, RELOAD_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const [target, ...extra] = parsed.positionals;
  if (target === undefined || extra.length > 0) {
    complain(io, `${action} takes one NAME/TUNNEL (or TUNNEL when one fwd runs); see fwd ${action} --help`);
    return EXIT.usage;
  }
  // NAME/TUNNEL; a bare TUNNEL means the only background fwd (or the one of ./tunnels.yaml).
  const slash = target.lastIndexOf('/');
  const [query, tunnel] = slash > 0 ? [target.slice(0, slash), target.slice(slash + 1)] : [undefined, target];
  const daemon = await findDaemon(query, io);
  if (typeof daemon === 'number') return daemon;
  const cmd = action === 'stop' ? 'stop-tunnel' : 'start-tunnel';
  return report(io, daemon.name, await ask(daemon, { cmd, tunnel }));
}

async function findDaemon(query: string | undefined, io: CliIO): Promise<DaemonEntry | number> {
  const dirs = await fwdDirsOrExit(io);
  if (typeof dirs === 'number') return dirs;
  const { daemons } = await listDaemons(dirs);
  const candidates = daemons.map((d) => ({ ...d, source: 'status' in d ? d.status.source : undefined }));
  const target = resolveTarget(query, candidates, io.cwd, 'fwd running in the background');
  if ('problem' in target) {
    complain(io, target.problem);
    return EXIT.failure;
  }
  return target.found[0] as DaemonEntry;
}

async function ask(daemon: DaemonEntry, req: ControlRequest): Promise<ControlReply> {
  const probe = await probeSocket(daemon.path);
  if (probe.kind !== 'alive') return { ok: false, error: `${daemon.name} does not answer (${probe.kind})` };
  try {
    return await request(probe.socket, req, CHANGE_TIMEOUT_MS);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    probe.socket.destroy();
  }
}

function report(io: CliIO, name: string, reply: ControlReply): number {
  if (!reply.ok) {
    for (const problem of reply.problems ?? []) io.stderr.write(`${problem}\n`);
    complain(io, `${name}: ${reply.error}`);
    // A file with problems is a configuration error, as for fwd up; the rest did not happen.
    return reply.problems?.length ? EXIT.usage : EXIT.failure;
  }
  if ('reloaded' in reply) io.stdout.write(`${name}: reloaded: ${describeReload(reply.reloaded)}\n`);
  else if ('done' in reply) io.stdout.write(`${name}: ${reply.done} ${reply.tunnel}\n`);
  return EXIT.ok;
}

const RELOAD_OPTIONS = {} as const;

/** fwd reload's (and stop/start's) flags, for shell completion. */
export const RELOAD_FLAGS: FlagOptions = RELOAD_OPTIONS;
