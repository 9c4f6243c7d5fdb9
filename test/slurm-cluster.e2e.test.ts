import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, type ClusterContainerName, startCluster } from './support/cluster.js';
import { skipWithoutDocker } from './support/docker.js';
import { waitFor } from './support/wait.js';

// The fake cluster itself (docker/slurm), driven the way a user on the login node would drive it.
// Output formats are Slurm 22.05's; the expected strings below are copied from real Slurm.

const DEFAULT_HEADER = '             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)';
const NO_ACTIVE_JOBS = 'Access denied by pam_slurm_adopt: you have no active jobs on this node';
// A guard against hangs, not a speed check: a test here is ten docker execs and a few ssh logins,
// which took more than 30 s on a loaded machine. The e2e project's default.
const TEST_TIMEOUT = 120_000;

describe.skipIf(skipWithoutDocker)('fake Slurm cluster', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, pendingSeconds: 0.5, killWaitSeconds: 1 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  async function sh(cmd: string, options: { user?: string; on?: ClusterContainerName } = {}) {
    return cluster.exec(options.on ?? 'login', ['bash', '-c', cmd], { user: options.user ?? 'alice' });
  }

  async function sbatch(args: string): Promise<string> {
    const result = await sh(`sbatch --parsable ${args}`);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^\d+\n$/);
    return result.stdout.trim();
  }

  /** `scontrol show job` as a map of its key=value fields. */
  async function showJob(id: string): Promise<Record<string, string>> {
    const result = await sh(`scontrol show job ${id}`);
    expect(result.exitCode, result.stderr).toBe(0);
    const fields: Record<string, string> = {};
    for (const token of result.stdout.split(/\s+/)) {
      const eq = token.indexOf('=');
      if (eq > 0) fields[token.slice(0, eq)] = token.slice(eq + 1);
    }
    return fields;
  }

  async function waitForState(id: string, state: string): Promise<Record<string, string>> {
    return waitFor(
      async () => {
        const job = await showJob(id);
        return job.JobState === state ? job : undefined;
      },
      { timeoutMs: 15_000, what: `job ${id} to be ${state}` },
    );
  }

  async function squeueLine(id: string, format: string): Promise<string> {
    return (await sh(`squeue -h -j ${id} -o '${format}'`)).stdout.trimEnd();
  }

  async function cancel(...ids: string[]): Promise<void> {
    const result = await sh(`scancel ${ids.join(' ')}`);
    expect(result.exitCode, result.stderr).toBe(0);
    for (const id of ids) await waitFor(async () => (await squeueLine(id, '%i')) === '' || undefined);
  }

  it('starts idle, with every node registered and published in the global known_hosts', async () => {
    expect((await sh('sinfo -h')).stdout).toBe('debug*       up   infinite      2   idle node[1-2]\n');
    expect((await sh('squeue')).stdout).toBe(`${DEFAULT_HEADER}\n`);
    const knownHosts = (await sh('cat /etc/ssh/ssh_known_hosts')).stdout;
    for (const node of cluster.nodeNames) {
      const key = (await sh('cat /etc/ssh/ssh_host_ed25519_key.pub', { on: node as ClusterContainerName }))
        .stdout;
      expect(knownHosts).toContain(key.split(' ').slice(0, 2).join(' '));
    }
    expect(cluster.knownHostsLine).toMatch(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 AAAA\S+$/);
  });

  it(
    'keeps a job PENDING with a reason, then runs it on node1',
    async () => {
      const id = await sbatch('-J nb --wrap "sleep 300"');
      // Pending for longer than the test runs (it is cancelled at the end): each check below is a
      // docker exec, and on a loaded machine a few of them took more than the 3 s this once was.
      const slow = await sh('FAKE_PENDING_SECONDS=300 sbatch --parsable -J slow --wrap "sleep 300"');
      const slowId = slow.stdout.trim();
      try {
        const queue = (await sh(`squeue -j ${slowId}`)).stdout.split('\n');
        expect(queue[0]).toBe(DEFAULT_HEADER);
        expect(queue[1]).toBe(
          `${slowId.padStart(18)}     debug     slow    alice PD       0:00      1 (Priority)`,
        );
        expect(await squeueLine(slowId, '%T|%r|%N|%D')).toBe('PENDING|Priority||1');
        const pending = await showJob(slowId);
        expect(pending).toMatchObject({ JobState: 'PENDING', Reason: 'Priority', NodeList: '' });

        const running = await waitForState(id, 'RUNNING');
        expect(running).toMatchObject({
          JobName: 'nb',
          UserId: 'alice(1000)',
          Reason: 'None',
          NodeList: 'node1',
          BatchHost: 'node1',
          WorkDir: '/home/alice',
          StdOut: `/home/alice/slurm-${id}.out`,
        });
        expect(await squeueLine(id, '%i %j %T %N %R %u %P %D %t')).toBe(
          `${id} nb RUNNING node1 node1 alice debug 1 R`,
        );
        expect(await squeueLine(id, '%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R')).toMatch(
          new RegExp(`^ +${id}     debug       nb    alice  R {7}\\d:\\d\\d      1 node1$`),
        );
      } finally {
        await cancel(id, slowId);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    "runs the job's server on its compute node, not on login",
    async () => {
      const id = await sbatch('--wrap "exec python3 -m http.server --bind 127.0.0.1 8888"');
      try {
        const node = (await waitForState(id, 'RUNNING')).NodeList as ClusterContainerName;
        expect(cluster.nodeNames).toContain(node);
        const listening = await waitFor(
          async () => (await sh("ss -ltnH 'sport = :8888'", { on: node })).stdout.trim() || undefined,
          { what: 'the job to listen on :8888' },
        );
        expect(listening).toContain('127.0.0.1:8888');
        expect((await sh("ss -ltnH 'sport = :8888'")).stdout).toBe('');
        const get = `python3 -c 'import urllib.request as u; print(u.urlopen("http://127.0.0.1:8888/").status)'`;
        expect((await sh(get, { on: node })).stdout).toBe('200\n');
      } finally {
        await cancel(id);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'scancel kills every process of the job, which drops out of squeue and stays CANCELLED in scontrol',
    async () => {
      const id = await sbatch(`--wrap "sleep 301 & python3 -m http.server --bind 127.0.0.1 8889"`);
      const node = (await waitForState(id, 'RUNNING')).NodeList as ClusterContainerName;
      await waitFor(async () => (await sh("pgrep -u alice -f 'sleep 301'", { on: node })).exitCode === 0, {
        what: 'the job to start its processes',
      });
      expect((await sh(`scancel ${id}`)).exitCode).toBe(0);
      await waitFor(async () => (await squeueLine(id, '%i')) === '' || undefined, {
        what: 'job to leave squeue',
      });
      const gone = await sh("pgrep -u alice -f 'sleep 301|http.server'", { on: node });
      expect(gone.stdout).toBe('');
      expect(gone.exitCode).toBe(1);
      expect(await showJob(id)).toMatchObject({ JobState: 'CANCELLED', Reason: 'None', ExitCode: '0:15' });
      expect(await squeueLine(id, '%T')).toBe('');
      expect((await sh(`squeue -h -t all -j ${id} -o '%T %t'`)).stdout).toBe('CANCELLED CA\n');
    },
    TEST_TIMEOUT,
  );

  it(
    'reports a script that exits 3 as FAILED; its output (and squeue, run on the node) land in the shared home',
    async () => {
      const script = [
        '#!/bin/bash',
        '#SBATCH -J fails',
        '#SBATCH -o out-%j.txt',
        'echo "args=$* host=$(hostname) job=$SLURM_JOB_ID state=$(squeue -h -j $SLURM_JOB_ID -o %T)"',
        'exit 3',
      ].join('\n');
      expect((await sh(`printf '%s\\n' '${script}' > fail.sh`)).exitCode).toBe(0);
      const id = await sbatch('fail.sh one two');
      const job = await waitForState(id, 'FAILED');
      expect(job).toMatchObject({ JobName: 'fails', Reason: 'NonZeroExitCode', ExitCode: '3:0' });
      expect(job.StdOut).toBe(`/home/alice/out-${id}.txt`);
      expect((await sh(`cat out-${id}.txt`)).stdout).toBe(
        `args=one two host=${job.NodeList} job=${id} state=RUNNING\n`,
      );
    },
    TEST_TIMEOUT,
  );

  it('answers an unknown job id with the real error text and exit code 1', async () => {
    for (const cmd of ['scontrol show job 999999', 'squeue -j 999999']) {
      const result = await sh(cmd);
      expect(result).toEqual({
        exitCode: 1,
        stdout: '',
        stderr: 'slurm_load_jobs error: Invalid job id specified\n',
      });
    }
  });

  it(
    'spreads two jobs over two nodes, and prints a two-node job as a hostlist',
    async () => {
      const ids = [await sbatch('--wrap "sleep 300"'), await sbatch('--wrap "sleep 300"')];
      const wide = await sbatch('-N 2 -J wide --wrap "sleep 300"');
      try {
        const nodes = await Promise.all(ids.map(async (id) => (await waitForState(id, 'RUNNING')).NodeList));
        expect(nodes.sort()).toEqual(['node1', 'node2']);
        expect((await waitForState(wide, 'RUNNING')).NodeList).toBe('node[1-2]');
        expect(await squeueLine(wide, '%D %N %R')).toBe('2 node[1-2] node[1-2]');
        expect((await sh('sinfo -h')).stdout).toBe('debug*       up   infinite      2    mix node[1-2]\n');
      } finally {
        await cancel(...ids, wide);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'ends a job at its time limit as TIMEOUT, and can fail one while it is still pending',
    async () => {
      const timed = (
        await sh('FAKE_TIME_LIMIT_SECONDS=1 sbatch --parsable -t 5 --wrap "sleep 300"')
      ).stdout.trim();
      const doomed = (await sh('FAKE_FAIL_PENDING=1 sbatch --parsable --wrap true')).stdout.trim();
      expect(await waitForState(doomed, 'FAILED')).toMatchObject({
        Reason: 'JobLaunchFailure',
        NodeList: '',
      });
      expect(await waitForState(timed, 'TIMEOUT')).toMatchObject({
        Reason: 'TimeLimit',
        TimeLimit: '00:00:01',
      });
    },
    TEST_TIMEOUT,
  );

  it(
    'lets alice SSH from login into a node only while she has a running job there (pam_slurm_adopt)',
    async () => {
      const ssh = 'ssh -o BatchMode=yes -o StrictHostKeyChecking=yes node1';
      const refused = await sh(`${ssh} hostname`);
      expect(refused.exitCode).toBe(255);
      expect(refused.stderr).toContain(NO_ACTIVE_JOBS);

      const id = await sbatch('-w node1 --wrap "sleep 300"');
      await waitForState(id, 'RUNNING');
      expect(await sh(`${ssh} hostname`)).toMatchObject({ exitCode: 0, stdout: 'node1\n' });
      const bob = await sh(`${ssh} hostname`, { user: 'bob' });
      expect(bob.exitCode).toBe(255);
      expect(bob.stderr).toContain(NO_ACTIVE_JOBS);

      // The session is adopted into the job: when the job ends, the session ends with it.
      const session = sh(`${ssh} 'echo in; sleep 299'`);
      await waitFor(async () => (await sh("pgrep -u alice -f 'sleep 299'", { on: 'node1' })).exitCode === 0);
      await cancel(id);
      const ended = await session;
      expect(ended.stdout).toBe('in\n');
      expect(ended.exitCode).toBe(255);
      expect((await sh(`${ssh} hostname`)).stderr).toContain(NO_ACTIVE_JOBS);
    },
    TEST_TIMEOUT,
  );
});
