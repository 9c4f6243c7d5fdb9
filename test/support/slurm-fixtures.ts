import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster } from './cluster.js';
import type { FwdEvent } from './fwd-cli.js';

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
  const path = await mkdtemp(join(tmpdir(), prefix));
  const ssh = join(path, '.ssh');
  await mkdir(ssh, { mode: 0o700 });
  await writeFile(join(ssh, 'id_ed25519'), cluster.privateKey, { mode: 0o600 });
  await writeFile(join(ssh, 'known_hosts'), `${cluster.knownHostsLine}\n`);
  await writeFile(
    join(ssh, 'config'),
    `Host cluster\n  HostName 127.0.0.1\n  Port ${cluster.port}\n  User alice\n`,
  );
  const dispose = (): Promise<void> => rm(path, { recursive: true, force: true });
  return { path, [Symbol.asyncDispose]: dispose };
}

/** A predicate on the tunnel events of tunnel `name`. */
export const tunnelEvent =
  (name: string, test: (e: FwdEvent) => boolean) =>
  (e: FwdEvent): boolean =>
    e.event === 'tunnel' && e.tunnel === name && test(e);

export const inState = (name: string, state: string) => tunnelEvent(name, (e) => e.state === state);

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
