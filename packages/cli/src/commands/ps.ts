import { fwdDirsOrExit } from '../daemon/daemon-dirs.js';
import { listDaemons } from '../daemon/daemon-registry.js';
import { type CliIO, complain, EXIT, isTTY } from '../io.js';
import { daemonLines } from '../render/daemon-view.js';
import { commandLine, type FlagOptions } from './command-line.js';

/** `fwd ps [--json]`: every background fwd of this user, asked over its control socket. */
export async function psCommand(argv: string[], io: CliIO): Promise<number> {
  const parsed = commandLine('ps', argv, io, PS_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    complain(io, 'ps takes no arguments; see fwd ps --help');
    return EXIT.usage;
  }
  const dirs = await fwdDirsOrExit(io);
  if (typeof dirs === 'number') return dirs;
  const { daemons, cleaned } = await listDaemons(dirs);
  for (const name of cleaned) {
    complain(
      io,
      `removed the stale control socket of ${name}: that fwd died (\`fwd logs ${name}\` may say why)`,
    );
  }
  if (values.json) {
    const list = daemons.map((d) =>
      'status' in d ? d.status : { name: d.name, socket: d.path, error: `not answering: ${d.problem}` },
    );
    io.stdout.write(`${JSON.stringify(list)}\n`);
    return EXIT.ok;
  }
  if (daemons.length === 0) {
    io.stdout.write('no fwd is running in the background (fwd up -d starts one)\n');
    return EXIT.ok;
  }
  const tty = isTTY(io.stdout);
  const options = {
    color: tty && io.env.NO_COLOR === undefined,
    // Off a terminal nothing is cut: the output is for grep and for reading in full.
    width: tty ? ((io.stdout as NodeJS.WriteStream).columns || 120) - 1 : 10_000,
    now: Date.now(),
  };
  const blocks = daemons.map((d) =>
    'status' in d
      ? daemonLines(d.status, options).join('\n')
      : `${d.name}  not answering on ${d.path}: ${d.problem}`,
  );
  io.stdout.write(`${blocks.join('\n\n')}\n`);
  return EXIT.ok;
}

const PS_OPTIONS = { json: { type: 'boolean' } } as const;

/** fwd ps's flags, for shell completion. */
export const PS_FLAGS: FlagOptions = PS_OPTIONS;
