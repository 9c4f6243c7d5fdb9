import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { type ForwardSpec, FwdError } from '@fwd/core';
import type { PlanTunnel } from '../config/index.js';
import { fillForward } from './placeholders.js';
import type { TunnelGate } from './slurm-gate.js';
import { SlurmGate } from './slurm-gate.js';
import { type PollerOptions, SlurmPoller } from './slurm-poller.js';

/**
 * The Slurm side of a run: one poller per host, shared by all its Slurm tunnels, and a
 * gate per Slurm tunnel. Other tunnels only get `{user}` filled in.
 */
export class SlurmTunnels {
  readonly #pollers = new Map<string, SlurmPoller>();
  readonly #pollerOptions: PollerOptions;
  readonly #baseDir: string;

  /** `baseDir`: where a relative submit script is looked up (default: the current directory). */
  constructor(options: { baseDir?: string; poller?: PollerOptions } = {}) {
    this.#baseDir = options.baseDir ?? process.cwd();
    this.#pollerOptions = options.poller ?? {};
  }

  /**
   * The forwards to give the supervisor now, and the gate of a Slurm tunnel.
   * `user` is the remote user of the tunnel's host.
   */
  forTunnel(
    tunnel: PlanTunnel,
    forwards: readonly ForwardSpec[],
    user: string,
  ): { forwards: ForwardSpec[]; gate?: TunnelGate } {
    if (!tunnel.slurm) return { forwards: forwards.map((f) => fillForward(f, { user })) };
    let poller = this.#pollers.get(tunnel.host);
    if (!poller) {
      poller = new SlurmPoller(this.#pollerOptions);
      this.#pollers.set(tunnel.host, poller);
    }
    const gate = new SlurmGate({
      slurm: tunnel.slurm,
      forwards,
      user,
      poller,
      readScript: (path) => this.#readScript(path),
    });
    return { forwards: [...forwards], gate };
  }

  async #readScript(path: string): Promise<string> {
    const full = resolve(
      this.#baseDir,
      path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path,
    );
    try {
      return await readFile(full, 'utf8');
    } catch (err) {
      throw new FwdError(
        'CONFIG_INVALID',
        `cannot read the sbatch script ${full}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
