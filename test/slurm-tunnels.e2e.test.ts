import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { type FwdEvent, listenAddress, startFwd } from './support/fwd-cli.js';
import { httpGet } from './support/net-client.js';
import { clusterSuite, detailOf, errorOf, inState, jobIdOf, tunnelEvent } from './support/slurm-fixtures.js';
import { waitFor } from './support/wait.js';

// fwd's Slurm tunnels against the fake cluster (docker/slurm), through the real fwd binary: only
// login's sshd is published; every forward reaches a compute node through login's SSH session.

const EXAMPLE_SCRIPT = new URL('../examples/slurm-jupyter.sbatch', import.meta.url).pathname;

/** Two HTTP servers on the node: 8002 first (waited for), then 8001, each serving `who` = node:port. */
const TWO_PORT_SCRIPT = [
  '#!/bin/bash',
  'for p in 8001 8002; do mkdir -p "/tmp/fwd-$SLURM_JOB_ID/$p"; echo "$(hostname):$p" >"/tmp/fwd-$SLURM_JOB_ID/$p/who"; done',
  'python3 -m http.server --bind 0.0.0.0 --directory "/tmp/fwd-$SLURM_JOB_ID/8002" 8002 &',
  'until (echo >/dev/tcp/127.0.0.1/8002) 2>/dev/null; do sleep 0.1; done',
  'exec python3 -m http.server --bind 0.0.0.0 --directory "/tmp/fwd-$SLURM_JOB_ID/8001" 8001',
  '',
].join('\n');

describe.skipIf(skipWithoutDocker)('fwd up with slurm: tunnels (fake cluster)', () => {
  const suite = clusterSuite({ nodes: 2, pendingSeconds: 1, killWaitSeconds: 1 }, undefined, async (home) => {
    await copyFile(EXAMPLE_SCRIPT, join(home, 'notebook.sbatch'));
    await writeFile(join(home, 'two-ports.sbatch'), TWO_PORT_SCRIPT);
  });
  const { sh, sbatch, jobState, yaml } = suite;

  it('submits the example notebook job, shows it pending, forwards to node1 once /api answers, and scancels it on Ctrl-C', async () => {
    const file = await yaml('submit.yaml', [
      '  notebook:',
      '    host: cluster',
      '    slurm: { submit: { script: notebook.sbatch, args: [-w, node1] } }',
      '    local: 0:{node}:8888',
      '    ready: { http: /api }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    await fwd.waitForEvent(tunnelEvent('notebook', (e) => detailOf(e) === 'submitting'));
    const pending = await fwd.waitForEvent(
      tunnelEvent('notebook', (e) => /^job \d+ pending \(Priority\)$/.test(detailOf(e))),
    );
    expect(pending.state).toBe('waiting');
    const id = jobIdOf(pending);
    const up = await fwd.waitForEvent(inState('notebook', 'up'));
    expect(up.detail).toBe(`job ${id} on node1`);
    expect(up.forwards).toMatchObject([{ kind: 'local', listen: expect.any(String), target: 'node1:8888' }]);

    // Real Jupyter Server on node1 (docker/slurm installs it): /api answers without a token.
    const api = await httpGet(listenAddress(up), '/api');
    expect(api.status).toBe(200);
    expect(JSON.parse(api.body)).toEqual({ version: expect.stringMatching(/^\d+\.\d+/) });

    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
    await waitFor(async () => (await sh(`squeue -h -j ${id} -o %T`)).stdout === '' || undefined, {
      what: `job ${id} to leave squeue`,
    });
    expect(await jobState(id)).toBe('CANCELLED');
  });

  it('attaches to a running job by id and by name, and leaves it running on exit', async () => {
    const id = await sbatch('-J attach-me -w node2 --wrap "exec python3 -m http.server --bind 0.0.0.0 9001"');
    try {
      const file = await yaml('attach.yaml', [
        `  by-id: { host: cluster, slurm: { job: ${id} }, local: "0:{node}:9001", ready: { tcp: true } }`,
        '  by-name: { host: cluster, slurm: { name: attach-me }, local: "0:{node}:9001", ready: { tcp: true } }',
      ]);
      await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
      const [byId, byName] = await Promise.all([
        fwd.waitForEvent(inState('by-id', 'up')),
        fwd.waitForEvent(inState('by-name', 'up')),
      ]);
      for (const event of [byId, byName]) {
        expect(event.detail).toBe(`job ${id} on node2`);
        expect((await httpGet(listenAddress(event), '/')).status).toBe(200);
      }
      fwd.child.kill('SIGINT');
      expect(await fwd.exited).toBe(130);
      expect(await jobState(id)).toBe('RUNNING');
    } finally {
      await sh(`scancel ${id}`);
    }
  });

  it('waits for a job by name that is not running yet', async () => {
    const file = await yaml('later.yaml', [
      '  later: { host: cluster, slurm: { name: later-job }, local: "0:{node}:22" }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    await fwd.waitForEvent(tunnelEvent('later', (e) => detailOf(e) === 'no running job named later-job yet'));
    const id = await sbatch('-J later-job --wrap "sleep 300"');
    try {
      const up = await fwd.waitForEvent(inState('later', 'up'));
      expect(detailOf(up)).toMatch(new RegExp(`^job ${id} on node[12]$`));
      fwd.child.kill('SIGINT');
      expect(await fwd.exited).toBe(130);
    } finally {
      await sh(`scancel ${id}`);
    }
  });

  it('runs two jobs on two nodes with two ports each, at once', async () => {
    const tunnel = (name: string, node: string) =>
      `  ${name}: { host: cluster, slurm: { submit: { script: two-ports.sbatch, args: [-w, ${node}] } }, local: ["0:{node}:8001", "0:{node}:8002"], ready: { http: /who } }`;
    const file = await yaml('two.yaml', [tunnel('first', 'node1'), tunnel('second', 'node2')]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const ups = await Promise.all([
      fwd.waitForEvent(inState('first', 'up')),
      fwd.waitForEvent(inState('second', 'up')),
    ]);
    const ids = ups.map(jobIdOf);
    for (const [i, node] of ['node1', 'node2'].entries()) {
      const up = ups[i] as FwdEvent;
      for (const [index, port] of [8001, 8002].entries()) {
        const reply = await httpGet(listenAddress(up, index), '/who');
        expect(reply.body.trim()).toBe(`${node}:${port}`);
      }
    }
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
    for (const id of ids) {
      await waitFor(async () => (await jobState(id)) === 'CANCELLED' || undefined, {
        what: `job ${id} to be cancelled`,
      });
    }
  });

  it('ends the tunnel when someone else cancels the job, and exits 1', async () => {
    const file = await yaml('external.yaml', [
      '  victim: { host: cluster, slurm: { submit: { wrap: "sleep 300" } }, local: "0:{node}:22" }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const up = await fwd.waitForEvent(inState('victim', 'up'));
    const id = jobIdOf(up);
    expect((await sh(`scancel ${id}`)).exitCode).toBe(0);
    const ended = await fwd.waitForEvent(inState('victim', 'ended'));
    expect(ended.ended).toEqual({ ok: false, reason: `job ${id} CANCELLED (not by fwd)` });
    expect(await fwd.exited).toBe(1);
  });

  it('ends the tunnel cleanly when the job completes, closes its listener, and exits 0', async () => {
    const file = await yaml('completes.yaml', [
      '  short: { host: cluster, slurm: { submit: { wrap: "sleep 2" } }, local: "0:{node}:22" }',
    ]);
    await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
    const up = await fwd.waitForEvent(inState('short', 'up'));
    const id = jobIdOf(up);
    const ended = await fwd.waitForEvent(inState('short', 'ended'));
    expect(ended.ended).toEqual({ ok: true, reason: `job ${id} COMPLETED` });
    expect(await fwd.exited).toBe(0);
    await expect(httpGet(listenAddress(up), '/')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('fails with SLURM_JOB_NOT_FOUND, SLURM_JOB_ENDED (failed while pending) and SLURM_TIMEOUT', async () => {
    // Pending long enough that fwd sees it pending even on a loaded machine (5 s was not: fwd's
    // first look came after the failure, which is a different message).
    const doomed = await sbatch('--wrap true', { FAKE_FAIL_PENDING: '1', FAKE_PENDING_SECONDS: '12' });
    const slow = await sbatch('--wrap "sleep 300"', { FAKE_PENDING_SECONDS: '120' });
    try {
      const file = await yaml('errors.yaml', [
        '  unknown: { host: cluster, slurm: { job: 999999 }, local: "0:{node}:22" }',
        `  doomed: { host: cluster, slurm: { job: ${doomed} }, local: "0:{node}:22" }`,
        // 8 s: the bound counts from the start, SSH login included (1.5 s was not enough under load).
        `  slow: { host: cluster, slurm: { job: ${slow}, timeout: 8s }, local: "0:{node}:22" }`,
      ]);
      await using fwd = startFwd(['up', file, '--json'], { home: suite.home });
      const [unknown, failed, timedOut] = await Promise.all([
        fwd.waitForEvent(inState('unknown', 'failed')),
        fwd.waitForEvent(inState('doomed', 'failed')),
        fwd.waitForEvent(inState('slow', 'failed')),
      ]);
      expect(errorOf(unknown)).toEqual({
        code: 'SLURM_JOB_NOT_FOUND',
        message: 'no job 999999 on this cluster: slurm_load_jobs error: Invalid job id specified',
      });
      expect(errorOf(failed)).toEqual({
        code: 'SLURM_JOB_ENDED',
        message: `job ${doomed} FAILED (JobLaunchFailure) before it started running`,
      });
      expect(errorOf(timedOut)?.code).toBe('SLURM_TIMEOUT');
      expect(errorOf(timedOut)?.message).toContain(`job ${slow} pending (Priority)`);
      expect(await fwd.exited).toBe(1);
      expect(fwd.stderr()).toContain('every tunnel failed');
      // fwd did not submit these: it must not cancel them.
      expect(await jobState(slow)).toBe('PENDING');
    } finally {
      await sh(`scancel ${slow}`);
    }
  });
});
