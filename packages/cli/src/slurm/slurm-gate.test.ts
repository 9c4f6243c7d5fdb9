import type {
  CommandResult,
  ForwardSpec,
  ForwardStatus,
  HostConnection,
  RunCommandOptions,
  SshSession,
  TunnelFacts,
} from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { commandResult } from '../../../../test/support/fake-shell.js';
import type { SlurmConfig } from '../config/index.js';
import type { NodeConnections } from './node-connections.js';
import type { RemoteShell } from './slurm-commands.js';
import type { GateContext } from './slurm-gate.js';
import { SlurmGate } from './slurm-gate.js';
import type { SlurmJob } from './slurm-job.js';
import { SlurmPoller } from './slurm-poller.js';

type Job = { -readonly [K in keyof SlurmJob]: SlurmJob[K] };

/** A login node's Slurm in miniature: the commands fwd runs, over a job table the test edits. */
class FakeSlurm implements RemoteShell {
  readonly where = 'alice@login:22';
  readonly jobs = new Map<string, Job>();
  readonly commands: string[] = [];
  readonly stdin: string[] = [];
  /** Files `head` can read (a job's output file). */
  readonly files = new Map<string, string>();
  readonly #seen: { prefix: string; resolve: () => void }[] = [];

  /** Resolves once a command starting with `prefix` has run (past or future). */
  ran(prefix: string): Promise<void> {
    if (this.commands.some((c) => c.startsWith(prefix))) return Promise.resolve();
    return new Promise((resolve) => this.#seen.push({ prefix, resolve }));
  }
  installed = true;
  #nextId = 100;

  add(job: Partial<Job> & { id: string }): Job {
    const full: Job = { name: 'job', state: 'PENDING', reason: 'Priority', nodes: '', ...job };
    this.jobs.set(job.id, full);
    return full;
  }

  async exec(command: string, options: RunCommandOptions = {}): Promise<CommandResult> {
    this.commands.push(command);
    for (const w of this.#seen.filter((w) => command.startsWith(w.prefix))) w.resolve();
    const ok = (stdout: string): CommandResult => commandResult({ stdout });
    const fail = (code: number, stderr: string): CommandResult => commandResult({ code, stderr });
    const [name] = command.split(' ');
    if (!this.installed) return fail(127, `bash: line 1: ${name}: command not found\n`);
    const id = command.split(' ').at(-1) ?? '';
    if (name === 'head') {
      const text = this.files.get(id);
      return text === undefined
        ? fail(1, `head: cannot open '${id}' for reading: No such file or directory\n`)
        : ok(text);
    }
    if (name === 'sbatch') {
      if (options.stdin !== undefined) this.stdin.push(String(options.stdin));
      const job = this.add({ id: String(this.#nextId++) });
      return ok(`${job.id}\n`);
    }
    if (name === 'scancel') {
      const job = this.jobs.get(id);
      if (job) Object.assign(job, { state: 'CANCELLED', reason: 'None' });
      return ok('');
    }
    if (name === 'scontrol') {
      const job = this.jobs.get(id);
      if (!job) return fail(1, 'slurm_load_jobs error: Invalid job id specified\n');
      return ok(
        `JobId=${job.id} JobName=${job.name}\n   JobState=${job.state} Reason=${job.reason}\n   ExitCode=${job.exitCode ?? '0:0'}\n   NodeList=${job.nodes || '(null)'}\n   StdOut=/home/alice/slurm-${job.id}.out\n\n`,
      );
    }
    const row = (j: Job) => `${j.id}|${j.state}|${j.reason}|${j.nodes}|N/A|1:00:00|${j.name}\n`;
    const byName = /-n (\S+)/.exec(command)?.[1];
    if (byName) {
      return ok(
        [...this.jobs.values()]
          .filter((j) => j.name === byName && j.state === 'RUNNING')
          .map(row)
          .join(''),
      );
    }
    const ids = (/-j (\S+)/.exec(command)?.[1] ?? '').split(',');
    return ok(ids.flatMap((i) => (this.jobs.has(i) ? [row(this.jobs.get(i) as Job)] : [])).join(''));
  }
}

const FORWARDS: ForwardSpec[] = [
  { kind: 'local', bind: { port: 0 }, target: { host: '{node}', port: 8888 } },
  { kind: 'local', bind: { port: 0 }, target: { path: '/tmp/{user}-{job}.sock' } },
];

/** A gate over `slurm`, and a context whose progress lines can be awaited. */
function setup(
  slurm: SlurmConfig,
  fake = new FakeSlurm(),
  more: Partial<ConstructorParameters<typeof SlurmGate>[0]> = {},
) {
  const stop = new AbortController();
  const progress: string[] = [];
  /** The facts given with each progress line (core keeps the last given). */
  const facts: (TunnelFacts | undefined)[] = [];
  const notices: { level: string; message: string; facts?: TunnelFacts }[] = [];
  const waiters: { match: (line: string) => boolean; resolve: () => void }[] = [];
  const acquired: string[] = [];
  const gate = new SlurmGate({
    slurm,
    forwards: FORWARDS,
    user: 'alice',
    poller: new SlurmPoller({ initialMs: 2, maxMs: 10 }),
    readScript: async (path) => `#!/bin/bash\n# ${path}\nsleep 300\n`,
    ...more,
  });
  const listening: ForwardStatus[] = [
    { kind: 'local', listen: '127.0.0.1:40001', target: 'gpu-a01:8888' },
    { kind: 'local', listen: '127.0.0.1:40002', target: '/tmp/alice-100.sock' },
  ];
  const ctx: GateContext = {
    acquire: async () => {
      acquired.push('login');
      return fake as unknown as SshSession;
    },
    signal: stop.signal,
    progress: (line, given) => {
      progress.push(line);
      facts.push(given);
      for (const w of [...waiters]) if (w.match(line)) w.resolve();
    },
    notice: (level, message, given) => {
      notices.push({ level, message, ...(given ? { facts: given } : {}) });
    },
    listening: async () => listening,
  };
  /** Resolves once a progress line equal to `line` (past or future) was shown. */
  const shown = (line: string): Promise<void> =>
    progress.includes(line)
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push({ match: (l) => l === line, resolve }));
  /** Resolves with the first progress line (past or future) that `match` accepts (given its index). */
  const shownLike = (match: (line: string, index?: number) => boolean): Promise<string> => {
    const past = progress.find(match);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve) => {
      const waiter = { match, resolve: () => resolve(progress.find(match) ?? '') };
      waiters.push(waiter);
    });
  };
  /** Resolves with the first facts (past or future) that `match` accepts. */
  const factsLike = async (match: (f: TunnelFacts) => boolean): Promise<TunnelFacts> => {
    await shownLike((_, i) => {
      const f = facts[i ?? progress.length - 1];
      return f !== undefined && match(f);
    });
    return facts.find((f) => f !== undefined && match(f)) as TunnelFacts;
  };
  return { fake, gate, ctx, progress, facts, notices, shown, shownLike, factsLike, stop, acquired };
}

const submit = (cancelOnExit = true): SlurmConfig => ({
  mode: 'submit',
  run: { script: 'nb.sbatch' },
  args: ['-J', 'nb'],
  cancelOnExit,
});

describe('SlurmGate', () => {
  it('submits, shows pending then running, opens forwards to the first node, ends with the job', async () => {
    const { fake, gate, ctx, progress, facts, shown } = setup(submit());
    const opening = gate.open(ctx);
    await shown('job 100 pending (Priority)');
    Object.assign(fake.jobs.get('100') as Job, { state: 'RUNNING', reason: 'None', nodes: 'gpu-a[01-02]' });
    const open = await opening;
    expect(progress).toEqual([
      'submitting',
      'job 100 submitted',
      'job 100 pending (Priority)',
      'job 100 running on gpu-a[01-02]',
      'job 100 on gpu-a[01-02]',
    ]);
    // Facts for scripts: the job once known, then its node and when its time limit ends it
    // (the fake squeue says 1:00:00 left).
    expect(facts.slice(0, 3)).toEqual([undefined, undefined, { job: '100' }]);
    expect(facts.at(-1)).toEqual({
      job: '100',
      node: 'gpu-a01',
      endsAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      timeLeft: expect.any(Number),
    });
    const { endsAt, timeLeft } = facts.at(-1) as { endsAt: string; timeLeft: number };
    expect(Math.abs(Date.parse(endsAt) - Date.now() - 3_600_000)).toBeLessThan(60_000);
    expect(timeLeft).toBeGreaterThan(3_500);
    expect(fake.commands[0]).toBe('sbatch --parsable -J nb');
    expect(fake.stdin).toEqual(['#!/bin/bash\n# nb.sbatch\nsleep 300\n']);
    expect(open.detail).toBe('job 100 on gpu-a[01-02]');
    expect(open.forwards).toEqual([
      { kind: 'local', bind: { port: 0 }, target: { host: 'gpu-a01', port: 8888 } },
      { kind: 'local', bind: { port: 0 }, target: { path: '/tmp/alice-100.sock' } },
    ]);
    Object.assign(fake.jobs.get('100') as Job, { state: 'COMPLETED' });
    expect(await open.ended).toEqual({ ok: true, reason: 'job 100 COMPLETED' });
    await gate.close();
    expect(fake.commands.filter((c) => c.startsWith('scancel'))).toEqual([]);
  });

  it('cancels the job it submitted when closed, and only that, saying what it cancelled', async () => {
    const { fake, gate, ctx, shown, stop, notices } = setup(submit());
    void gate.open(ctx).catch(() => undefined);
    await shown('job 100 pending (Priority)');
    stop.abort();
    await gate.close();
    await gate.close();
    expect(fake.commands.filter((c) => c.startsWith('scancel'))).toEqual(['scancel 100']);
    expect(notices).toEqual([
      {
        level: 'info',
        message: 'job 100 cancelled (it was pending (Priority))',
        facts: { job: '100', state: 'CANCELLED' },
      },
    ]);

    const kept = setup(submit(false));
    void kept.gate.open(kept.ctx).catch(() => undefined);
    await kept.shown('job 100 pending (Priority)');
    kept.stop.abort();
    await kept.gate.close();
    expect(kept.fake.commands.filter((c) => c.startsWith('scancel'))).toEqual([]);
    expect(kept.notices).toEqual([
      {
        level: 'info',
        message: 'job 100 keeps running (pending (Priority)): cancelOnExit is false',
        facts: { job: '100' },
      },
    ]);

    const attached = setup({ mode: 'job', job: '7' });
    attached.fake.add({ id: '7' });
    void attached.gate.open(attached.ctx).catch(() => undefined);
    await attached.shown('job 7 pending (Priority)');
    attached.stop.abort();
    await attached.gate.close();
    expect(attached.fake.commands.filter((c) => c.startsWith('scancel'))).toEqual([]);
  });

  it('closes once however often it is asked (memoized), and cancels the job once', async () => {
    const { fake, gate, ctx, notices } = setup({
      mode: 'submit',
      run: { wrap: 'sleep 300' },
      args: [],
      cancelOnExit: true,
    });
    const opening = gate.open(ctx);
    await fake.ran('sbatch');
    const id = [...fake.jobs.keys()][0] as string;
    Object.assign(fake.jobs.get(id) as Job, { state: 'RUNNING', reason: 'None', nodes: 'node1' });
    await opening;
    const first = gate.close();
    expect(gate.close()).toBe(first);
    await Promise.all([first, gate.close()]);
    expect(fake.commands.filter((c) => c.startsWith('scancel'))).toEqual([`scancel ${id}`]);
    expect(notices.map((n) => n.message)).toEqual([
      expect.stringMatching(
        new RegExp(`^job ${id} cancelled \\(it was RUNNING on node1, (1:00:00|59:5\\d) left\\)$`),
      ),
    ]);
  });

  it('warns before the time limit ends the job (slurm.warnBefore), as a notice with the time left', async () => {
    const { fake, gate, ctx, notices } = setup({ mode: 'job', job: '42', warnBeforeMs: [3_600_000, 60_000] });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node1' });
    const open = await gate.open(ctx);
    // The fake squeue says 1:00:00 left: the 1 h mark is reached at first sight, once.
    expect(notices).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(
          /^job 42 reaches its time limit in (1:00:00|59:5\d) \(warning 1 h before\): save your work$/,
        ),
        facts: { job: '42', endsAt: expect.any(String), timeLeft: expect.any(Number) },
      },
    ]);
    Object.assign(fake.jobs.get('42') as Job, { state: 'TIMEOUT', reason: 'TimeLimit' });
    expect(await open.ended).toEqual({ ok: false, reason: 'job 42 TIMEOUT: it reached its time limit' });
    await gate.close();
    expect(notices).toHaveLength(1);
  });

  it('attaches to a running job by id; someone else cancelling it is a failed end', async () => {
    const { fake, gate, ctx } = setup({ mode: 'job', job: '42' });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node7' });
    const open = await gate.open(ctx);
    expect(open.detail).toBe('job 42 on node7');
    Object.assign(fake.jobs.get('42') as Job, { state: 'CANCELLED' });
    expect(await open.ended).toEqual({ ok: false, reason: 'job 42 CANCELLED (not by fwd)' });
  });

  it.each([
    // squeue has no exit code: the gate asks scontrol once, for a failed job only.
    [
      { state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0' },
      'job 42 FAILED (NonZeroExitCode): exit code 3',
    ],
    [{ state: 'TIMEOUT', reason: 'TimeLimit' }, 'job 42 TIMEOUT: it reached its time limit'],
    [{ state: 'NODE_FAIL', reason: 'None' }, 'job 42 NODE_FAIL: one of its nodes failed'],
  ])('reports a job that ends as %o as a failure, saying why', async (end, reason) => {
    const { fake, gate, ctx } = setup({ mode: 'job', job: '42' });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node1' });
    const open = await gate.open(ctx);
    Object.assign(fake.jobs.get('42') as Job, end);
    expect(await open.ended).toEqual({ ok: false, reason });
  });

  it('ends (not ok) when the job vanishes from Slurm altogether', async () => {
    const { fake, gate, ctx } = setup({ mode: 'job', job: '42' });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node1' });
    const open = await gate.open(ctx);
    fake.jobs.delete('42');
    expect(await open.ended).toEqual({ ok: false, reason: 'job 42 ended; Slurm no longer knows how' });
  });

  it("rejects an unknown id with SLURM_JOB_NOT_FOUND and scontrol's words", async () => {
    const { gate, ctx } = setup({ mode: 'job', job: '999999' });
    await expect(gate.open(ctx)).rejects.toMatchObject({
      code: 'SLURM_JOB_NOT_FOUND',
      message: 'no job 999999 on this cluster: slurm_load_jobs error: Invalid job id specified',
    });
  });

  it('rejects with SLURM_JOB_ENDED when the job fails while pending, or already ended', async () => {
    const pending = setup({ mode: 'job', job: '5' });
    pending.fake.add({ id: '5' });
    const opening = pending.gate.open(pending.ctx);
    await pending.shown('job 5 pending (Priority)');
    Object.assign(pending.fake.jobs.get('5') as Job, { state: 'FAILED', reason: 'JobLaunchFailure' });
    await expect(opening).rejects.toMatchObject({
      code: 'SLURM_JOB_ENDED',
      message: 'job 5 FAILED (JobLaunchFailure) before it started running',
    });

    // Ran for less than a poll interval (the app could not start): where, and its exit code.
    const brief = setup({ mode: 'job', job: '7' });
    brief.fake.add({ id: '7' });
    const briefly = brief.gate.open(brief.ctx);
    await brief.shown('job 7 pending (Priority)');
    Object.assign(brief.fake.jobs.get('7') as Job, {
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      nodes: 'node1',
      exitCode: '127:0',
    });
    await expect(briefly).rejects.toMatchObject({
      code: 'SLURM_JOB_ENDED',
      message: 'job 7 FAILED (NonZeroExitCode) after a short run on node1: exit code 127',
    });

    const over = setup({ mode: 'job', job: '6' });
    over.fake.add({ id: '6', state: 'COMPLETED', reason: 'None', nodes: 'node1' });
    await expect(over.gate.open(over.ctx)).rejects.toMatchObject({
      code: 'SLURM_JOB_ENDED',
      message: 'job 6 COMPLETED: it is over, nothing to forward to',
    });
  });

  it('gives up with SLURM_TIMEOUT, saying what it waited for', async () => {
    const { fake, gate, ctx } = setup({ mode: 'job', job: '8', timeoutMs: 200 });
    fake.add({ id: '8', reason: 'Resources' });
    await expect(gate.open(ctx)).rejects.toMatchObject({
      code: 'SLURM_TIMEOUT',
      message: 'job 8 pending (Resources) — still not running after 200ms (slurm.timeout)',
    });
  });

  it('cancels a job it submitted once waiting for it timed out', async () => {
    const { fake, gate, ctx } = setup({ ...submit(), timeoutMs: 200 });
    await expect(gate.open(ctx)).rejects.toMatchObject({
      code: 'SLURM_TIMEOUT',
      message: 'job 100 pending (Priority) — still not running after 200ms (slurm.timeout); cancelled it',
    });
    expect(fake.jobs.get('100')?.state).toBe('CANCELLED');
    await gate.close();
    expect(fake.commands.filter((c) => c.startsWith('scancel'))).toEqual(['scancel 100']);
  });

  it('waits for a job by name, then follows the newest running one', async () => {
    const { fake, gate, ctx, shown } = setup({ mode: 'name', name: 'nb' });
    const opening = gate.open(ctx);
    await shown('no running job named nb yet');
    fake.add({ id: '11', name: 'nb', state: 'RUNNING', reason: 'None', nodes: 'node2' });
    const open = await opening;
    expect(open.detail).toBe('job 11 on node2');
    expect(fake.commands).toContain("squeue -h --me -t RUNNING -n nb -o '%i|%T|%r|%N|%S|%L|%j'");
  });

  it('says SLURM_UNAVAILABLE when the host has no Slurm', async () => {
    const fake = new FakeSlurm();
    fake.installed = false;
    for (const slurm of [
      submit(),
      { mode: 'job', job: '1' } as const,
      { mode: 'name', name: 'x' } as const,
    ]) {
      const { gate, ctx } = setup(slurm, fake);
      await expect(gate.open(ctx)).rejects.toMatchObject({ code: 'SLURM_UNAVAILABLE' });
    }
  });

  it('runs Slurm commands through its own shell on a local host, never asking for a session', async () => {
    const fake = new FakeSlurm();
    const { gate, ctx, acquired } = setup({ mode: 'job', job: '42' }, new FakeSlurm(), { shell: fake });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node1' });
    const open = await gate.open(ctx);
    expect(open.detail).toBe('job 42 on node1');
    expect(fake.commands[0]).toBe('scontrol show job 42');
    expect(acquired).toEqual([]);
    await gate.close();
  });

  it('with via: node, forwards over a node session it shares and lets go of when the job ends', async () => {
    const connection = { name: 'node session' } as unknown as HostConnection;
    const leases: string[] = [];
    let released = 0;
    const nodes = {
      lease: async (job: string, node: string, login: (s: AbortSignal) => Promise<SshSession>) => {
        leases.push(`${job} on ${node}`);
        await login(AbortSignal.timeout(1_000));
        return { connection, release: async () => void released++ };
      },
    } as unknown as NodeConnections;
    const { fake, gate, ctx, progress, acquired } = setup({ mode: 'job', job: '42' }, new FakeSlurm(), {
      via: 'node',
      nodes,
    });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node[3-4]' });
    const open = await gate.open(ctx);
    expect(open.via).toBe(connection);
    expect(leases).toEqual(['42 on node3']);
    expect(acquired.length).toBeGreaterThan(0);
    expect(progress).toContain('job 42 running on node3; connecting to node3 over SSH');
    expect(open.forwards[1]).toEqual({
      kind: 'local',
      bind: { port: 0 },
      target: { path: '/tmp/alice-42.sock' },
    });
    Object.assign(fake.jobs.get('42') as Job, { state: 'COMPLETED' });
    await open.ended;
    expect(released).toBe(1);
    await gate.close();
  });

  it("gives the app's URL from the job's output once it appears, pointed at the local listener", async () => {
    const { fake, gate, ctx, progress, factsLike } = setup({ mode: 'job', job: '42', urlFromOutput: true });
    fake.add({ id: '42', state: 'RUNNING', reason: 'None', nodes: 'gpu-a01' });
    const open = await gate.open(ctx);
    expect(open.detail).toBe('job 42 on gpu-a01');
    // Nothing yet: Jupyter prints its URL a few seconds after it starts.
    fake.files.set('/home/alice/slurm-42.out', '[I ServerApp] starting\n');
    await fake.ran('head ');
    fake.files.set(
      '/home/alice/slurm-42.out',
      '[I ServerApp] starting\n[I ServerApp]     http://gpu-a01:8888/lab?token=abc123\n',
    );
    const found = await factsLike((f) => f.url !== undefined);
    expect(found).toMatchObject({
      job: '42',
      node: 'gpu-a01',
      url: 'http://127.0.0.1:40001/lab?token=abc123',
    });
    // In the facts (the forward's url, for NDJSON and fwd ps --json), not in the detail line.
    expect(progress.at(-1)).toBe('job 42 on gpu-a01');
    expect(fake.commands).toContain('head -c 262144 -- /home/alice/slurm-42.out');
    // The output file came with the lookup of job 42: scontrol ran once, not again for the URL.
    expect(fake.commands.filter((c) => c.startsWith('scontrol'))).toEqual(['scontrol show job 42']);
    Object.assign(fake.jobs.get('42') as Job, { state: 'COMPLETED' });
    await open.ended;
    await gate.close();
  });
});
