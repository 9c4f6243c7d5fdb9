import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Cluster, type ClusterExecResult, type StartClusterOptions, startCluster } from './cluster.js';
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

/**
 * One fake cluster and one HOME for a `describe` block: started in its `beforeAll` (then
 * `prepare(home)`, e.g. to copy job scripts), stopped and removed in its `afterAll`. The shell
 * helpers reach the cluster only when called, so tests can take them at definition time.
 */
export interface ClusterSuite extends LoginShell {
  readonly cluster: Cluster;
  /** The HOME directory fwd runs with. */
  readonly home: string;
  /** Writes HOME/NAME with `tunnels:` and the given lines under it; its path. */
  yaml(name: string, tunnels: readonly string[]): Promise<string>;
}

export function clusterSuite(
  options: StartClusterOptions,
  homePrefix?: string,
  prepare?: (home: string) => Promise<void>,
): ClusterSuite {
  let cluster: Cluster | undefined;
  let home: ClusterHome | undefined;
  beforeAll(async () => {
    cluster = await startCluster(options);
    home = await clusterHome(cluster, homePrefix);
    await prepare?.(home.path);
  });
  afterAll(async () => {
    await cluster?.close();
    await home?.[Symbol.asyncDispose]();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the cluster suite is used before its beforeAll ran');
    return value;
  };
  const shell = (): LoginShell => loginShell(started(cluster));
  return {
    get cluster() {
      return started(cluster);
    },
    get home() {
      return started(home).path;
    },
    sh: (cmd, env) => shell().sh(cmd, env),
    sbatch: (args, env) => shell().sbatch(args, env),
    jobState: (id) => shell().jobState(id),
    yaml: (name, tunnels) => writeYaml(started(home).path, name, ['tunnels:', ...tunnels]),
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
