import type { CommandResult } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import type { RemoteShell } from './slurm-commands.js';
import type { SlurmJob } from './slurm-job.js';
import { type JobWatcher, SlurmPoller } from './slurm-poller.js';

interface Call {
  command: string;
  at: number;
}

/** squeue and scontrol over a table of jobs; `forgotten` jobs only scontrol still knows. */
function fakeSlurm(
  jobs: Map<string, SlurmJob>,
  forgotten = new Set<string>(),
): RemoteShell & { calls: Call[] } {
  const calls: Call[] = [];
  const ok = (stdout: string): CommandResult => ({
    code: 0,
    signal: undefined,
    stdout,
    stderr: '',
    truncated: false,
  });
  return {
    where: 'alice@login:22',
    calls,
    async exec(command) {
      calls.push({ command, at: performance.now() });
      const ids = /-j (\S+)/.exec(command)?.[1]?.split(',') ?? [];
      if (command.startsWith('squeue')) {
        const rows = ids
          .flatMap((id) => {
            const job = jobs.get(id);
            return job && !forgotten.has(id) ? [job] : [];
          })
          .map((j) => `${j.id}|${j.state}|${j.reason}|${j.nodes}|N/A|${j.name}\n`);
        return ok(rows.join(''));
      }
      const id = command.split(' ').at(-1) ?? '';
      const job = jobs.get(id);
      if (!job) return { ...ok(''), code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' };
      return ok(
        `JobId=${job.id} JobName=${job.name}\n   JobState=${job.state} Reason=${job.reason}\n   NodeList=${job.nodes}\n`,
      );
    },
  };
}

/** A watcher whose updates can be awaited: `next()` resolves with the following update. */
function recorder(): JobWatcher & {
  updates: (SlurmJob | undefined)[];
  next(): Promise<SlurmJob | undefined>;
} {
  const updates: (SlurmJob | undefined)[] = [];
  let wake: ((job: SlurmJob | undefined) => void) | undefined;
  return {
    updates,
    update(job) {
      updates.push(job);
      wake?.(job);
    },
    error(err) {
      throw err;
    },
    next: () => new Promise((resolve) => (wake = resolve)),
  };
}

const job = (id: string, state: string, nodes = ''): SlurmJob => ({
  id,
  name: `job${id}`,
  state,
  reason: state === 'PENDING' ? 'Priority' : 'None',
  nodes,
});

describe('SlurmPoller', () => {
  it('asks ONE squeue per tick for every job it follows, and scontrol only for a forgotten one', async () => {
    const jobs = new Map([
      ['1', job('1', 'RUNNING', 'node1')],
      ['2', job('2', 'PENDING')],
      ['3', job('3', 'COMPLETED', 'node2')],
    ]);
    const shell = fakeSlurm(jobs, new Set(['3']));
    const poller = new SlurmPoller({ initialMs: 5, maxMs: 20 });
    const watchers = ['1', '2', '3', '4'].map(() => recorder());
    const firsts = watchers.map((w) => w.next());
    // All watch before the first tick runs (it starts on the next turn of the event loop).
    const unwatch = ['1', '2', '3', '4'].map((id, i) =>
      poller.watch({ job: id }, async () => shell, watchers[i] as JobWatcher),
    );
    expect(await Promise.all(firsts)).toEqual([
      job('1', 'RUNNING', 'node1'),
      job('2', 'PENDING'),
      job('3', 'COMPLETED', 'node2'),
      undefined,
    ]);
    expect(shell.calls.map((c) => c.command)).toEqual([
      "squeue -h -t all -j 1,2,3,4 -o '%i|%T|%r|%N|%S|%j'",
      'scontrol show job 3',
      'scontrol show job 4',
    ]);
    for (const stop of unwatch) stop();
  });

  it('polls fast after a change and backs off while nothing changes; stops when nobody watches', async () => {
    const jobs = new Map([['1', job('1', 'PENDING')]]);
    const shell = fakeSlurm(jobs);
    const poller = new SlurmPoller({ initialMs: 10, maxMs: 80 });
    const watcher = recorder();
    const stop = poller.watch({ job: '1' }, async () => shell, watcher);
    for (let i = 0; i < 6; i++) await watcher.next();
    const gaps = shell.calls.slice(1).map((c, i) => c.at - (shell.calls[i]?.at ?? 0));
    // Equal jitter: attempt n waits between half and all of min(max, initial·2ⁿ).
    expect(gaps[0]).toBeLessThan(40);
    expect(Math.min(...gaps.slice(3))).toBeGreaterThanOrEqual(35);

    jobs.set('1', job('1', 'RUNNING', 'node1'));
    await watcher.next();
    const changedAt = shell.calls.length;
    await watcher.next();
    const afterChange = (shell.calls[changedAt]?.at ?? 0) - (shell.calls[changedAt - 1]?.at ?? 0);
    expect(afterChange).toBeLessThan(40);

    stop();
    const calls = shell.calls.length;
    // With no watcher left there is no timer either: nothing more runs.
    await new Promise((resolve) => setImmediate(resolve));
    expect(shell.calls.length).toBeLessThanOrEqual(calls + 1);
  });

  it('follows a name: the newest RUNNING job of mine, undefined while there is none', async () => {
    const calls: string[] = [];
    let stdout = '';
    const shell: RemoteShell = {
      where: 'alice@login:22',
      async exec(command) {
        calls.push(command);
        return { code: 0, signal: undefined, stdout, stderr: '', truncated: false };
      },
    };
    const poller = new SlurmPoller({ initialMs: 5, maxMs: 10 });
    const watcher = recorder();
    const stop = poller.watch({ name: 'nb' }, async () => shell, watcher);
    expect(await watcher.next()).toBeUndefined();
    stdout =
      '7|RUNNING|None|node1|2024-05-01T10:00:00|nb\n9|RUNNING|None|node2|2024-05-01T11:00:00|nb\n8|RUNNING|None|node2|2024-05-01T12:00:00|other\n';
    let found = await watcher.next();
    while (!found) found = await watcher.next();
    expect(found).toMatchObject({ id: '9', nodes: 'node2' });
    expect(calls[0]).toBe("squeue -h --me -t RUNNING -n nb -o '%i|%T|%r|%N|%S|%j'");
    stop();
  });
});
