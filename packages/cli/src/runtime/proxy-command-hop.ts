import { commandTransport, type Transport } from '@fwd/core';
import type { PlanHop } from '../config/index.js';
import { parseDestination } from '../config/ssh-config-destination.js';

/**
 * How long a ProxyCommand has to bring the server's banner when ConnectTimeout is not set. ssh
 * waits without end; commands that log in first (cloudflared, a site's 2FA wrapper) take a person's
 * time, and fwd's 10 s default would kill them and start another every attempt.
 */
export const PROXY_COMMAND_CONNECT_TIMEOUT_MS = 120_000;

/**
 * The first hop of a host with a ProxyCommand (~/.ssh/config, or `transport: { type: command }`):
 * a new command per connect attempt, never run for `fwd check` or to probe. What it writes on
 * stderr (a login URL, a warning) is shown as a warning of the host `name`.
 */
export function proxyCommandHop(
  hop: PlanHop,
  name: string,
  warn: (message: string) => void,
): Transport | undefined {
  if (hop.proxyCommand === undefined) return undefined;
  // %n is the name as given to ssh: the alias, without a destination's user@ and :port.
  const originalHost = parseDestination(hop.name)?.host ?? hop.name;
  return commandTransport({
    command: hop.proxyCommand,
    host: hop.hostName,
    port: hop.port,
    user: hop.user,
    originalHost,
    ...(hop.hostKeyAlias !== undefined ? { hostKeyAlias: hop.hostKeyAlias } : {}),
    onStderr: (line) => {
      if (line.trim()) warn(`${name}: ProxyCommand: ${line}`);
    },
  });
}
