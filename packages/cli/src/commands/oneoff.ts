import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatProblem, planFromArgs } from '../config/index.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { sshOptionsFor } from '../runtime/load-plan.js';
import { type RunOptions, runTunnels } from '../runtime/run-tunnels.js';
import { helpFor } from './help.js';
import { OUTPUT_FLAGS, runOptionsFrom } from './output-flags.js';

// `-o Key=Value` options fwd understands, as ~/.ssh/config keywords (OpenSSH reads them the same way).
const SUPPORTED_OPTIONS = new Set([
  'stricthostkeychecking',
  'userknownhostsfile',
  'globalknownhostsfile',
  'identityfile',
  'identityagent',
  'user',
  'port',
  'proxyjump',
  'hostname',
]);

/**
 * `fwd -L 8080:localhost:9990 [-R ..] [-D ..] [-J jump] [-p port] [-i key] [-o K=V] [user@]host`:
 * OpenSSH's syntax, fwd's engine and output.
 */
export async function oneoffCommand(argv: string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    complain(io, `${(err as Error).message}; see fwd --help`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(helpFor('oneoff'));
    return EXIT.ok;
  }
  const destination = positionals[0];
  if (destination === undefined || positionals.length > 1) {
    complain(
      io,
      positionals.length > 1
        ? `unexpected "${positionals[1]}": fwd runs no remote command`
        : 'missing destination [user@]host',
    );
    return EXIT.usage;
  }
  const optionLines: string[] = [];
  for (const option of values.option ?? []) {
    const match = /^\s*([A-Za-z]+)\s*[= ]\s*(.+)$/.exec(option);
    if (!match?.[1] || !match[2] || !SUPPORTED_OPTIONS.has(match[1].toLowerCase())) {
      complain(io, `-o ${option}: unsupported option (fwd understands ${[...SUPPORTED_OPTIONS].join(', ')})`);
      return EXIT.usage;
    }
    optionLines.push(`${match[1]} ${match[2]}`);
  }
  const ssh = sshOptionsFor(io, values['ssh-config']);
  if (optionLines.length > 0) {
    // -o options come first so that they win: in ssh config the first value obtained is used.
    const path = ssh.configPath ?? join(ssh.homeDir, '.ssh', 'config');
    const userConfig = await readFile(path, 'utf8').catch(() => '');
    ssh.configText = `${optionLines.join('\n')}\n${userConfig}`;
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      complain(io, `-p ${values.port}: not a port number`);
      return EXIT.usage;
    }
  }
  const planned = planFromArgs(
    {
      destination,
      local: values.L ?? [],
      remote: values.R ?? [],
      dynamic: values.D ?? [],
      ...(port !== undefined ? { port } : {}),
      ...(values.i !== undefined ? { identityFile: values.i } : {}),
      ...(values.J !== undefined ? { jump: values.J } : {}),
    },
    ssh,
  );
  if (!planned.plan) {
    for (const p of planned.problems) io.stderr.write(`${formatProblem(p)}\n`);
    return EXIT.usage;
  }
  let run: RunOptions;
  try {
    run = runOptionsFrom(values);
  } catch (err) {
    complain(io, (err as Error).message);
    return EXIT.usage;
  }
  return runTunnels(planned.plan, io, run);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      L: { type: 'string', short: 'L', multiple: true },
      R: { type: 'string', short: 'R', multiple: true },
      D: { type: 'string', short: 'D', multiple: true },
      J: { type: 'string', short: 'J' },
      port: { type: 'string', short: 'p' },
      i: { type: 'string', short: 'i' },
      option: { type: 'string', short: 'o', multiple: true },
      'ssh-config': { type: 'string', short: 'F' },
      // Accepted for muscle memory: fwd never runs a remote command, so -N is always on.
      N: { type: 'boolean', short: 'N' },
      ...OUTPUT_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
  });
}
