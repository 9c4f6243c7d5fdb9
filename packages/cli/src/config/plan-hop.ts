import { cannotRecordKnownHosts, checkProxyCommand, DEFAULTS, type HostKeyMode } from '@fwd/core';
import { UsageError } from '../usage-error.js';
import type { ConfigDefaults, HostConfig } from './normalize.js';
import type { TransportEntry } from './schema.js';
import type { IgnoredKeyword, ResolvedSshHost, SshDestination } from './ssh-config.js';
import { expandTilde } from './ssh-config-include.js';

/** One SSH server to authenticate to, fully resolved: what ~/.ssh/config and tunnels.yaml decide. */
export interface PlanHop {
  /** The name it was referred by (a `hosts:` key, a ~/.ssh/config alias or a -J destination). */
  name: string;
  hostName: string;
  port: number;
  user: string;
  /** Keys to try in order; callers skip files that do not exist. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** CertificateFile entries (OpenSSH also tries `<key>-cert.pub` next to each key). */
  certificateFiles: string[];
  agentSocket?: string;
  /** How to reach it; only the first hop's transport is used when there is a jump chain. */
  transport: TransportEntry;
  /**
   * ProxyCommand from ~/.ssh/config or `transport: { type: command }`, as written: the command
   * transport expands `%h %p %r %n %%` and runs it. Only on the first hop (ssh ignores it for a
   * host reached through a jump).
   */
  proxyCommand?: string;
  hostKeys: HostKeyMode;
  /** The user's known_hosts files: read, and accept-new records a new key in the first one only. */
  userKnownHostsFiles: string[];
  /** System-wide known_hosts files: read, never written. */
  globalKnownHostsFiles: string[];
  /** Record new keys hashed (`HashKnownHosts yes`). */
  hashKnownHosts: boolean;
  /** Look the host key up under this name (`HostKeyAlias`). */
  hostKeyAlias?: string;
  /** Set when an unknown host key would be accepted without being recorded: it says why. */
  hostKeyWarning?: string;
  /** 0 = no keepalives. tunnels.yaml `defaults.keepalive`, else ServerAliveInterval, else core's default. */
  keepaliveMs: number;
  /** Unanswered keepalives before the connection counts as dead (ServerAliveCountMax). */
  keepaliveCountMax: number;
  /** ConnectTimeout: bound on connect, banner and key exchange; core's default when unset. */
  connectTimeoutMs?: number;
  /** ~/.ssh/config keywords that applied to this host but that fwd does not act on. */
  ignoredSshOptions: IgnoredKeyword[];
  /** Where fwd read ~/.ssh/config differently from ssh (Match exec not run, ...). */
  sshConfigNotes: string[];
}

/** Refuses a command fwd could not run (bad `%` token, `-`) when the plan is made: `fwd check` says so. */
function checkCommand(command: string): void {
  try {
    checkProxyCommand(command);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function hostKeyMode(defaults: ConfigDefaults, strict: string | undefined): HostKeyMode {
  if (defaults.hostKeys !== undefined) return defaults.hostKeys;
  // "no" would accept changed keys too; fwd never does that, accept-new is the closest safe mode.
  return strict === 'accept-new' || strict === 'no' ? 'accept-new' : 'strict';
}

/**
 * The truth about accept-new when the first user known_hosts file cannot keep a key
 * (`UserKnownHostsFile none` or `/dev/null`): every unknown key is then accepted on every
 * connection. Keys listed in any known_hosts file are still checked, and a changed one refused.
 */
function hostKeyWarning(hop: PlanHop, resolved: ResolvedSshHost, fromYaml: boolean): string | undefined {
  if (hop.hostKeys !== 'accept-new') return undefined;
  const first = hop.userKnownHostsFiles[0];
  if (first !== undefined && !cannotRecordKnownHosts(first)) return undefined;
  const why = first === undefined ? 'UserKnownHostsFile none' : `UserKnownHostsFile ${first}`;
  const at = resolved.origins.userKnownHostsFiles;
  const mode = fromYaml
    ? 'hostKeys: accept-new'
    : `StrictHostKeyChecking ${resolved.strictHostKeyChecking}${resolved.origins.strictHostKeyChecking ? ` (${resolved.origins.strictHostKeyChecking})` : ''}`;
  return (
    `host key of ${hop.name} is not verified: with ${mode} an unknown key is accepted on every connection, ` +
    `and ${why}${at ? ` (${at})` : ''} cannot record it; a key listed in ` +
    `${hop.globalKnownHostsFiles.length > 0 ? hop.globalKnownHostsFiles.join(', ') : 'a known_hosts file'} is still checked`
  );
}

/**
 * A hop from its ~/.ssh/config resolution and its tunnels.yaml entry (more specific, so its
 * fields win), as `ssh` with the same destination would connect.
 */
export function planHop(
  ref: SshDestination,
  yaml: HostConfig | undefined,
  resolved: ResolvedSshHost,
  defaults: ConfigDefaults,
  homeDir: string,
): PlanHop {
  const hop: PlanHop = {
    name: ref.host,
    hostName: yaml?.host ?? resolved.hostName,
    port: ref.port ?? yaml?.port ?? resolved.port,
    user: ref.user ?? yaml?.user ?? resolved.user,
    identityFiles: yaml?.identityFiles?.map((f) => expandTilde(f, homeDir)) ?? resolved.identityFiles,
    identitiesOnly: resolved.identitiesOnly,
    certificateFiles:
      yaml?.certificateFiles?.map((f) => expandTilde(f, homeDir)) ?? resolved.certificateFiles,
    // A command transport is carried as proxyCommand below: one way to run a command, one way to show it.
    transport: yaml?.transport?.type === 'command' ? { type: 'tcp' } : (yaml?.transport ?? { type: 'tcp' }),
    hostKeys: hostKeyMode(defaults, resolved.strictHostKeyChecking),
    userKnownHostsFiles: resolved.userKnownHostsFiles,
    globalKnownHostsFiles: resolved.globalKnownHostsFiles,
    hashKnownHosts: resolved.hashKnownHosts,
    keepaliveMs:
      defaults.keepaliveMs ??
      (resolved.serverAliveInterval !== undefined
        ? resolved.serverAliveInterval * 1000
        : DEFAULTS.keepaliveMs),
    keepaliveCountMax: resolved.serverAliveCountMax,
    ignoredSshOptions: resolved.ignored,
    sshConfigNotes: resolved.notes,
  };
  if (resolved.identityAgent !== undefined) hop.agentSocket = resolved.identityAgent;
  if (resolved.hostKeyAlias !== undefined) hop.hostKeyAlias = resolved.hostKeyAlias;
  if (resolved.connectTimeout !== undefined) hop.connectTimeoutMs = resolved.connectTimeout * 1000;
  // A YAML transport or jump is more specific; ssh too ignores ProxyCommand once -J is given.
  if (resolved.proxyCommand !== undefined && yaml?.transport === undefined && yaml?.jump === undefined) {
    if (resolved.proxyUseFdpass) {
      throw new UsageError(
        `ProxyUseFdpass yes (${resolved.origins.proxyUseFdpass}) is not supported: fwd talks to ProxyCommand ` +
          'over its stdin/stdout; set ProxyUseFdpass no for this host',
      );
    }
    hop.proxyCommand = resolved.proxyCommand;
  }
  if (yaml?.transport?.type === 'command') hop.proxyCommand = yaml.transport.command;
  if (hop.proxyCommand !== undefined) checkCommand(hop.proxyCommand);
  const warning = hostKeyWarning(hop, resolved, defaults.hostKeys !== undefined);
  if (warning !== undefined) hop.hostKeyWarning = warning;
  return hop;
}
