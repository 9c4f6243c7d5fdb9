import { join } from 'node:path';
import type { Env } from './interpolate.js';
import {
  expandTilde,
  flattenSshConfig,
  type IncludeContext,
  literalHostNames,
  readIfExists,
} from './ssh-config-include.js';

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
  /** For `IdentityAgent SSH_AUTH_SOCK` / `$VAR` and the default agent. */
  env?: Env;
}

/** A ProxyJump entry: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface SshDestination {
  host: string;
  user?: string;
  port?: number;
}

/** What ~/.ssh/config says about one host, with OpenSSH's defaults filled in. */
export interface ResolvedSshHost {
  alias: string;
  hostName: string;
  port: number;
  user: string;
  /** Given by IdentityFile, else the OpenSSH default keys (callers skip ones that do not exist). */
  identityFiles: string[];
  /** Whether `identityFiles` came from the config rather than the defaults. */
  identityFilesExplicit: boolean;
  identitiesOnly: boolean;
  /** ProxyJump chain, outermost first; empty for none. */
  proxyJump: SshDestination[];
  proxyCommand?: string;
  /** Agent socket from IdentityAgent or SSH_AUTH_SOCK; absent when none or `IdentityAgent none`. */
  identityAgent?: string;
  userKnownHostsFiles: string[];
  globalKnownHostsFiles: string[];
  /** Lower-cased StrictHostKeyChecking value (`yes`, `accept-new`, `no`, ...). */
  strictHostKeyChecking?: string;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function percentExpand(text: string, tokens: Record<string, string>): string {
  // Unknown tokens are kept as written rather than guessed.
  return text.replace(/%(.)/g, (whole, key: string) => tokens[key] ?? whole);
}

/**
 * Parses a destination as `ssh -J` does: `[user@]host[:port]`, `ssh://[user@]host[:port]`, with
 * `[IPv6]` brackets. Returns undefined for a malformed port.
 *
 * @example parseDestination('alice@gw:2222') // { host: 'gw', user: 'alice', port: 2222 }
 */
export function parseDestination(text: string): SshDestination | undefined {
  let rest = text.trim().replace(/^ssh:\/\//, '');
  const out: SshDestination = { host: '' };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0) return undefined;
    out.user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  const plain = /^([^:]+)(?::(.*))?$/.exec(rest);
  const match = bracket ?? (rest.split(':').length > 2 ? null : plain);
  out.host = match?.[1] ?? rest;
  const port = match?.[2];
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return undefined;
    out.port = Number(port);
  }
  return out.host === '' ? undefined : out;
}

function configSources(options: SshConfigOptions): { text: string; ctx: IncludeContext }[] {
  const sshDir = join(options.homeDir, '.ssh');
  const base = { homeDir: options.homeDir, read: readIfExists };
  const user = options.configText ?? readIfExists(options.configPath ?? join(sshDir, 'config')) ?? '';
  const sources = [{ text: user, ctx: { ...base, baseDir: sshDir } }];
  if (options.systemConfigPath !== undefined) {
    sources.push({
      text: readIfExists(options.systemConfigPath) ?? '',
      ctx: { ...base, baseDir: '/etc/ssh' },
    });
  }
  return sources;
}

/** Merges computed configs; the first source that sets a key wins, as in OpenSSH. */
function computeAll(alias: string, options: SshConfigOptions): Record<string, string | string[]> {
  const merged: Record<string, string | string[]> = {};
  for (const { text, ctx } of configSources(options)) {
    const computed = flattenSshConfig(text, alias, ctx).compute(alias, {
      ignoreCase: true,
      matchExec: false,
    });
    for (const [key, value] of Object.entries(computed)) {
      const earlier = merged[key];
      if (earlier === undefined) merged[key] = value;
      else if (key === 'identityfile' && Array.isArray(earlier))
        merged[key] = [...earlier, ...[value].flat()];
    }
  }
  return merged;
}

const first = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;
const all = (value: string | string[] | undefined): string[] =>
  value === undefined
    ? []
    : (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/)).filter(Boolean);

function agentSocket(
  setting: string | undefined,
  env: Env,
  expand: (path: string) => string,
): string | undefined {
  if (setting === undefined || setting === 'SSH_AUTH_SOCK') return env.SSH_AUTH_SOCK || undefined;
  if (setting.toLowerCase() === 'none') return undefined;
  const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(setting);
  return variable ? env[variable[1] as string] || undefined : expand(setting);
}

/**
 * Resolves a host alias through ssh config the way OpenSSH does: the first value obtained for a
 * key wins, Host/Match patterns (with `!` negation) via the ssh-config package, Include (relative
 * to ~/.ssh, with globs, conditional inside Host blocks), `%h %p %r %u %d %n` tokens and `~` in
 * paths, `ProxyJump none`, and the defaults (port 22, the local user, ~/.ssh/id_* keys).
 * `Match exec` is never run. Throws on an Include loop.
 *
 * @example
 * resolveSshHost('cluster', { homeDir: os.homedir(), user: os.userInfo().username, env: process.env })
 */
export function resolveSshHost(alias: string, options: SshConfigOptions): ResolvedSshHost {
  const c = computeAll(alias, options);
  const env = options.env ?? {};
  const hostName = percentExpand(first(c.hostname) ?? alias, { h: alias, '%': '%' });
  const port = Number(first(c.port) ?? '22');
  const user = first(c.user) ?? options.user;
  const tokens = {
    '%': '%',
    h: hostName,
    p: String(port),
    r: user,
    u: options.user,
    d: options.homeDir,
    n: alias,
  };
  const path = (p: string) => expandTilde(percentExpand(p, tokens), options.homeDir);

  const configured = all(c.identityfile).filter((f) => f.toLowerCase() !== 'none');
  const jumpSetting = first(c.proxyjump);
  const proxyJump =
    jumpSetting === undefined || jumpSetting.toLowerCase() === 'none'
      ? []
      : percentExpand(jumpSetting, tokens)
          .split(',')
          .map((entry) => {
            const parsed = parseDestination(entry);
            if (parsed === undefined)
              throw new Error(`ssh config: bad ProxyJump entry "${entry}" for ${alias}`);
            return parsed;
          });
  const resolved: ResolvedSshHost = {
    alias,
    hostName,
    port: Number.isInteger(port) && port > 0 && port < 65536 ? port : 22,
    user,
    identityFiles:
      configured.length > 0
        ? configured.map(path)
        : DEFAULT_KEYS.map((k) => join(options.homeDir, '.ssh', k)),
    identityFilesExplicit: configured.length > 0,
    identitiesOnly: first(c.identitiesonly)?.toLowerCase() === 'yes',
    proxyJump,
    userKnownHostsFiles: all(c.userknownhostsfile).map(path),
    globalKnownHostsFiles: all(c.globalknownhostsfile).map(path),
  };
  if (resolved.userKnownHostsFiles.length === 0) {
    resolved.userKnownHostsFiles = ['known_hosts', 'known_hosts2'].map((f) =>
      join(options.homeDir, '.ssh', f),
    );
  }
  if (resolved.globalKnownHostsFiles.length === 0) {
    resolved.globalKnownHostsFiles = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
  }
  for (const list of [resolved.userKnownHostsFiles, resolved.globalKnownHostsFiles]) {
    if (list.length === 1 && list[0]?.toLowerCase() === 'none') list.length = 0;
  }
  const proxyCommand = first(c.proxycommand);
  if (proxyCommand !== undefined && proxyCommand.toLowerCase() !== 'none')
    resolved.proxyCommand = proxyCommand;
  const agent = agentSocket(first(c.identityagent), env, path);
  if (agent !== undefined) resolved.identityAgent = agent;
  const strict = first(c.stricthostkeychecking);
  if (strict !== undefined) resolved.strictHostKeyChecking = strict.toLowerCase();
  return resolved;
}

/**
 * A predicate for `loadConfig`'s `knownSshHosts`: true for names that appear literally on a
 * `Host` line (patterns such as `*` or `node*` do not count: they would make every typo valid).
 */
export function sshConfigHostNames(options: SshConfigOptions): (name: string) => boolean {
  const names = new Set<string>();
  for (const { text, ctx } of configSources(options))
    for (const n of literalHostNames(text, ctx)) names.add(n);
  return (name) => names.has(name);
}
