import { CHECK_FLAGS } from './check.js';
import type { FlagOptions } from './command-line.js';
import { DOWN_FLAGS } from './down.js';
import { INIT_FLAGS } from './init.js';
import { LOGS_FLAGS } from './logs.js';
import { ONEOFF_FLAGS } from './oneoff.js';
import { PS_FLAGS } from './ps.js';
import { RELAY_FLAGS } from './relay.js';
import { RELOAD_FLAGS } from './reload.js';
import { SERVICE_FLAGS } from './service.js';
import { UP_FLAGS } from './up.js';

/**
 * What a shell offers in a place of the command line: a fixed list, files, or names only fwd can
 * find (`fwd __complete KIND`): tunnels of the file being typed, background fwds, Hosts.
 */
export type ValueKind =
  | { readonly words: readonly string[] }
  | { readonly files: 'yaml' | 'any' }
  | { readonly dynamic: 'tunnels' | 'daemons' | 'daemon-tunnels' | 'hosts' }
  /** Free text (a duration, an address): nothing to offer. */
  | { readonly text: true };

export interface FlagSpec {
  /** `--only`, and `-o` when it has one. */
  readonly names: readonly string[];
  /** What follows the flag; undefined for a flag without a value. */
  readonly value?: ValueKind;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly FlagSpec[];
  /** What the command's arguments are (offered in this order). */
  readonly args: readonly ValueKind[];
}

const YAML: ValueKind = { files: 'yaml' };
const FILE: ValueKind = { files: 'any' };
const TEXT: ValueKind = { text: true };
const TUNNELS: ValueKind = { dynamic: 'tunnels' };
const DAEMONS: ValueKind = { dynamic: 'daemons' };
const HOSTS: ValueKind = { dynamic: 'hosts' };
const DAEMON_TUNNELS: ValueKind = { dynamic: 'daemon-tunnels' };
export const SHELLS: readonly string[] = ['bash', 'zsh', 'fish'];

/** A command's flags from its parseArgs options (one truth), with what to offer after each. */
function flagsOf(options: FlagOptions, values: Readonly<Record<string, ValueKind>> = {}): FlagSpec[] {
  for (const key of Object.keys(values))
    if (!(key in options)) throw new Error(`completion: no flag --${key}`);
  const flags = Object.entries(options).map(([long, option]) => {
    const names = long.length === 1 ? [`-${long}`] : [`--${long}`];
    if (option.short !== undefined && option.short !== long) names.push(`-${option.short}`);
    return option.type === 'string' ? { names, value: values[long] ?? TEXT } : { names };
  });
  return [...flags, { names: ['--help', '-h'] }];
}

/** Every command, with the flags its parser accepts (completion-spec.test.ts holds them together). */
export function commandSpecs(): CommandSpec[] {
  const commands: CommandSpec[] = [
    {
      name: 'up',
      summary: 'bring the tunnels of a file up',
      flags: flagsOf(UP_FLAGS, { only: TUNNELS, 'ssh-config': FILE }),
      args: [YAML],
    },
    {
      name: 'check',
      summary: 'validate a file and show the plan',
      flags: flagsOf(CHECK_FLAGS, { 'ssh-config': FILE }),
      args: [YAML],
    },
    {
      name: 'init',
      summary: 'write a commented tunnels.yaml',
      flags: flagsOf(INIT_FLAGS, { output: YAML, 'ssh-config': FILE }),
      args: [HOSTS],
    },
    { name: 'ps', summary: 'background fwds and their tunnels', flags: flagsOf(PS_FLAGS), args: [] },
    { name: 'logs', summary: "a background fwd's log", flags: flagsOf(LOGS_FLAGS), args: [DAEMONS, YAML] },
    { name: 'down', summary: 'stop background fwds', flags: flagsOf(DOWN_FLAGS), args: [DAEMONS, YAML] },
    {
      name: 'reload',
      summary: 'a background fwd reads its file again',
      flags: flagsOf(RELOAD_FLAGS),
      args: [DAEMONS, YAML],
    },
    {
      name: 'stop',
      summary: 'stop one tunnel of a background fwd',
      flags: flagsOf(RELOAD_FLAGS),
      args: [DAEMON_TUNNELS],
    },
    {
      name: 'start',
      summary: 'start one tunnel of a background fwd',
      flags: flagsOf(RELOAD_FLAGS),
      args: [DAEMON_TUNNELS],
    },
    {
      name: 'relay',
      summary: 'websocket relay to SSH servers',
      flags: flagsOf(RELAY_FLAGS, { 'token-file': FILE, 'tls-cert': FILE, 'tls-key': FILE }),
      args: [],
    },
    {
      name: 'service',
      summary: 'run fwd up FILE at login',
      flags: flagsOf(SERVICE_FLAGS),
      args: [{ words: ['install', 'remove'] }, YAML],
    },
    { name: 'schema', summary: 'JSON Schema of tunnels.yaml', flags: flagsOf({}), args: [] },
    { name: 'completion', summary: 'shell completion script', flags: flagsOf({}), args: [{ words: SHELLS }] },
  ];
  commands.push({
    name: 'help',
    summary: 'help on a command',
    flags: [],
    args: [{ words: commands.map((c) => c.name) }],
  });
  return commands;
}

/** `fwd -L ...`: OpenSSH's flags, then a host. */
export function oneoffSpec(): CommandSpec {
  return {
    name: '-',
    summary: 'an OpenSSH-style one-off',
    flags: [
      ...flagsOf(ONEOFF_FLAGS, { J: HOSTS, i: FILE, 'ssh-config': FILE }),
      { names: ['--version', '-V'] },
    ],
    args: [HOSTS],
  };
}
