import { readFile } from 'node:fs/promises';
import { DEFAULTS, type ForwardSpec, FwdError } from '@fwd/core';
import type { PlanTunnel } from '../config/index.js';
import { localShell } from './local-shell.js';
import { type NodeAccess, NodeConnections } from './node-connections.js';
import { fillForward, hasPlaceholder } from './placeholders.js';
import type { RemoteShell } from './slurm-commands.js';
import type { TunnelGate } from './slurm-gate.js';
import { SlurmGate } from './slurm-gate.js';
import { type PollerOptions, SlurmPoller } from './slurm-poller.js';

/** The host a tunnel runs over, as the Slurm side needs it. */
export interface SlurmHost extends NodeAccess {
  /** The remote user (for `{user}`); on a local host, the user fwd SSHes into nodes as. */
  readonly user: string;
}

/**
 * The Slurm side of a run: per host, one poller and one set of node sessions, shared by all its
 * Slurm tunnels, and a gate per Slurm tunnel. On a `local: true` host, Slurm commands run here.
 * Other tunnels only get `{user}` filled in.
 */
export class SlurmTunnels {
  readonly #pollers = new Map<string, SlurmPoller>();
  readonly #nodes = new Map<string, NodeConnections>();
  #localShell: RemoteShell | undefined;
  readonly #pollerOptions: PollerOptions;

  constructor(options: { poller?: PollerOptions } = {}) {
    this.#pollerOptions = options.poller ?? {};
  }

  /**
   * The forwards to give the supervisor now, and the gate of a Slurm tunnel with how long an early
   * connection waits for it: the tunnel's own slurm.timeout, else as long as core allows (10 min;
   * a browser gives up on its own after about 5).
   */
  forTunnel(
    tunnel: PlanTunnel,
    forwards: readonly ForwardSpec[],
    host: SlurmHost,
  ): { forwards: ForwardSpec[]; gate?: TunnelGate; holdMs?: number } {
    if (!tunnel.slurm) return { forwards: forwards.map((f) => fillForward(f, { user: host.user })) };
    let poller = this.#pollers.get(tunnel.host);
    if (!poller) {
      poller = new SlurmPoller(this.#pollerOptions);
      this.#pollers.set(tunnel.host, poller);
    }
    const via = tunnel.via ?? (host.local ? 'node' : 'login');
    let nodes = this.#nodes.get(tunnel.host);
    if (!nodes && via === 'node') {
      nodes = new NodeConnections(host);
      this.#nodes.set(tunnel.host, nodes);
    }
    if (host.local) this.#localShell ??= localShell();
    const gate = new SlurmGate({
      slurm: tunnel.slurm,
      forwards,
      user: host.user,
      poller,
      readScript: (path) => this.#readScript(path),
      via,
      ...(nodes ? { nodes } : {}),
      ...(host.local && this.#localShell ? { shell: this.#localShell } : {}),
    });
    // Listeners whose address is already known are bound now: connections made while the job
    // is pending are held there until it runs (see TunnelSpec.forwards).
    const early = forwards.map((f) => fillForward(f, { user: host.user })).filter((f) => !hasPlaceholder(f));
    return { forwards: early, gate, holdMs: tunnel.slurm.timeoutMs ?? DEFAULTS.maxHoldMs };
  }

  /** The script's text; its path was resolved once, with the plan (runtime/load-plan.ts). */
  async #readScript(path: string): Promise<string> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new FwdError(
        'CONFIG_INVALID',
        `cannot read the sbatch script ${path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
