import { formatEndpoint, isLoopbackHost, isSocketPath, isWildcardHost, type TcpAddress } from '@fwd/core';
import type { ParsedForward, Plan } from '../config/index.js';

/** Who, besides this machine, can connect to an address bound on `host`. */
function whoCanReach(host: string | undefined, machine: string): string | undefined {
  if (host === undefined || isLoopbackHost(host)) return undefined;
  return isWildcardHost(host)
    ? `every machine that can reach ${machine}`
    : `every machine on the network of ${host}`;
}

function forwardExposure(tunnel: string, forward: ParsedForward, hostName: string): string | undefined {
  if (isSocketPath(forward.bind)) return undefined;
  const where = formatEndpoint(forward.bind);
  switch (forward.kind) {
    case 'local': {
      const who = whoCanReach(forward.bind.host, 'this one');
      return who
        ? `tunnel ${tunnel}: ${where} is open to ${who}: they reach ${formatEndpoint(forward.target, 'localhost')} through your SSH session, with no password; bind 127.0.0.1 (the default) unless that is meant`
        : undefined;
    }
    case 'dynamic': {
      const who = whoCanReach(forward.bind.host, 'this one');
      return who
        ? `tunnel ${tunnel}: the SOCKS proxy on ${where} has no authentication and is open to ${who}: they can connect anywhere ${hostName} can, as you; bind 127.0.0.1 (the default) unless that is meant`
        : undefined;
    }
    case 'remote': {
      const who = whoCanReach(forward.bind.host, hostName);
      return who
        ? `tunnel ${tunnel}: ${hostName} listens on ${formatEndpoint(forward.bind, 'localhost')} for ${who} (if its GatewayPorts allows), and carries them to ${formatEndpoint(forward.target, 'localhost')} on this machine`
        : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Listeners that machines other than this one can reach (OpenSSH's GatewayPorts spirit): a
 * forward bound to 0.0.0.0, `*`, `[::]` or a non-loopback address, with who can reach it.
 */
export function adviseOnExposure(plan: Plan): string[] {
  const hostNames = new Map(plan.hosts.map((h) => [h.name, h.hostName]));
  return plan.tunnels.flatMap((t) =>
    t.forwards.flatMap((f) => forwardExposure(t.name, f, hostNames.get(t.host) ?? t.host) ?? []),
  );
}

/** The same warning for `--metrics`: tunnel names, states and traffic, unauthenticated. */
export function metricsExposure(listen: TcpAddress): string | undefined {
  const who = whoCanReach(listen.host, 'this one');
  return who
    ? `--metrics ${formatEndpoint(listen)} shows tunnel names, hosts, states and traffic to ${who}, without authentication`
    : undefined;
}
