import { join } from 'node:path';
import type { Env } from './interpolate.js';
import { parseDestination, type SshDestination } from './ssh-config-destination.js';
import {
  type ConfigSource,
  evaluateSshConfig,
  expandHostName,
  type IgnoredKeyword,
} from './ssh-config-evaluate.js';
import { ConfigFiles, readIfExists } from './ssh-config-include.js';
import { SshConfigError } from './ssh-config-lexer.js';
import { runMatchExec } from './ssh-config-match.js';
import { type ConnectionTokens, expandHome, expandPath } from './ssh-config-tokens.js';
import type { Obtained, StrictHostKeyChecking } from './ssh-config-values.js';

export type { IgnoredKeyword, StrictHostKeyChecking };
export { parseDestination, type SshDestination };

/** Where to find ssh configuration and who the local user is. */
export interface SshConfigOptions {
  /** Config text to use instead of reading `configPath` (tests, `-F`). */
  configText?: string;
  /** Defaults to `~/.ssh/config`; a missing file is an empty config. */
  configPath?: string;
  /** Read after the user's file, like OpenSSH's /etc/ssh/ssh_config; not read unless given. */
  systemConfigPath?: string;
  homeDir: string;
  /** Local user name: the default remote user and `%u`. */
  user: string;
  /** For `IdentityAgent SSH_AUTH_SOCK` / `$VAR` / `${VAR}` and the default agent. */
  env?: Env;
  /** Reads a config file (tests count reads); default: the file system. */
  read?: (path: string) => string | undefined;
  /** Runs a `Match exec` command, true when it exits 0; default: `$SHELL -c`, as ssh does. */
  matchExec?: (command: string) => boolean;
}

/** What ~/.ssh/config says about one host, with OpenSSH's defaults filled in: what `ssh -G` prints. */
export interface ResolvedSshHost {
  alias: string;
  /** HostName with %h expanded, lower-cased (not an IP address), else the alias lower-cased. */
  hostName: string;
  port: number;
  user: string;
  /**
   * IdentityFile paths, expanded; else OpenSSH's default keys of the types fwd can use, in
   * OpenSSH's order (callers skip ones that do not exist). `IdentityFile none` adds no key.
   */
  identityFiles: string[];
  /** Whether `identityFiles` came from the config rather than the defaults. */
  identityFilesExplicit: boolean;
  identitiesOnly: boolean;
  /** CertificateFile paths, expanded. */
  certificateFiles: string[];
  /** ProxyJump chain, outermost first; empty for none. */
  proxyJump: SshDestination[];
  /** ProxyCommand as written, `%` tokens unexpanded (the command transport expands them); absent for none. */
  proxyCommand?: string;
  proxyUseFdpass: boolean;
  /** Agent socket from IdentityAgent or SSH_AUTH_SOCK; absent when none or `IdentityAgent none`. */
  identityAgent?: string;
  /** Empty for `UserKnownHostsFile none`. */
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** Unset when the config does not say (ssh then asks: `ask`). */
  strictHostKeyChecking?: StrictHostKeyChecking;
  hashKnownHosts: boolean;
  /** Lower-cased, as ssh uses it. */
  hostKeyAlias?: string;
  /** ServerAliveInterval in seconds, when the config sets it (0 = off). */
  serverAliveInterval?: number;
  serverAliveCountMax: number;
  /** ConnectTimeout in seconds, when set. */
  connectTimeout?: number;
  /** Keywords that applied but that fwd does not act on (`fwd check` lists them). */
  ignored: IgnoredKeyword[];
  /** Where fwd's reading differs from ssh's (Match exec is not run, ...). */
  notes: string[];
  /** Which file and line set the main settings, for messages. */
  origins: Partial<
    Record<'proxyCommand' | 'proxyUseFdpass' | 'userKnownHostsFiles' | 'strictHostKeyChecking', string>
  >;
}

/** OpenSSH's default identities (readconf.c fill_default_options), in its order, limited to types fwd can use. */
const DEFAULT_KEYS = ['id_rsa', 'id_ecdsa', 'id_ed25519'];

function configSources(options: SshConfigOptions): ConfigSource[] {
  const path = options.configPath ?? join(options.homeDir, '.ssh', 'config');
  const user: ConfigSource = { path, userConf: true };
  if (options.configText !== undefined) user.text = options.configText;
  const sources = [user];
  if (options.systemConfigPath !== undefined)
    sources.push({ path: options.systemConfigPath, userConf: false });
  return sources;
}

const where = (o: Obtained<unknown> | undefined): string | undefined =>
  o === undefined ? undefined : o.line === 0 ? o.file : `${o.file} line ${o.line}`;

/**
 * Resolves a host name through ssh config the way `ssh -G NAME` does (OpenSSH readconf.c):
 * first value obtained wins; Host patterns with `!`; Match host/originalhost/user/localuser/all/
 * canonical/final/tagged with `!`; Include (relative to ~/.ssh, globs, inside blocks); quoted
 * values; `%` tokens and `${VAR}` in paths; `~`; the OpenSSH defaults; `Match exec` commands
 * (run as ssh runs them). Hostname canonicalization (DNS) is not done: reported in `ignored`.
 * `preset` is what ssh takes from its command line (`user@`, `-p`): it wins over the files.
 * Throws SshConfigError (file and line) where ssh would refuse the config.
 *
 * @example
 * resolveSshHost('cluster', { homeDir: os.homedir(), user: os.userInfo().username, env: process.env })
 */
export function resolveSshHost(
  alias: string,
  options: SshConfigOptions,
  preset: { user?: string; port?: number } = {},
): ResolvedSshHost {
  const env = options.env ?? {};
  const files = new ConfigFiles(options.homeDir, options.read ?? readIfExists);
  const evaluated = evaluateSshConfig({
    sources: configSources(options),
    files,
    name: alias,
    localUser: options.user,
    preset,
    homeDir: options.homeDir,
    // Resolving a host for a login: its Match exec commands run, as ssh runs them.
    matchExec: options.matchExec ?? runMatchExec,
  });
  const c = evaluated.values;
  const hostName = c.hostName
    ? expandHostName(c.hostName, alias)
    : /^[0-9.]+$|:/.test(alias)
      ? alias
      : alias.toLowerCase();
  const t: ConnectionTokens = {
    alias,
    hostName,
    port: c.port?.value ?? 22,
    user: c.user?.value ?? options.user,
    localUser: options.user,
    homeDir: options.homeDir,
  };
  if (c.hostKeyAlias) t.hostKeyAlias = c.hostKeyAlias.value.toLowerCase();
  const path = (o: Obtained<string>, what: string) => expandPath(o, t, env, what);

  const identityFiles = c.identityFiles
    .filter((o) => o.value.toLowerCase() !== 'none')
    .map((o) => path(o, 'IdentityFile'));
  const userKnown = c.userKnownHostsFiles;
  const globalKnown = c.globalKnownHostsFiles;
  const none = (list: string[]) => list.length === 1 && list[0]?.toLowerCase() === 'none';
  const resolved: ResolvedSshHost = {
    alias,
    hostName,
    port: t.port,
    user: t.user,
    identityFiles:
      c.identityFiles.length > 0 ? identityFiles : DEFAULT_KEYS.map((k) => join(options.homeDir, '.ssh', k)),
    identityFilesExplicit: c.identityFiles.length > 0,
    identitiesOnly: c.identitiesOnly?.value ?? false,
    certificateFiles: c.certificateFiles.map((o) => path(o, 'CertificateFile')),
    proxyJump: proxyJump(c.proxyJump),
    proxyUseFdpass: c.proxyUseFdpass?.value ?? false,
    userKnownHostsFiles: userKnown
      ? none(userKnown.value)
        ? []
        : userKnown.value.map((f) => path({ ...userKnown, value: f }, 'UserKnownHostsFile'))
      : ['known_hosts', 'known_hosts2'].map((f) => join(options.homeDir, '.ssh', f)),
    // ssh.c expands only `~` in GlobalKnownHostsFile.
    globalKnownHostsFiles: globalKnown
      ? none(globalKnown.value)
        ? []
        : globalKnown.value.map((f) => expandHome(f, options.homeDir, options.user))
      : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    hashKnownHosts: c.hashKnownHosts?.value ?? false,
    serverAliveCountMax: c.serverAliveCountMax?.value ?? 3,
    ignored: evaluated.ignored,
    notes: evaluated.notes,
    origins: {},
  };
  const command = c.proxyCommand?.value;
  if (command !== undefined && command.toLowerCase() !== 'none') resolved.proxyCommand = command;
  const agent = identityAgent(c.identityAgent, env, (o) => path(o, 'IdentityAgent'));
  if (agent !== undefined) resolved.identityAgent = agent;
  if (c.strictHostKeyChecking) resolved.strictHostKeyChecking = c.strictHostKeyChecking.value;
  if (t.hostKeyAlias !== undefined) resolved.hostKeyAlias = t.hostKeyAlias;
  if (c.serverAliveInterval) resolved.serverAliveInterval = c.serverAliveInterval.value;
  if (c.connectTimeout) resolved.connectTimeout = c.connectTimeout.value;
  for (const key of [
    'proxyCommand',
    'proxyUseFdpass',
    'userKnownHostsFiles',
    'strictHostKeyChecking',
  ] as const) {
    const origin = where(c[key]);
    if (origin !== undefined) resolved.origins[key] = origin;
  }
  return resolved;
}

function proxyJump(setting: Obtained<string> | undefined): SshDestination[] {
  if (setting === undefined || setting.value === 'none') return [];
  return setting.value.split(',').map((entry) => {
    const parsed = parseDestination(entry);
    if (parsed === undefined)
      throw new SshConfigError(setting.file, setting.line, `bad ProxyJump entry "${entry}"`);
    return parsed;
  });
}

/** The agent socket: IdentityAgent (`none`, `SSH_AUTH_SOCK`, `$VAR`, or a path), else $SSH_AUTH_SOCK. */
function identityAgent(
  setting: Obtained<string> | undefined,
  env: Env,
  expand: (o: Obtained<string>) => string,
): string | undefined {
  if (setting === undefined || setting.value === 'SSH_AUTH_SOCK') return env.SSH_AUTH_SOCK || undefined;
  if (setting.value.toLowerCase() === 'none') return undefined;
  const variable = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(setting.value);
  return variable ? env[variable[1] as string] || undefined : expand(setting);
}

/**
 * A predicate for `loadConfig`'s `knownSshHosts`: true for a name that a Host pattern other than
 * a bare `*` (e.g. `cluster`, `node*`, `gpu?`) or a Match host/originalhost applies to, so
 * `ssh cpu42` and `host: cpu42` agree; a name only `Host *` matches is unknown (a likely typo).
 * A config ssh would refuse makes every name known here: resolving it then reports the problem.
 */
export function sshConfigHostNames(options: SshConfigOptions): (name: string) => boolean {
  const files = new ConfigFiles(options.homeDir, options.read ?? readIfExists);
  return (name) => {
    try {
      return evaluateSshConfig({ sources: configSources(options), files, name, localUser: options.user })
        .byName;
    } catch (error) {
      if (error instanceof SshConfigError) return true;
      throw error;
    }
  };
}
