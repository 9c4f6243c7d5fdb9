import type { Plan, PlanHop, PlanHost } from '../config/index.js';
import { connectionNames } from './host-specs.js';

/** What a reload changes: the tunnels to start, stop and restart, and the connections to renew. */
export interface PlanChanges {
  /** Tunnels new in the file. */
  readonly added: readonly string[];
  /** Tunnels no longer in it. */
  readonly removed: readonly string[];
  /** Tunnels in both whose own settings changed (forwards, Slurm, ready check, host, ...). */
  readonly changed: readonly string[];
  /** Connections whose settings changed, by the supervisor's host names (see hostSettings). */
  readonly hosts: readonly string[];
  /** Tunnels restarted only because a connection they use changed. */
  readonly withHost: readonly string[];
}

/**
 * The settings of every connection a plan opens, by the name the supervisor gives it
 * (runtime/host-specs.ts: a host by its name, a jump hop by its chain, `bastion → gw`), as the
 * text of exactly what its HostSpec is built from: the hops up to it, the window and backoff.
 * Two plans agree on a connection when these texts are equal. The first host that reaches a
 * shared hop decides it, as host-specs.ts does. A `local: true` host counts too: its Slurm
 * tunnels use its settings to reach nodes.
 */
export function hostSettings(plan: Plan): Map<string, string> {
  const settings = new Map<string, string>();
  for (const host of plan.hosts) {
    const hops: PlanHop[] = [...host.jumpChain, withoutChain(host)];
    for (const [i, name] of connectionNames(host).entries()) {
      if (settings.has(name)) continue;
      const last = i === hops.length - 1;
      settings.set(
        name,
        JSON.stringify({
          hops: hops.slice(0, i + 1),
          reconnect: host.reconnect,
          windowBytes: host.windowBytes,
          local: last ? host.local === true : false,
        }),
      );
    }
  }
  return settings;
}

function withoutChain(host: PlanHost): PlanHop {
  const { jumpChain: _, reconnect: __, windowBytes: ___, local: ____, ...hop } = host;
  return hop;
}

/** The connections a tunnel's host goes through: its own and each of its jump chain's. */
function connectionsOf(plan: Plan, hostName: string): string[] {
  const host = plan.hosts.find((h) => h.name === hostName);
  return host ? connectionNames(host) : [hostName];
}

/**
 * What to do to run `after` where `before` runs, touching nothing else: a tunnel restarts when
 * its own entry changed, a connection when its settings did (and every tunnel over it, which the
 * supervisor does: `withHost` names them for the report).
 *
 * @example
 * const c = planChanges(running, reread);
 * await supervisor.apply(spec, { tunnels: new Set(c.changed), hosts: new Set(c.hosts) });
 */
export function planChanges(before: Plan, after: Plan): PlanChanges {
  const old = new Map(before.tunnels.map((t) => [t.name, JSON.stringify(t)]));
  const now = new Map(after.tunnels.map((t) => [t.name, JSON.stringify(t)]));
  const added = [...now.keys()].filter((n) => !old.has(n));
  const removed = [...old.keys()].filter((n) => !now.has(n));
  const changed = [...now].filter(([n, text]) => old.has(n) && old.get(n) !== text).map(([n]) => n);
  const oldHosts = hostSettings(before);
  const hosts = [...hostSettings(after)]
    .filter(([name, text]) => oldHosts.has(name) && oldHosts.get(name) !== text)
    .map(([name]) => name);
  const renewed = new Set(hosts);
  const withHost = after.tunnels
    .filter((t) => old.has(t.name) && !changed.includes(t.name))
    .filter((t) => connectionsOf(after, t.host).some((c) => renewed.has(c)))
    .map((t) => t.name);
  return { added, removed, changed, hosts, withHost };
}
