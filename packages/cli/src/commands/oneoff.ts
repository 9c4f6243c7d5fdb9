import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatProblem, planFromArgs } from '../config/index.js';
import { type CliIO, complain, EXIT } from '../io.js';
import { sshOptionsFor } from '../runtime/load-plan.js';
import type { BackgroundHooks } from '../runtime/run-tunnels.js';
import { type CommandLine, commandLine, type FlagOptions } from './command-line.js';
import { type LaunchOptions, launchPlan } from './launch-plan.js';
import { OUTPUT_FLAGS } from './output-flags.js';

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

// Flags that only say where to run (here or in the background) or what the foreground does after
// (--open); the background fwd runs without them.
const PLACEMENT_FLAGS = new Set(['detach', 'f', 'replace', 'open']);

/**
 * `fwd -L 8080:localhost:9990 [-R ..] [-D ..] [-J jump] [-p port] [-i key] [-o K=V] [-d] [user@]host`:
 * OpenSSH's syntax, fwd's engine and output; -d (or ssh's -f) runs it in the background.
 * `background` is set when this process is that background fwd.
 */
export async function oneoffCommand(
  argv: string[],
  io: CliIO,
  background?: BackgroundHooks,
): Promise<number> {
  const parsed = commandLine('oneoff', argv, io, ONEOFF_OPTIONS);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const detach = values.detach === true || values.f === true;
  if (values.replace && !detach) {
    complain(io, '--replace goes with -d');
    return EXIT.usage;
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
  let detachAs: LaunchOptions['detach'];
  if (detach) {
    const args = withoutPlacement(parsed.tokens);
    detachAs = {
      name: (await import('../daemon/daemon-name.js')).daemonNameForCommand(destination, args),
      source: `fwd ${args.join(' ')}`,
      args: ['oneoff', ...args],
      replace: values.replace === true,
    };
  }
  return launchPlan(planned.plan, io, { flags: values, background, detach: detachAs });
}

/** The arguments again, one flag per word, without -d/-f/--replace (also out of bundles like -fN). */
function withoutPlacement(tokens: CommandLine<typeof ONEOFF_OPTIONS>['tokens']): string[] {
  const args: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') args.push(token.value);
    else if (token.kind === 'option-terminator') args.push('--');
    else if (!PLACEMENT_FLAGS.has(token.name)) {
      args.push(token.rawName);
      if (token.value !== undefined) args.push(token.value);
    }
  }
  return args;
}

const ONEOFF_OPTIONS = {
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
  // In the background; -f as ssh spells it.
  detach: { type: 'boolean', short: 'd' },
  f: { type: 'boolean', short: 'f' },
  replace: { type: 'boolean' },
  open: { type: 'boolean' },
  ...OUTPUT_FLAGS,
} as const;

/** A one-off (fwd -L ...)'s flags, for shell completion. */
export const ONEOFF_FLAGS: FlagOptions = ONEOFF_OPTIONS;
