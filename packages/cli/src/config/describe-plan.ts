import { formatEndpoint } from '@fwd/core';
import { describeHost, redactCommand, shownTransport } from './describe-host.js';
import { formatDuration } from './duration.js';
import type { ParsedForward } from './forward-spec.js';
import type { Plan, PlanHop, PlanTunnel } from './plan.js';

/** One forward as `fwd check` shows it: `local   127.0.0.1:8888 → localhost:8888`. */
export function describeForward(forward: ParsedForward, hostName: string): string {
  switch (forward.kind) {
    case 'local':
      return `local    ${formatEndpoint(forward.bind, 'localhost')} → ${formatEndpoint(forward.target, 'localhost')} (from ${hostName})`;
    case 'remote': {
      const bind =
        'port' in forward.bind && forward.bind.port === 0
          ? `${formatEndpoint(forward.bind, 'localhost')} (server picks the port)`
          : formatEndpoint(forward.bind, 'localhost');
      return `remote   ${hostName} ${bind} → ${formatEndpoint(forward.target, 'localhost')}`;
    }
    case 'dynamic':
      return `dynamic  ${formatEndpoint(forward.bind, 'localhost')} (SOCKS, connections leave from ${hostName})`;
    case 'remote-dynamic':
      return `remote-dynamic  ${hostName} ${formatEndpoint(forward.bind, 'localhost')} (not supported)`;
  }
}

function describeTunnel(tunnel: PlanTunnel, hostName: string): string[] {
  const lines = [`tunnel ${tunnel.name} (host ${tunnel.host}${tunnel.via ? `, via ${tunnel.via}` : ''})`];
  for (const forward of tunnel.forwards) lines.push(`  ${describeForward(forward, hostName)}`);
  const slurm = tunnel.slurm;
  if (slurm !== undefined) {
    const what =
      slurm.mode === 'job'
        ? `job ${slurm.job}`
        : slurm.mode === 'name'
          ? `newest running job named ${slurm.name}`
          : `submit ${'script' in slurm.run ? slurm.run.script : `--wrap ${JSON.stringify(slurm.run.wrap)}`}${slurm.cancelOnExit ? ', cancel on exit' : ''}`;
    const wait = slurm.timeoutMs === undefined ? '' : `, wait up to ${formatDuration(slurm.timeoutMs)}`;
    lines.push(`  slurm    ${what}${wait}`);
  }
  if (tunnel.ready !== undefined) {
    lines.push(
      `  ready    ${tunnel.ready.kind === 'http' ? `when HTTP ${tunnel.ready.path} answers` : 'when a TCP connection succeeds'}`,
    );
  }
  return lines;
}

/**
 * Renders a plan for `fwd check`: each host with every field that decides its connection (see
 * describeHost), then each tunnel with its forwards. Never includes tokens or headers.
 *
 * @example
 * // cluster  alice@login.hpc.example.edu:22
 * //   jump     bob@bastion.example.org:22
 * // tunnel notebook (host cluster)
 * //   local    127.0.0.1:8888 → localhost:8888 (from login.hpc.example.edu)
 * describePlan(plan)
 */
export function describePlan(plan: Plan): string {
  const lines: string[] = [];
  for (const host of plan.hosts) lines.push(...describeHost(host));
  for (const tunnel of plan.tunnels) {
    const host = plan.hosts.find((h) => h.name === tunnel.host);
    const from = tunnel.via === 'node' ? "the job's node" : (host?.hostName ?? tunnel.host);
    lines.push(...describeTunnel(tunnel, from));
  }
  return lines.join('\n');
}

/** A hop for `fwd check --json`: every resolved field, secrets left out (see shownTransport). */
function hopJson(hop: PlanHop): Record<string, unknown> {
  return {
    ...hop,
    transport: shownTransport(hop.transport),
    ...(hop.proxyCommand !== undefined ? { proxyCommand: redactCommand(hop.proxyCommand) } : {}),
  };
}

/**
 * The resolved plan as JSON for `fwd check --json`: hosts with every field of the plan
 * (jump chains included), tunnels with their forwards. The same redaction as the text form.
 */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    hosts: plan.hosts.map((host) => ({ ...hopJson(host), jumpChain: host.jumpChain.map(hopJson) })),
    tunnels: plan.tunnels.map((tunnel) => ({ ...tunnel, forwards: tunnel.forwards.map((f) => ({ ...f })) })),
  };
}
