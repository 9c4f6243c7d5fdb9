import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import { GenericContainer, getContainerRuntimeClient, Network, Wait } from 'testcontainers';
import { type KeyPair, newKeyPair } from './keys.js';
import { LoopbackContainer } from './loopback-container.js';

/**
 * A fake Slurm cluster (docker/slurm, image fwd/slurm): `login` runs sshd, the controller and the
 * client commands (sbatch, squeue, scontrol, scancel, sinfo); `node1..nodeN` run a node agent and
 * sshd with a pam_slurm_adopt rule (SSH only with a running job there). Only login's port 22 is
 * published, on 127.0.0.1; nodes are reachable from login over the Docker network, by name.
 * /home is one named Docker volume mounted everywhere (like NFS homes), created and removed here.
 */
export interface StartClusterOptions {
  /** Compute nodes, named node1..nodeN (default 2). */
  nodes?: number;
  /** How long every job stays PENDING with Reason=Priority before it may start (default 1). */
  pendingSeconds?: number;
  /** How long finished jobs stay known to `scontrol show job` / `squeue -t all` (default 300). */
  minJobAgeSeconds?: number;
  /** SIGTERM → SIGKILL grace when a job is cancelled, times out or ends (default 2). */
  killWaitSeconds?: number;
  /** Extra seconds a finished job stays COMPLETING (CG) in squeue (default 0). */
  completingSeconds?: number;
  /** CPUs per node (default 4); a job takes 1 unless -n/-c/--exclusive say otherwise. */
  cpusPerNode?: number;
  /** The first job id handed out (default 1, like a fresh cluster). */
  firstJobId?: number;
  /** Client keys for alice and bob (default: fresh ones). */
  aliceKey?: KeyPair;
  bobKey?: KeyPair;
  /** Start-up budget for the whole cluster (default 60 s). */
  startupTimeoutMs?: number;
  /**
   * More bind mounts on login only, e.g. this machine's node binary and the built repo (read-only)
   * to run fwd on the login node itself; the image is Debian 12 like this machine.
   */
  loginMounts?: { source: string; target: string; mode?: 'ro' | 'rw' }[];
}

export type ClusterContainerName = 'login' | `node${number}`;

export interface ClusterExecOptions {
  /** Run as this user (default root). A non-root command starts in /home/<user> with HOME/USER set. */
  user?: string;
  workingDir?: string;
  env?: Record<string, string>;
}

export interface ClusterExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ClusterUser {
  readonly username: string;
  /** OpenSSH private key; its public half is in ~/.ssh/authorized_keys (shared by every node). */
  readonly privateKey: string;
  readonly publicKey: string;
}

export interface Cluster extends AsyncDisposable {
  readonly host: '127.0.0.1';
  /** login's sshd, published on 127.0.0.1. */
  readonly port: number;
  readonly username: 'alice';
  readonly privateKey: string;
  readonly publicKey: string;
  /** login's host key as a known_hosts line: "[127.0.0.1]:PORT ssh-ed25519 AAAA...". */
  readonly knownHostsLine: string;
  /** ['node1', 'node2', ...] */
  readonly nodeNames: readonly string[];
  /** A second user with the same uid/gid on every container, for privacy tests. */
  readonly bob: ClusterUser;
  readonly containers: ReadonlyMap<ClusterContainerName, StartedTestContainer>;
  exec(
    container: ClusterContainerName,
    cmd: string[],
    options?: ClusterExecOptions,
  ): Promise<ClusterExecResult>;
  /**
   * Starts `cmd` in the container with `docker exec` and returns at once: stdout and stderr stream
   * as it runs, and the process exits with the command's exit status. For long-running commands.
   */
  spawn(container: ClusterContainerName, cmd: string[], options?: ClusterExecOptions): ChildProcess;
  /** The fake slurmctld (login) or slurmd (nodes) log, for failure messages. */
  daemonLog(container: ClusterContainerName): Promise<string>;
  /** sshd's log on that container (LogLevel VERBOSE). */
  sshdLog(container: ClusterContainerName): Promise<string>;
  /** Stops every container, then removes the network and the /home volume. Idempotent. */
  close(): Promise<void>;
}

const IMAGE = 'fwd/slurm';

/** Starts login + nodes and resolves once login's sshd answers and every node agent has registered. */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const nodeCount = options.nodes ?? 2;
  const nodeNames = Array.from({ length: nodeCount }, (_, i) => `node${i + 1}`);
  const alice = options.aliceKey ?? newKeyPair();
  const bob = options.bobKey ?? newKeyPair();
  const startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
  const volume = `fwd-slurm-home-${randomUUID().slice(0, 8)}`;
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const started = new Map<ClusterContainerName, StartedTestContainer>();
  let network: StartedNetwork | undefined;
  let closed: Promise<void> | undefined;

  const labels = { 'fwd.test': 'slurm-cluster', 'fwd.slurm-cluster': volume };
  await docker.createVolume({ Name: volume, Labels: labels });
  const close = (): Promise<void> => {
    closed ??= teardown(started, async () => {
      // Also containers that were created but never reported started (a failed start).
      const leftovers = await docker.listContainers({
        all: true,
        filters: { label: [`fwd.slurm-cluster=${volume}`] },
      });
      await Promise.all(leftovers.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await network?.stop();
      await docker.getVolume(volume).remove();
    });
    return closed;
  };

  try {
    const net = await new Network().start();
    network = net;
    const mounts = [{ source: volume, target: '/home' }];
    const login = new LoopbackContainer(IMAGE)
      .withHostname('login')
      .withLabels(labels)
      .withNetwork(net)
      .withNetworkAliases('login')
      .withBindMounts([...mounts, ...(options.loginMounts ?? [])])
      .withLoopbackPorts(22)
      .withEnvironment(
        definedEnv({
          ROLE: 'login',
          SLURM_FAKE_NODES: nodeCount > 0 ? `node[1-${nodeCount}]` : '',
          SLURM_FAKE_PENDING_SECONDS: options.pendingSeconds,
          SLURM_FAKE_MIN_JOB_AGE: options.minJobAgeSeconds,
          SLURM_FAKE_KILL_WAIT: options.killWaitSeconds,
          SLURM_FAKE_COMPLETING_SECONDS: options.completingSeconds,
          SLURM_FAKE_FIRST_JOB_ID: options.firstJobId,
          AUTHORIZED_KEYS_ALICE: alice.publicKey,
          AUTHORIZED_KEYS_BOB: bob.publicKey,
        }),
      )
      .withWaitStrategy(Wait.forLogMessage('fake-slurm: login login ready'))
      .withStartupTimeout(startupTimeoutMs);
    const nodes = nodeNames.map((name) =>
      new GenericContainer(IMAGE)
        .withHostname(name)
        .withLabels(labels)
        .withNetwork(net)
        .withNetworkAliases(name)
        .withBindMounts(mounts)
        .withEnvironment(definedEnv({ ROLE: 'node', NODE_NAME: name, SLURM_FAKE_CPUS: options.cpusPerNode }))
        .withWaitStrategy(Wait.forLogMessage(`fake-slurm: node ${name} ready`))
        .withStartupTimeout(startupTimeoutMs),
    );
    // Nodes start alongside login: their agents keep dialling the controller until it answers.
    const results = await Promise.allSettled([login.start(), ...nodes.map((node) => node.start())]);
    const names: ClusterContainerName[] = ['login', ...(nodeNames as ClusterContainerName[])];
    results.forEach((result, i) => {
      const name = names[i];
      if (result.status === 'fulfilled' && name) started.set(name, result.value);
    });
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const loginContainer = started.get('login') as StartedTestContainer;

    // Readiness: the controller itself blocks until every node agent has registered (and its host
    // key is in /etc/ssh/ssh_known_hosts), then sshd must greet us through the published port.
    const waitSeconds = String(Math.ceil(startupTimeoutMs / 1000));
    const ready = await loginContainer.exec(['fake-slurm-wait-nodes', String(nodeCount), waitSeconds]);
    if (ready.exitCode !== 0) {
      const log = (await loginContainer.exec(['cat', '/var/log/slurmctld.log'])).output;
      throw new Error(`fake Slurm nodes did not register: ${ready.output.trim()}\n${log}`);
    }
    const port = loginContainer.getMappedPort(22);
    await expectSshBanner(port, AbortSignal.timeout(10_000));
    const hostKey = await loginContainer.exec(['cat', '/etc/ssh/ssh_host_ed25519_key.pub']);
    const [keyType, keyData] = hostKey.output.trim().split(/\s+/);
    const knownHostsLine = `[127.0.0.1]:${port} ${keyType} ${keyData}`;

    const exec = async (
      name: ClusterContainerName,
      cmd: string[],
      execOptions: ClusterExecOptions = {},
    ): Promise<ClusterExecResult> => {
      const container = started.get(name);
      if (!container) throw new Error(`no container ${name} in this cluster`);
      const user = execOptions.user;
      const home = user && user !== 'root' ? `/home/${user}` : undefined;
      const userEnv = user && home ? { HOME: home, USER: user, LOGNAME: user } : {};
      const env = { ...userEnv, ...execOptions.env };
      const workingDir = execOptions.workingDir ?? home;
      const result = await container.exec(cmd, {
        ...(user ? { user } : {}),
        ...(workingDir ? { workingDir } : {}),
        ...(Object.keys(env).length > 0 ? { env } : {}),
      });
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    };
    const spawnIn = (
      name: ClusterContainerName,
      cmd: string[],
      execOptions: ClusterExecOptions = {},
    ): ChildProcess => {
      const container = started.get(name);
      if (!container) throw new Error(`no container ${name} in this cluster`);
      const user = execOptions.user;
      const home = user && user !== 'root' ? `/home/${user}` : undefined;
      const env = { ...(user && home ? { HOME: home, USER: user, LOGNAME: user } : {}), ...execOptions.env };
      const workingDir = execOptions.workingDir ?? home;
      const args = ['exec', ...(user ? ['-u', user] : []), ...(workingDir ? ['-w', workingDir] : [])];
      for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
      return spawn('docker', [...args, container.getId(), ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    };
    const catLog = async (name: ClusterContainerName, file: string): Promise<string> =>
      (await exec(name, ['cat', file])).stdout;

    return {
      host: '127.0.0.1',
      port,
      username: 'alice',
      privateKey: alice.privateKey,
      publicKey: alice.publicKey,
      knownHostsLine,
      nodeNames,
      bob: { username: 'bob', privateKey: bob.privateKey, publicKey: bob.publicKey },
      containers: started,
      exec,
      spawn: spawnIn,
      daemonLog: (name) => catLog(name, name === 'login' ? '/var/log/slurmctld.log' : '/var/log/slurmd.log'),
      sshdLog: (name) => catLog(name, '/var/log/sshd.log'),
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

function definedEnv(env: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}

/** Stop containers (in parallel), then the rest (network, volume); report every failure. */
async function teardown(
  containers: Map<ClusterContainerName, StartedTestContainer>,
  removeTheRest: () => Promise<void>,
): Promise<void> {
  const errors: unknown[] = [];
  const stops = await Promise.allSettled([...containers.values()].map((c) => c.stop({ timeout: 1_000 })));
  for (const stop of stops) if (stop.status === 'rejected') errors.push(stop.reason);
  try {
    await removeTheRest();
  } catch (err) {
    errors.push(err);
  }
  if (errors.length > 0) throw new AggregateError(errors, 'fake Slurm cluster teardown failed');
}

/** Reads the server's identification line: proof that sshd itself answers on the published port. */
function expectSshBanner(port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, signal });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      socket.destroy();
      if (text.startsWith('SSH-2.0-')) resolve();
      else reject(new Error(`login:22 did not greet like sshd: ${JSON.stringify(text.slice(0, 80))}`));
    });
    socket.once('error', reject);
    socket.once('end', () => reject(new Error(`login:22 closed before its SSH banner (${port})`)));
  });
}
