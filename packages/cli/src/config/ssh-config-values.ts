import { parseDestination } from './ssh-config-destination.js';
import { SshConfigError, type SshConfigLine } from './ssh-config-lexer.js';

/** A value and the line it was obtained from. */
export interface Obtained<T> {
  readonly value: T;
  readonly file: string;
  readonly line: number;
}

/** StrictHostKeyChecking as OpenSSH understands it (`true`/`off` etc. folded in). */
export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

/** What the lines applying to one host set, first value obtained wins (readconf.c `Options`). */
export interface SshConfigValues {
  hostName?: Obtained<string>;
  port?: Obtained<number>;
  user?: Obtained<string>;
  /** Every IdentityFile that applied, unexpanded, duplicates dropped (they accumulate). */
  identityFiles: Obtained<string>[];
  certificateFiles: Obtained<string>[];
  identitiesOnly?: Obtained<boolean>;
  identityAgent?: Obtained<string>;
  /** As written; `none` included. Set only when no ProxyCommand came first. */
  proxyJump?: Obtained<string>;
  /** As written (tokens unexpanded); `none` included. Set only when no ProxyJump came first. */
  proxyCommand?: Obtained<string>;
  proxyUseFdpass?: Obtained<boolean>;
  userKnownHostsFiles?: Obtained<string[]>;
  globalKnownHostsFiles?: Obtained<string[]>;
  strictHostKeyChecking?: Obtained<StrictHostKeyChecking>;
  hashKnownHosts?: Obtained<boolean>;
  hostKeyAlias?: Obtained<string>;
  /** Seconds. */
  serverAliveInterval?: Obtained<number>;
  serverAliveCountMax?: Obtained<number>;
  /** Seconds. */
  connectTimeout?: Obtained<number>;
  tag?: Obtained<string>;
  ignoreUnknown?: Obtained<string>;
}

type Scalar = Exclude<keyof SshConfigValues, 'identityFiles' | 'certificateFiles'>;

const fail = (line: SshConfigLine, what: string): never => {
  throw new SshConfigError(line.file, line.line, what);
};

/** The single argument of a line; more is "extra arguments at end of line" as in OpenSSH. */
function single(line: SshConfigLine): string {
  const [arg, ...extra] = line.args;
  if (arg === undefined || arg === '') fail(line, 'missing argument');
  if (extra.length > 0) fail(line, `keyword ${line.keyword} extra arguments at end of line`);
  return arg as string;
}

function flag(line: SshConfigLine): boolean {
  const arg = single(line).toLowerCase();
  if (arg === 'yes' || arg === 'true') return true;
  if (arg === 'no' || arg === 'false') return false;
  return fail(line, `unsupported option "${arg}"`);
}

/** OpenSSH's convtime(): `90`, `1m30s`, `1h`, units s m h d w; `none` leaves the value unset. */
function time(line: SshConfigLine): number | undefined {
  const arg = single(line);
  if (arg === 'none') return undefined;
  if (!/^(\d+[smhdwSMHDW])*\d*$/.test(arg)) fail(line, 'invalid time value.');
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  let seconds = 0;
  for (const [, n, u] of arg.matchAll(/(\d+)([a-zA-Z]?)/g))
    seconds += Number(n) * (unit[(u ?? '').toLowerCase()] ?? 1);
  return seconds > 2 ** 31 - 1 ? fail(line, 'invalid time value.') : seconds;
}

function integer(line: SshConfigLine): number {
  const arg = single(line);
  const n = Number(arg);
  return /^\d+$/.test(arg) && n <= 2 ** 31 - 1 ? n : fail(line, `integer value ${arg} is invalid.`);
}

function strict(line: SshConfigLine): StrictHostKeyChecking {
  const arg = single(line).toLowerCase();
  if (arg === 'yes' || arg === 'true') return 'yes';
  if (arg === 'no' || arg === 'false' || arg === 'off') return 'no';
  if (arg === 'ask' || arg === 'accept-new') return arg;
  return fail(line, `unsupported option "${arg}"`);
}

/** IdentityAgent: `${VAR}` must be well formed, a legacy `$VAR` must be a valid name. */
function agent(line: SshConfigLine): string {
  const arg = single(line);
  if (
    /\$\{(?![A-Za-z_][A-Za-z0-9_]*\})/.test(arg) ||
    (/^\$[^{]/.test(arg) && !/^\$[A-Za-z_][A-Za-z0-9_]*$/.test(arg))
  )
    fail(line, `Invalid environment expansion ${arg}.`);
  return arg;
}

/** Known-hosts lists: `none` only alone; the list is taken whole from the first line that applies. */
function fileList(line: SshConfigLine): string[] {
  if (line.args.some((a) => a === '')) fail(line, `keyword ${line.keyword} empty argument`);
  if (line.args.length > 1 && line.args.some((a) => a.toLowerCase() === 'none'))
    fail(line, `keyword ${line.keyword} "none" argument must appear alone.`);
  return [...line.args];
}

/** ProxyJump/ProxyCommand take the raw rest of the line; ProxyJump also drops a `#` comment. */
function jump(line: SshConfigLine): string {
  const text = (line.rest.split('#')[0] ?? '').trimEnd();
  if (text.toLowerCase() === 'none') return 'none';
  for (const entry of text.split(',')) {
    // ssh's hpdelim() splits host and port at the first ':' unless the host is in brackets.
    const hostPort = entry
      .trim()
      .replace(/^ssh:\/\//, '')
      .replace(/^.*@/, '');
    const unbracketed = !hostPort.startsWith('[') && hostPort.split(':').length > 2;
    if (parseDestination(entry) === undefined || /\s/.test(entry.trim()) || unbracketed)
      fail(line, `Invalid ProxyJump "${line.rest}"`);
  }
  return text;
}

const PARSERS: Partial<Record<string, [Scalar, (line: SshConfigLine) => unknown]>> = {
  hostname: ['hostName', single],
  port: [
    'port',
    (line) => {
      const arg = single(line);
      const n = Number(arg);
      return /^\d+$/.test(arg) && n > 0 && n < 65536 ? n : fail(line, `Bad port '${arg}'.`);
    },
  ],
  user: ['user', single],
  identitiesonly: ['identitiesOnly', flag],
  identityagent: ['identityAgent', agent],
  proxyusefdpass: ['proxyUseFdpass', flag],
  userknownhostsfile: ['userKnownHostsFiles', fileList],
  globalknownhostsfile: ['globalKnownHostsFiles', fileList],
  stricthostkeychecking: ['strictHostKeyChecking', strict],
  hashknownhosts: ['hashKnownHosts', flag],
  hostkeyalias: ['hostKeyAlias', single],
  serveraliveinterval: ['serverAliveInterval', time],
  serveralivecountmax: ['serverAliveCountMax', integer],
  connecttimeout: ['connectTimeout', time],
  tag: ['tag', single],
  ignoreunknown: ['ignoreUnknown', single],
};

/**
 * Applies one honoured keyword line: its value is checked whether or not the line applies (ssh
 * refuses a bad value anywhere) and kept only when the line applies and nothing set it before.
 * Returns false for keywords it does not handle.
 */
export function applyValue(values: SshConfigValues, line: SshConfigLine, active: boolean): boolean {
  const { keyword } = line;
  const at = { file: line.file, line: line.line };
  if (keyword === 'identityfile' || keyword === 'identityfile2' || keyword === 'certificatefile') {
    const path = single(line);
    const list = keyword === 'certificatefile' ? values.certificateFiles : values.identityFiles;
    if (active && !list.some((o) => o.value === path)) list.push({ value: path, ...at });
    return true;
  }
  if (keyword === 'proxyjump') {
    const value = jump(line);
    if (active && !values.proxyCommand && !values.proxyJump) values.proxyJump = { value, ...at };
    return true;
  }
  if (keyword === 'proxycommand') {
    if (active && !values.proxyCommand && !values.proxyJump)
      values.proxyCommand = { value: line.rest, ...at };
    return true;
  }
  const parser = PARSERS[keyword];
  if (parser === undefined) return false;
  const [field, parse] = parser;
  const value = parse(line);
  if (active && value !== undefined && values[field] === undefined)
    (values as Record<Scalar, Obtained<unknown>>)[field] = { value, ...at };
  return true;
}
