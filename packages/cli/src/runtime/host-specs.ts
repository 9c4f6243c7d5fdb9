import {
  type ForwardSpec,
  FwdError,
  type HostSpec,
  knownHosts,
  type SupervisorSpec,
  type Transport,
  type TunnelSpec,
} from '@fwd/core';
import type { Plan, PlanHop, PlanHost } from '../config/index.js';
import { keyboardInteractiveAsker, NO_TERMINAL, type Prompter } from '../prompts.js';
import { type SlurmHost, SlurmTunnels } from '../slurm/slurm-tunnels.js';
import { CredentialFiles, rereadCredentials } from './credentials.js';
import { PROXY_COMMAND_CONNECT_TIMEOUT_MS, proxyCommandHop } from './proxy-command-hop.js';

export interface SpecContext {
  prompter: Prompter;
  /** Shown to the user without stopping the run (a missing key file, ...). */
  warn: (message: string) => void;
  /** Builds a non-TCP first hop (websocket relay); absent until that transport is available. */
  transportFor?: (hop: PlanHop) => Promise<Transport | undefined>;
  /** The run's Slurm side, shared by the specs of its reloads (default: a new one). */
  slurm?: SlurmTunnels;
}

/**
 * Turns a resolved plan into what the core supervisor runs: one HostSpec per SSH server (jump
 * hops included, shared when two chains start alike) and one TunnelSpec per tunnel. A
 * `local: true` host is this machine: no HostSpec (no session to keep); its session settings are
 * still built, for the SSH sessions into compute nodes that its Slurm tunnels open.
 */
export async function supervisorSpecFromPlan(plan: Plan, ctx: SpecContext): Promise<SupervisorSpec> {
  const hosts = new Map<string, HostSpec>();
  const files = new CredentialFiles(ctx.warn);
  for (const host of plan.hosts) {
    const hops: PlanHop[] = [...host.jumpChain, host];
    const names = connectionNames(host);
    let via: string | undefined;
    for (const [i, hop] of hops.entries()) {
      const name = names[i] as string;
      if (!hosts.has(name)) hosts.set(name, await hostSpec(name, hop, host, via, i === 0, ctx, files));
      via = name;
    }
  }
  const local = new Set(plan.hosts.filter((h) => h.local).map((h) => h.name));
  const slurm = ctx.slurm ?? new SlurmTunnels();
  const slurmHost = (name: string): SlurmHost => {
    const planned = plan.hosts.find((h) => h.name === name);
    const spec = hosts.get(name);
    if (!planned || !spec) throw new FwdError('CONFIG_INVALID', `no host named "${name}"`);
    return {
      host: name,
      user: planned.user,
      local: planned.local === true,
      // Homes are shared across the cluster: the same user and keys log into its nodes.
      session: spec.session,
      ...(spec.freshCredentials ? { freshCredentials: spec.freshCredentials } : {}),
      ...(spec.reconnect ? { reconnect: spec.reconnect } : {}),
      knownHostsFiles: planned.userKnownHostsFiles,
      globalKnownHostsFiles: planned.globalKnownHostsFiles,
      hostKeyMode: planned.hostKeys,
    };
  };
  const tunnels: TunnelSpec[] = plan.tunnels.map((t) => ({
    name: t.name,
    host: t.host,
    ...(t.ready ? { ready: t.ready } : {}),
    // A Slurm tunnel gets a gate that supplies its forwards once the job runs; {user} is filled everywhere.
    ...slurm.forTunnel(
      t,
      t.forwards.flatMap((f): ForwardSpec[] => {
        if (f.kind === 'remote-dynamic') return [];
        if (f.kind === 'dynamic') return [{ kind: 'dynamic', bind: f.bind }];
        return [{ kind: f.kind, bind: f.bind, target: f.target }];
      }),
      slurmHost(t.host),
    ),
    // An explicit hold: wins over a Slurm tunnel's own timeout.
    ...(t.holdMs !== undefined ? { holdMs: t.holdMs } : {}),
  }));
  return { hosts: [...hosts.values()].filter((h) => !local.has(h.name)), tunnels };
}

/**
 * The names of the connections that reach `host`, outermost first, the last its own name. Jump
 * hops are named by their chain, so that "a → b" via a is not confused with b reached directly.
 */
export function connectionNames(host: PlanHost): string[] {
  const hops = [...host.jumpChain, host];
  return hops.map((_, i) =>
    i === hops.length - 1
      ? host.name
      : hops
          .slice(0, i + 1)
          .map((h) => h.name)
          .join(' → '),
  );
}

async function hostSpec(
  name: string,
  hop: PlanHop,
  host: PlanHost,
  via: string | undefined,
  firstHop: boolean,
  ctx: SpecContext,
  files: CredentialFiles,
): Promise<HostSpec> {
  const { privateKey, certificates } = await files.forHop(hop);
  const where = `${hop.user}@${hop.hostName}${hop.port === 22 ? '' : `:${hop.port}`}`;
  if (hop.hostKeyWarning !== undefined) ctx.warn(hop.hostKeyWarning);
  const { prompter } = ctx;
  const spec: HostSpec = {
    name,
    address: { host: hop.hostName, port: hop.port },
    session: {
      username: hop.user,
      privateKey,
      ...(certificates.length > 0 ? { certificates } : {}),
      passphrase: (label) => prompter.ask(`Enter passphrase for key '${label}': `, { echo: false }),
      password: () => prompter.ask(`${where}'s password: `, { echo: false }),
      keyboardInteractive: keyboardInteractiveAsker(prompter, where),
      ...(prompter.interactive ? {} : { promptsUnavailable: NO_TERMINAL }),
      hostKeys: knownHosts({
        mode: hop.hostKeys,
        files: hop.userKnownHostsFiles,
        globalFiles: hop.globalKnownHostsFiles,
        hashNewEntries: hop.hashKnownHosts,
        ...(hop.hostKeyAlias !== undefined ? { hostKeyAlias: hop.hostKeyAlias } : {}),
        warn: ctx.warn,
      }),
      keepaliveMs: hop.keepaliveMs,
      keepaliveCountMax: hop.keepaliveCountMax,
      ...(host.windowBytes === undefined ? {} : { windowBytes: host.windowBytes }),
      ...(hop.connectTimeoutMs !== undefined ? { connectTimeoutMs: hop.connectTimeoutMs } : {}),
      ...(hop.agentSocket ? { agent: hop.agentSocket } : {}),
      ...(hop.identitiesOnly ? { identitiesOnly: true } : {}),
    },
    // Read again at each login (renewed certificates), silently: missing files were reported above.
    freshCredentials: rereadCredentials(hop, { privateKey, certificates }),
    reconnect: host.reconnect,
  };
  if (via !== undefined) spec.via = via;
  const command = firstHop ? proxyCommandHop(hop, name, ctx.warn) : undefined;
  if (command) {
    spec.transport = command;
    spec.session.connectTimeoutMs = hop.connectTimeoutMs ?? PROXY_COMMAND_CONNECT_TIMEOUT_MS;
  } else if (firstHop && hop.transport.type !== 'tcp') {
    const transport = await ctx.transportFor?.(hop);
    if (!transport) {
      throw new FwdError(
        'CONFIG_INVALID',
        `host ${name}: transport "${hop.transport.type}" is not available in this build`,
      );
    }
    spec.transport = transport;
  }
  return spec;
}
