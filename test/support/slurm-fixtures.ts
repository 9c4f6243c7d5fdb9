import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cluster, ClusterExecResult } from './cluster.js';
import type { FwdEvent } from './fwd-cli.js';
import { tempHome } from './ssh-home.js';

// fwd's NDJSON readers live in fwd-cli.ts; the Slurm tests import them from here too.
export { inState, tunnelEvent } from './fwd-cli.js';

/**
 * What the Slurm e2e tests share: a HOME on this machine that reaches the fake cluster as alice,
 * and readers of fwd's NDJSON tunnel events.
 */
export interface ClusterHome extends AsyncDisposable {
  readonly path: string;
}

/**
 * A fresh HOME with alice's key, login's host key only (the nodes' keys come from login's
 * /etc/ssh/ssh_known_hosts, read over SSH) and `Host cluster` in ~/.ssh/config. Removed on dispose.
 */
export async function clusterHome(cluster: Cluster, prefix = 'fwd-slurm-home-'): Promise<ClusterHome> {
  const home = await tempHome({
    prefix,
    privateKey: cluster.privateKey,
    knownHosts: [cluster.knownHostsLine],
    sshConfig: `Host cluster\n  HostName 127.0.0.1\n  Port ${cluster.port}\n  User alice\n`,
  });
  return { path: home.dir, [Symbol.asyncDispose]: () => home[Symbol.asyncDispose]() };
}

/** A shell on login as alice, with the Slurm commands the tests run there themselves. */
export interface LoginShell {
  sh(cmd: string, env?: Record<string, string>): Promise<ClusterExecResult>;
  /** `sbatch --parsable ARGS` (ARGS as the shell reads them); the job id; throws when sbatch fails. */
  sbatch(args: string, env?: Record<string, string>): Promise<string>;
  /** The job's JobState= in `scontrol show job`; undefined once Slurm forgot it. */
  jobState(id: string): Promise<string | undefined>;
}

export function loginShell(cluster: Cluster, user = 'alice'): LoginShell {
  const sh = (cmd: string, env: Record<string, string> = {}) =>
    cluster.exec('login', ['bash', '-c', cmd], { user, env });
  return {
    sh,
    async sbatch(args, env = {}) {
      const result = await sh(`sbatch --parsable ${args}`, env);
      if (result.exitCode !== 0) throw new Error(`sbatch ${args}: exit ${result.exitCode}: ${result.stderr}`);
      return result.stdout.trim();
    },
    async jobState(id) {
      return /JobState=(\S+)/.exec((await sh(`scontrol show job ${id}`)).stdout)?.[1];
    },
  };
}

/** Writes HOME/NAME: a tunnels.yaml of `version: 1` and `lines`; its path. */
export async function writeYaml(home: string, name: string, lines: readonly string[]): Promise<string> {
  const file = join(home, name);
  await writeFile(file, ['version: 1', ...lines, ''].join('\n'));
  return file;
}

export const detailOf = (e: FwdEvent): string => (typeof e.detail === 'string' ? e.detail : '');

export const errorOf = (e: FwdEvent) => e.error as { code: string; message: string } | undefined;

/** The job of a Slurm tunnel's event: its `job` fact, else from its detail ("job 12 on node1" → "12"). */
export function jobIdOf(event: FwdEvent): string {
  const id = typeof event.job === 'string' ? event.job : /^job (\d+)\b/.exec(detailOf(event))?.[1];
  if (!id) throw new Error(`no job id in ${JSON.stringify(event)}`);
  return id;
}

/** The `url` of a tunnel event's forward (the app's tokenised URL once fwd read it from the job's output). */
export function forwardUrl(event: FwdEvent, index = 0): string | undefined {
  return (event.forwards as Array<{ url?: string }> | undefined)?.[index]?.url;
}
