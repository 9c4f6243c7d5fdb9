import { formatEndpoint } from '@fwd/core';
import { redactUrl } from '@fwd/ws-transport/redact-url';
import { formatDuration } from './duration.js';
import type { PlanHop, PlanHost } from './plan.js';
import type { TransportEntry } from './schema.js';

/** `alice@login.example.edu:22` */
export const hopText = (hop: PlanHop): string =>
  `${hop.user}@${formatEndpoint({ host: hop.hostName, port: hop.port })}`;

/** A command with any `scheme://user:secret@...?token=` in it redacted, for display. */
export function redactCommand(command: string): string {
  return command.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (url) => {
    try {
      return redactUrl(url);
    } catch {
      return url;
    }
  });
}

/** A transport as it may be shown or printed as JSON: URL redacted, token and headers left out. */
export function shownTransport(transport: TransportEntry): Record<string, unknown> {
  if (transport.type !== 'websocket') return { type: transport.type };
  return {
    type: 'websocket',
    url: redactUrl(transport.url),
    ...(transport.token !== undefined ? { token: '(set, not shown)' } : {}),
    ...(transport.headers !== undefined ? { headers: Object.keys(transport.headers) } : {}),
  };
}

/** The lines under a hop that say what ~/.ssh/config decided and what fwd does not act on. */
function sshConfigLines(hop: PlanHop, indent: string, withProxy = true): string[] {
  const lines: string[] = [];
  if (hop.proxyCommand !== undefined && withProxy)
    lines.push(
      `${indent}proxy    ProxyCommand ${redactCommand(hop.proxyCommand)} (run by fwd up, not by check)`,
    );
  if (hop.hostKeyWarning !== undefined) lines.push(`${indent}warning  ${hop.hostKeyWarning}`);
  for (const i of hop.ignoredSshOptions) {
    const more = i.count > 1 ? ` (+${i.count - 1} more)` : '';
    const why = i.unknown ? 'unknown keyword, ignored' : 'ignored by fwd';
    lines.push(`${indent}ignored  ${i.keyword} ${i.value}${more} (${i.file} line ${i.line}: ${why})`);
  }
  for (const note of hop.sshConfigNotes) lines.push(`${indent}note     ${note}`);
  return lines;
}

/**
 * Every resolved field that decides a host's connection, for `fwd check`: address, jump chain,
 * ProxyCommand, transport, keys, certificates, host key checking and its files, timing, and the
 * ~/.ssh/config keywords fwd ignores. Never a token, header or URL secret.
 */
export function describeHost(host: PlanHost): string[] {
  const lines = [
    host.local
      ? `${host.name}  this machine (Slurm commands run here; SSH into nodes as ${host.user})`
      : `${host.name}  ${hopText(host)}`,
  ];
  for (const hop of host.jumpChain) {
    lines.push(`  jump     ${hop.name === hop.hostName ? '' : `${hop.name} = `}${hopText(hop)}`);
    lines.push(...sshConfigLines(hop, '    '));
  }
  if (host.proxyCommand !== undefined)
    lines.push(`  proxy    ProxyCommand ${redactCommand(host.proxyCommand)} (run by fwd up, not by check)`);
  const first = host.jumpChain[0] ?? host;
  if (first.transport.type === 'websocket')
    lines.push(`  transport websocket ${shownTransport(first.transport).url as string}`);
  const keys = host.identityFiles.length > 0 ? host.identityFiles.join(', ') : 'no key files';
  const agent = host.agentSocket ? `ssh-agent ${host.agentSocket}, then ` : '';
  lines.push(`  auth     ${agent}${keys}${host.identitiesOnly ? ' (IdentitiesOnly)' : ''}`);
  if (host.certificateFiles.length > 0) lines.push(`  certs    ${host.certificateFiles.join(', ')}`);
  const known = [
    `host keys ${host.hostKeys}`,
    `known_hosts ${host.userKnownHostsFiles.join(', ') || 'none'}`,
    `global ${host.globalKnownHostsFiles.join(', ') || 'none'}`,
    ...(host.hashKnownHosts ? ['new entries hashed'] : []),
    ...(host.hostKeyAlias !== undefined ? [`looked up as ${host.hostKeyAlias}`] : []),
  ];
  lines.push(`  keys     ${known.join('; ')}`);
  const keepalive =
    host.keepaliveMs === 0 ? 'off' : `${formatDuration(host.keepaliveMs)} x${host.keepaliveCountMax}`;
  const timeout =
    host.connectTimeoutMs !== undefined ? `, connect timeout ${formatDuration(host.connectTimeoutMs)}` : '';
  lines.push(
    `  options  keepalive ${keepalive}${timeout}, reconnect ${formatDuration(host.reconnect.initialMs)}..${formatDuration(host.reconnect.maxMs)}`,
  );
  lines.push(...sshConfigLines(host, '  ', false));
  return lines;
}
