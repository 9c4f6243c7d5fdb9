import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { listenAddress, startFwd, watchFwd } from './support/fwd-cli.js';
import { jupyterAt, runCode, startKernel, stopKernel } from './support/jupyter-client.js';
import { httpGet } from './support/net-client.js';
import {
  clusterSuite,
  forwardUrl,
  inState,
  jobIdOf,
  tunnelEvent,
  writeYaml,
} from './support/slurm-fixtures.js';
import { waitFor } from './support/wait.js';

// Private notebooks on compute nodes (issue 10), through the real fwd binary against the fake
// cluster: fwd SSHes into the job's node through login (via: node) to reach an app bound to the
// node's 127.0.0.1 or a 0600 unix socket, which nobody else on the cluster can reach; and fwd
// runs on the login node itself with a local host entry.

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE_SCRIPT = fileURLToPath(new URL('../examples/slurm-jupyter-private.sbatch', import.meta.url));

/**
 * A job serving `who` ("node1 job 12") over HTTP twice: on the node's 127.0.0.1:8888, and on a
 * mode-0600 unix socket ~/fwd-$SLURM_JOB_ID.sock (what jupyter lab --sock does).
 */
const PRIVATE_SCRIPT = `#!/bin/bash
#SBATCH -J fwd-private
dir=/tmp/fwd-$SLURM_JOB_ID && mkdir -p "$dir" && cd "$dir" && echo "$(hostname) job $SLURM_JOB_ID" >who
python3 - <<'PY' &
import http.server, os, socketserver
class Handler(http.server.SimpleHTTPRequestHandler):
    def address_string(self):
        return "unix"
class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
path = os.path.expanduser("~/fwd-%s.sock" % os.environ["SLURM_JOB_ID"])
if os.path.exists(path):
    os.unlink(path)
os.umask(0o177)
Server(path, Handler).serve_forever()
PY
exec python3 -m http.server --bind 127.0.0.1 8888
`;

/** Like Jupyter: the URL with its token shows up in the output a moment after the start. */
const JUPYTER_LIKE_SCRIPT = `#!/bin/bash
dir=/tmp/fwd-$SLURM_JOB_ID && mkdir -p "$dir/lab" && cd "$dir" && echo lab >lab/index.html
(sleep 1; echo "[I ServerApp] Jupyter Server is running at:"; echo "[I ServerApp] http://$(hostname):8890/lab?token=abc123") &
exec python3 -m http.server --bind 127.0.0.1 8890
`;

/** Connects from inside a container; prints "connected" or the error (errno name and text). */
const CONNECT_PY = `
import socket, sys
target = sys.argv[1]
try:
    if target.startswith("/"):
        s = socket.socket(socket.AF_UNIX); s.connect(target)
    else:
        host, port = target.rsplit(":", 1); s = socket.create_connection((host, int(port)), 3)
    print("connected")
except OSError as e:
    print(type(e).__name__, e)
`;

describe.skipIf(skipWithoutDocker)('private notebooks on compute nodes (fake cluster)', () => {
  const suite = clusterSuite(
    {
      nodes: 2,
      pendingSeconds: 0,
      killWaitSeconds: 1,
      // fwd on the login node itself: this machine's node binary (Debian 12 too) and the built repo.
      loginMounts: [
        { source: process.execPath, target: '/usr/local/bin/node', mode: 'ro' },
        { source: REPO, target: '/opt/fwd', mode: 'ro' },
      ],
    },
    'fwd-private-home-',
    async (home) => {
      await writeFile(join(home, 'private.sbatch'), PRIVATE_SCRIPT);
      await writeFile(join(home, 'jupyter-like.sbatch'), JUPYTER_LIKE_SCRIPT);
      await copyFile(EXAMPLE_SCRIPT, join(home, 'slurm-jupyter-private.sbatch'));
    },
  );
  const { jobState } = suite;

  async function sh(cmd: string, user = 'alice', on: 'login' | 'node1' | 'node2' = 'login') {
    return suite.cluster.exec(on, ['bash', '-c', cmd], { user });
  }
  async function tryConnect(target: string, user: string, on: 'login' | 'node1' = 'login'): Promise<string> {
    const result = await suite.cluster.exec(on, ['python3', '-c', CONNECT_PY, target], { user });
    return result.stdout.trim();
  }
  const yaml = (name: string, lines: string[]) => writeYaml(suite.home, name, lines);
  const acceptedOnNode1 = async (): Promise<number> =>
    ((await suite.cluster.sshdLog('node1')).match(/Accepted publickey for alice /g) ?? []).length;

  it('reaches a job app on the node’s 127.0.0.1 and on a 0600 socket over one node session; bob reaches neither', async () => {
    const before = await acceptedOnNode1();
    const file = await yaml('private.yaml', [
      'tunnels:',
      '  web:',
      '    host: cluster',
      '    via: node',
      '    slurm: { submit: { script: private.sbatch, args: [-w, node1] } }',
      '    local: 0:127.0.0.1:8888',
      '    ready: { http: /who }',
      '  sock:',
      '    host: cluster',
      '    slurm: { name: fwd-private }',
      '    local: "0:/home/{user}/fwd-{job}.sock"',
      '    ready: { http: /who }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const [web, sock] = await Promise.all([
      fwd.waitForEvent(inState('web', 'up'), 30_000),
      fwd.waitForEvent(inState('sock', 'up'), 30_000),
    ]);
    const id = jobIdOf(web);
    expect(web.detail).toBe(`job ${id} on node1`);
    expect(sock.detail).toBe(`job ${id} on node1`);
    expect(sock.forwards).toMatchObject([{ kind: 'local', target: `/home/alice/fwd-${id}.sock` }]);
    for (const event of [web, sock]) {
      const reply = await httpGet(listenAddress(event), '/who');
      expect(reply.body.trim()).toBe(`node1 job ${id}`);
    }
    // Both tunnels of the job share one SSH session into node1 (and its key came from the cluster's list).
    expect((await acceptedOnNode1()) - before).toBe(1);
    expect(await readFile(join(suite.home, '.ssh', 'known_hosts'), 'utf8')).toBe(
      `${suite.cluster.knownHostsLine}\n`,
    );

    // Nobody else gets in: not from login, and not even on node1 itself for the socket.
    expect(await tryConnect('node1:8888', 'bob')).toMatch(/^ConnectionRefusedError .*Connection refused/);
    expect(await tryConnect('node1:8888', 'alice')).toMatch(/^ConnectionRefusedError/);
    const socket = `/home/alice/fwd-${id}.sock`;
    expect(await tryConnect(socket, 'bob')).toMatch(/^PermissionError .*Permission denied/);
    expect(await tryConnect(socket, 'bob', 'node1')).toMatch(/^PermissionError .*Permission denied/);
    expect((await sh(`stat -c %a ${socket}`)).stdout.trim()).toBe('600');
    // Loopback is shared by everyone on a node: why the example prefers the socket.
    expect(await tryConnect('127.0.0.1:8888', 'bob', 'node1')).toBe('connected');

    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
    await waitFor(async () => (await jobState(id)) === 'CANCELLED' || undefined, {
      what: `job ${id} to be cancelled`,
    });
  });

  it('says SSH into the node was refused when we have no job there (pam_slurm_adopt)', async () => {
    const submitted = await sh('sbatch --parsable -w node2 --wrap "sleep 300"', 'bob');
    expect(submitted.exitCode, submitted.stderr).toBe(0);
    const bobsJob = submitted.stdout.trim();
    try {
      const file = await yaml('refused.yaml', [
        'tunnels:',
        `  theirs: { host: cluster, via: node, slurm: { job: ${bobsJob} }, local: "0:127.0.0.1:8888" }`,
      ]);
      await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
      const failed = await fwd.waitForEvent(inState('theirs', 'failed'), 30_000);
      expect(failed.error).toEqual({
        code: 'AUTH_FAILED',
        message:
          'SSH into node2 was refused: it closed the connection while logging in (from cluster). Clusters allow ' +
          'SSH into a compute node only while you have a running job there (pam_slurm_adopt), and some not ' +
          'at all: check with `ssh node2` on cluster, or use via: login (the server said: ' +
          '"Access denied by pam_slurm_adopt: you have no active jobs on this node")',
      });
      expect(await fwd.exited).toBe(1);
      expect(await jobState(bobsJob)).toBe('RUNNING');
    } finally {
      await sh(`scancel ${bobsJob}`, 'bob');
    }
  });

  it('ends with the job, closing its node session, and exits 0', async () => {
    const file = await yaml('short.yaml', [
      'tunnels:',
      // The job runs until the test says so: a fixed `sleep` could end before a loaded machine's
      // SSH login into the node (pam_slurm_adopt then rightly refuses it).
      '  short: { host: cluster, via: node, slurm: { submit: { wrap: "while [ ! -e ~/short-done ]; do sleep 0.2; done", args: [-w, node1] } }, local: "0:127.0.0.1:22" }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const up = await fwd.waitForEvent(inState('short', 'up'), 30_000);
    const id = jobIdOf(up);
    await sh('touch ~/short-done');
    const ended = await fwd.waitForEvent(inState('short', 'ended'), 30_000);
    expect(ended.ended).toEqual({ ok: true, reason: `job ${id} COMPLETED` });
    expect(await fwd.exited).toBe(0);
  });

  it("gives the notebook URL from the job's output as the forward's url, pointed at the local port", async () => {
    const file = await yaml('url.yaml', [
      'tunnels:',
      '  lab:',
      '    host: cluster',
      '    via: node',
      '    slurm: { submit: { script: jupyter-like.sbatch, args: [-w, node1] }, urlFromOutput: true }',
      '    local: 0:127.0.0.1:8890',
      '    ready: { http: /lab/ }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const shown = await fwd.waitForEvent(
      tunnelEvent('lab', (e) => forwardUrl(e)?.includes('token=') === true),
      30_000,
    );
    const id = jobIdOf(shown);
    const listen = (shown.forwards as Array<{ listen: string }>)[0]?.listen;
    // The forward's url (and the url fact) carry the token; the detail stays short.
    expect(forwardUrl(shown)).toBe(`http://${listen}/lab?token=abc123`);
    expect(shown).toMatchObject({ job: id, node: 'node1', url: `http://${listen}/lab?token=abc123` });
    expect(shown.detail).toBe(`job ${id} on node1`);
    // Once up (the ready check's own messages are over), the URL is still there.
    const up = await fwd.waitForEvent(
      tunnelEvent('lab', (e) => e.state === 'up' && forwardUrl(e) === forwardUrl(shown)),
      30_000,
    );
    expect((await httpGet(listenAddress(up), '/lab/')).body.trim()).toBe('lab');
    // The token is in the tunnel's events and nowhere else (not in logs, stats or stderr).
    expect(fwd.stderr()).not.toContain('abc123');
    expect(fwd.events.filter((e) => JSON.stringify(e).includes('abc123') && e.event !== 'tunnel')).toEqual(
      [],
    );
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
  });

  it('runs examples/slurm-jupyter-private unchanged with --open: the first request waits, the browser gets the token URL, a kernel runs code', async () => {
    // The example's tunnel with the test cluster as its host and port 0; a BROWSER that notes the URL.
    const file = await yaml('example.yaml', [
      'tunnels:',
      '  notebook:',
      '    host: cluster',
      '    slurm: { submit: { script: slurm-jupyter-private.sbatch, args: [-w, node2] }, timeout: 30m, urlFromOutput: true }',
      '    local: 0:/home/{user}/.jupyter/fwd-{job}.sock',
      '    ready: { http: /api }',
    ]);
    const browser = join(suite.home, 'browser.sh');
    await writeFile(browser, '#!/bin/sh\necho "$1" >>"$HOME/opened.txt"\n', { mode: 0o755 });
    await using fwd = startFwd(['up', file, '--json', '--open'], {
      home: suite.home,
      env: { BROWSER: browser },
    });

    // The listener is bound at start: a request made now, while the job is submitted and pending
    // and Jupyter starts, is held and answered once Jupyter is up. It never fails.
    const bound = await fwd.waitForEvent(
      tunnelEvent('notebook', (e) => listenAddress(e).port > 0),
      30_000,
    );
    expect(bound.state).not.toBe('up');
    const { port } = listenAddress(bound);
    const early = await fetch(`http://127.0.0.1:${port}/api`);
    expect(early.status).toBe(200);
    expect(await early.json()).toEqual({ version: expect.stringMatching(/^\d+\.\d+/) });

    const up = await fwd.waitForEvent(
      tunnelEvent('notebook', (e) => e.state === 'up' && forwardUrl(e)?.includes('token=') === true),
      60_000,
    );
    const id = jobIdOf(up);
    const listen = (up.forwards as Array<{ listen: string }>)[0]?.listen;
    // The job's time left (its --time=04:00:00) is in every tunnel event, counting down.
    expect(up).toMatchObject({ job: id, node: 'node2', endsAt: expect.any(String) });
    expect(up.timeLeft).toBeGreaterThan(4 * 3600 - 120);
    expect(up.timeLeft).toBeLessThanOrEqual(4 * 3600);

    // --open: the browser got Jupyter's own token URL, read by fwd from the job's output file.
    const opened = await waitFor(
      async () =>
        (await readFile(join(suite.home, 'opened.txt'), 'utf8').catch(() => '')).trim() || undefined,
      { what: 'the browser to be started', timeoutMs: 20_000 },
    );
    expect(opened).toBe(forwardUrl(up));
    expect(opened).toMatch(new RegExp(`^http://${listen}/(lab)?\\?token=[0-9a-f]{48}$`));
    await fwd.waitForEvent(
      (e) =>
        e.event === 'log' &&
        e.message === `notebook: opened http://${listen}/ (with its token) in the browser`,
    );
    const jupyter = jupyterAt(opened);
    const kernel = await startKernel(jupyter);
    try {
      expect(await runCode(jupyter, kernel, 'print(6 * 7)')).toBe('42\n');
      // The kernel runs on the job's node, as alice, inside the job.
      const where = await runCode(
        jupyter,
        kernel,
        'import os, socket; print(socket.gethostname(), os.environ["SLURM_JOB_ID"])',
      );
      expect(where).toBe(`node2 ${id}\n`);
    } finally {
      await stopKernel(jupyter, kernel);
    }
    expect(await tryConnect(`/home/alice/.jupyter/fwd-${id}.sock`, 'bob')).toMatch(/^PermissionError/);
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
    // fwd says it cancelled the job, and how it last saw it.
    expect(fwd.events).toContainEqual(
      expect.objectContaining({
        event: 'notice',
        tunnel: 'notebook',
        level: 'info',
        job: id,
        message: expect.stringMatching(
          new RegExp(`^job ${id} cancelled \\(it was RUNNING on node2, 3:5\\d:\\d\\d left\\)$`),
        ),
      }),
    );
    await waitFor(async () => (await jobState(id)) === 'CANCELLED' || undefined, {
      what: `job ${id} to be cancelled`,
    });
  });

  it('runs on the login node itself with a local host: submit, forward, HTTP, Ctrl-C, scancel', async () => {
    const config = [
      'version: 1',
      'hosts:',
      '  here: { local: true }',
      'tunnels:',
      '  notebook:',
      '    host: here',
      '    slurm: { submit: { wrap: "cd /tmp && echo $(hostname) >who && exec python3 -m http.server --bind 127.0.0.1 8888", args: [-w, node2] } }',
      '    local: 0:127.0.0.1:8888',
      '    ready: { http: /who }',
      '',
    ].join('\n');
    const written = await sh(`printf %s ${Buffer.from(config).toString('base64')} | base64 -d >~/local.yaml`);
    expect(written.exitCode, written.stderr).toBe(0);
    const fwd = watchFwd(
      suite.cluster.spawn(
        'login',
        [
          'sh',
          '-c',
          'echo $$ >/tmp/fwd-up.pid && exec /opt/fwd/packages/cli/dist/main.js up local.yaml --json',
        ],
        { user: 'alice' },
      ),
    );
    try {
      const up = await fwd.waitForEvent(inState('notebook', 'up'), 30_000);
      const id = jobIdOf(up);
      expect(up.detail).toBe(`job ${id} on node2`);
      const { port } = listenAddress(up);
      const fetched = await sh(
        `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:${port}/who").read().decode())'`,
      );
      expect(fetched.stdout.trim()).toBe('node2');
      expect((await sh('kill -INT "$(cat /tmp/fwd-up.pid)"')).exitCode).toBe(0);
      expect(await fwd.exited).toBe(130);
      await waitFor(async () => (await jobState(id)) === 'CANCELLED' || undefined, {
        what: `job ${id} to be cancelled`,
      });
    } finally {
      await fwd[Symbol.asyncDispose]();
    }
  });
});
