import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { type FwdEvent, listenAddress, runFwd, startFwd } from './support/fwd-cli.js';
import { httpGet } from './support/net-client.js';
import { clusterSuite, detailOf, inState, jobIdOf, tunnelEvent } from './support/slurm-fixtures.js';
import { waitFor } from './support/wait.js';

// A Slurm tunnel's life as a user meets it (issue 16), through the real fwd binary against the
// fake cluster: connections made early wait instead of failing, the job's time left counts down
// and warns before the limit, the end says why, and a job kept with cancelOnExit: false is found
// again by name after fwd down.

/**
 * An HTTP server on the node's port `port`, serving `who` = "node job": a job's --wrap command,
 * with no quotes of its own (it goes inside YAML's and the shell's).
 */
const serve = (port: number): string =>
  `cd /tmp && mkdir -p fwd-$SLURM_JOB_ID && cd fwd-$SLURM_JOB_ID && echo $(hostname) job $SLURM_JOB_ID >who && exec python3 -m http.server --bind 0.0.0.0 ${port}`;

const notice = (name: string, test: (e: FwdEvent) => boolean) => (e: FwdEvent) =>
  e.event === 'notice' && e.tunnel === name && test(e);
const messageOf = (e: FwdEvent): string => (typeof e.message === 'string' ? e.message : '');

describe.skipIf(skipWithoutDocker)('Slurm tunnel lifecycle (fake cluster)', () => {
  const suite = clusterSuite({ nodes: 1, pendingSeconds: 3, killWaitSeconds: 1 }, 'fwd-slurm-life-');
  const { sh, sbatch, jobState, yaml } = suite;

  it('holds a request made while the job is PENDING and answers it (HTTP 200) once the app is up', async () => {
    const file = await yaml('pending.yaml', [
      '  web:',
      '    host: cluster',
      `    slurm: { submit: { wrap: "${serve(9200)}" } }`,
      '    local: 0:{node}:9200',
      '    ready: { http: /who }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const pending = await fwd.waitForEvent(
      tunnelEvent('web', (e) => / pending \(Priority\)$/.test(detailOf(e))),
    );
    expect(pending.state).toBe('waiting');
    const reply = await httpGet(listenAddress(pending), '/who');
    expect(reply.status).toBe(200);
    expect(reply.body.trim()).toBe(`node1 job ${jobIdOf(pending)}`);
    expect(
      fwd.events.some((e) => e.event === 'tunnel' && e.tunnel === 'web' && e.connectionsWaiting === 1),
    ).toBe(true);
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
  });

  it('holds a request made while the login session reconnects, and answers it once it is back', async () => {
    const id = await sbatch(`-J reconnect --wrap '${serve(9201)}'`);
    try {
      const file = await yaml('reconnect.yaml', [
        `  web: { host: cluster, slurm: { job: ${id} }, local: "0:{node}:9201", ready: { http: /who } }`,
      ]);
      await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
      const up = await fwd.waitForEvent(inState('web', 'up'), 30_000);
      // sshd on login stops answering new connections, and alice's session is cut: fwd reconnects
      // into a server that accepts TCP but says nothing until it is woken.
      const stopped = await suite.cluster.exec('login', [
        'bash',
        '-c',
        'kill -STOP "$(cat /run/sshd.pid)" && pkill -KILL -u alice -x sshd',
      ]);
      expect(stopped.exitCode, stopped.stderr).toBe(0);
      try {
        const gone = fwd.events.length;
        await fwd.waitForEvent(
          (e) =>
            fwd.events.indexOf(e) >= gone && e.event === 'tunnel' && e.tunnel === 'web' && e.state !== 'up',
        );
        const reply = httpGet(listenAddress(up), '/who');
        await fwd.waitForEvent(
          (e) => fwd.events.indexOf(e) >= gone && e.tunnel === 'web' && e.connectionsWaiting === 1,
        );
        await suite.cluster.exec('login', ['bash', '-c', 'kill -CONT "$(cat /run/sshd.pid)"']);
        const answered = await reply;
        expect(answered.status).toBe(200);
        expect(answered.body.trim()).toBe(`node1 job ${id}`);
      } finally {
        await suite.cluster.exec('login', ['bash', '-c', 'kill -CONT "$(cat /run/sshd.pid)"']);
      }
      fwd.child.kill('SIGINT');
      expect(await fwd.exited).toBe(130);
    } finally {
      await sh(`scancel ${id}`);
    }
  });

  it("answers requests waiting for a job that fails before it runs with a 503 saying the job's reason", async () => {
    const id = await sbatch('--wrap true', { FAKE_FAIL_PENDING: '1', FAKE_PENDING_SECONDS: '8' });
    const file = await yaml('doomed.yaml', [
      `  doomed: { host: cluster, slurm: { job: ${id} }, local: "0:{node}:9202" }`,
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const pending = await fwd.waitForEvent(
      tunnelEvent('doomed', (e) => detailOf(e) === `job ${id} pending (Priority)`),
    );
    const reply = httpGet(listenAddress(pending), '/');
    await fwd.waitForEvent(tunnelEvent('doomed', (e) => e.connectionsWaiting === 1));
    // Answered, not reset: the browser shows why its page will not come.
    const answered = await reply;
    expect(answered.status).toBe(503);
    expect(answered.body).toContain(`job ${id} FAILED (JobLaunchFailure) before it started running`);
    const closed = await fwd.waitForEvent(
      notice('doomed', (e) => messageOf(e).startsWith('closed 1 waiting connection')),
    );
    expect(closed.level).toBe('warn');
    expect(messageOf(closed)).toContain(`job ${id} FAILED (JobLaunchFailure) before it started running`);
    expect(await fwd.exited).toBe(1);
  });

  it('counts the time left down, warns 1 min before the limit of a --time=2 job, and says TIMEOUT at the end', async () => {
    // The fake's time scale: the job asks for 2 minutes; FAKE_TIME_LIMIT_SECONDS makes it 70 s.
    const id = await sbatch(`--time=2 --wrap '${serve(9203)}'`, { FAKE_TIME_LIMIT_SECONDS: '70' });
    const file = await yaml('timeout.yaml', [
      `  short: { host: cluster, slurm: { job: ${id} }, local: "0:{node}:9203", ready: { http: /who } }`,
    ]);
    await using fwd = startFwd(['up', file, '--json', '--stats-interval', '1s'], { home: suite.home });
    const up = await fwd.waitForEvent(inState('short', 'up'), 30_000);
    expect(up).toMatchObject({ job: id, node: 'node1', endsAt: expect.any(String) });
    expect(up.timeLeft).toBeLessThanOrEqual(70);
    // Stats events count down between polls: one comes with less time left than at `up` (the
    // first may still show the same whole second, so wait for the drop rather than expect it).
    const timeLeftOf = (e: FwdEvent): number | undefined =>
      e.event === 'stats' ? (e.tunnels as Array<{ timeLeft?: number }>)[0]?.timeLeft : undefined;
    const stats = await fwd.waitForEvent((e) => (timeLeftOf(e) ?? Infinity) < (up.timeLeft as number));
    expect(timeLeftOf(stats)).toBeGreaterThan(40);

    const warned = await fwd.waitForEvent(
      notice('short', (e) => / \(warning 1 min before\)/.test(messageOf(e))),
      70_000,
    );
    expect(warned).toMatchObject({ level: 'warn', job: id, endsAt: up.endsAt });
    expect(messageOf(warned)).toMatch(
      new RegExp(
        `^job ${id} reaches its time limit in (1:00|0:5\\d) \\(warning 1 min before\\): save your work$`,
      ),
    );
    expect(warned.timeLeft).toBeLessThanOrEqual(60);
    expect(warned.timeLeft).toBeGreaterThan(40);

    // The limit, then the fake's 1 s kill wait, then a poll (5 s apart at most) sees TIMEOUT.
    const ended = await fwd.waitForEvent(inState('short', 'ended'), 90_000);
    expect(ended.ended).toEqual({ ok: false, reason: `job ${id} TIMEOUT: it reached its time limit` });
    expect(await fwd.exited).toBe(1);
    expect(await jobState(id)).toBe('TIMEOUT');
    // 70 s of job plus start and end: more than the e2e default of 120 s on a loaded machine.
  }, 240_000);

  it('keeps a job with cancelOnExit: false through fwd down, and fwd up finds it again by name', async () => {
    const file = await yaml('persist.yaml', [
      '  notebook:',
      '    host: cluster',
      `    slurm: { submit: { wrap: "${serve(9204)}", args: [-J, fwd-persist], cancelOnExit: false } }`,
      '    local: 0:{node}:9204',
      '    ready: { http: /who }',
      '  notebook-again:',
      '    host: cluster',
      '    slurm: { name: fwd-persist }',
      '    local: 0:{node}:9204',
      '    ready: { http: /who }',
    ]);
    const started = await runFwd(['up', '-d', file, '--only', 'notebook', '--json'], { home: suite.home });
    expect(started.code, started.stderr).toBe(0);
    const background = started.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as FwdEvent)
      .find((e) => e.event === 'background');
    const name = String(background?.name);
    const up = await waitFor(
      async () => {
        const ps = await runFwd(['ps', '--json'], { home: suite.home });
        const tunnels = (JSON.parse(ps.stdout) as Array<{ tunnels: FwdEvent[] }>)[0]?.tunnels ?? [];
        return tunnels.find((t) => t.name === 'notebook' && t.state === 'up');
      },
      { timeoutMs: 30_000, what: 'the background notebook to be up' },
    );
    const id = String(up.facts && (up.facts as { job: string }).job);
    expect(id).toMatch(/^\d+$/);

    const down = await runFwd(['down', name], { home: suite.home });
    expect(down.code, down.stderr).toBe(0);
    expect(await jobState(id)).toBe('RUNNING');
    const log = await runFwd(['logs', name, '--json'], { home: suite.home });
    // The job has no time limit (the fake's default), so no time left to show.
    expect(log.stdout).toContain(`job ${id} keeps running (RUNNING on node1): cancelOnExit is false`);

    try {
      await using again = startFwd(['up', file, '--only', 'notebook-again', '--json'], { home: suite.home });
      const back = await again.waitForEvent(inState('notebook-again', 'up'), 30_000);
      expect(back).toMatchObject({ job: id, detail: `job ${id} on node1` });
      expect((await httpGet(listenAddress(back), '/who')).body.trim()).toBe(`node1 job ${id}`);
      again.child.kill('SIGINT');
      expect(await again.exited).toBe(130);
      // Found by name, not submitted: fwd leaves it running.
      expect(await jobState(id)).toBe('RUNNING');
    } finally {
      await sh(`scancel ${id}`);
    }
  });

  it('fwd up -d --open: the foreground waits for the pending job, opens the URL, and leaves the tunnel running', async () => {
    const file = await yaml('detached.yaml', [
      `  web: { host: cluster, slurm: { submit: { wrap: "${serve(9205)}" } }, local: "0:{node}:9205", ready: { http: /who } }`,
    ]);
    const browser = join(suite.home, 'browser.sh');
    await writeFile(browser, '#!/bin/sh\necho "$1" >>"$HOME/detached-opened.txt"\n', { mode: 0o755 });
    await using fwd = startFwd(['up', '-d', file, '--open', '--json'], {
      home: suite.home,
      env: { BROWSER: browser },
    });
    expect(await fwd.exited, fwd.stderr()).toBe(0);
    // It returned once the job was pending, then waited for the tunnel to be up to open it.
    expect(fwd.stderr()).toContain('web not up yet: it opens in the browser once it is');
    const opened = (await readFile(join(suite.home, 'detached-opened.txt'), 'utf8')).trim();
    expect(opened).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(fwd.stderr()).toContain(`web: opened ${opened} in the browser`);
    const background = fwd.events.find((e) => e.event === 'background');
    try {
      // The background fwd serves it.
      const port = Number(new URL(opened).port);
      expect((await httpGet({ port }, '/who')).body.trim()).toMatch(/^node1 job \d+$/);
    } finally {
      expect((await runFwd(['down', String(background?.name)], { home: suite.home })).code).toBe(0);
    }
  });
});
