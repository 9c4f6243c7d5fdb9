import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commandResult, fakeShell } from '../../../../test/support/fake-shell.js';
import type { RemoteShell } from './slurm-commands.js';
import type { SlurmJob } from './slurm-job.js';
import { type JobWatcher, SlurmPoller } from './slurm-poller.js';

interface Call {
  command: string;
  /** The fake clock when it ran. */
  at: number;
  stdout: string;
}

/**
 * squeue and scontrol over a table of jobs; `forgotten` jobs only scontrol still knows. squeue
 * prints `timeLeft[id]` (squeue %L text) as each job's time left, "1:00:00" by default.
 */
function fakeSlurm(
  jobs: Map<string, SlurmJob>,
  forgotten = new Set<string>(),
  timeLeft = new Map<string, string>(),
): RemoteShell & { calls: Call[] } {
  const calls: Call[] = [];
  const ok = (stdout: string) => commandResult({ stdout });
  const shell = fakeShell((command) => {
    const call: Call = { command, at: Date.now(), stdout: '' };
    calls.push(call);
    const ids = /-j (\S+)/.exec(command)?.[1]?.split(',') ?? [];
    if (command.startsWith('squeue')) {
      const rows = ids
        .flatMap((id) => {
          const job = jobs.get(id);
          return job && !forgotten.has(id) ? [job] : [];
        })
        .map(
          (j) =>
            `${j.id}|${j.state}|${j.reason}|${j.nodes}|N/A|${timeLeft.get(j.id) ?? '1:00:00'}|${j.name}\n`,
        );
      call.stdout = rows.join('');
      return ok(call.stdout);
    }
    const id = command.split(' ').at(-1) ?? '';
    const job = jobs.get(id);
    if (!job) return commandResult({ code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' });
    return ok(
      `JobId=${job.id} JobName=${job.name}\n   JobState=${job.state} Reason=${job.reason}\n   NodeList=${job.nodes}\n`,
    );
  });
  return Object.assign(shell, { calls });
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

/** Runs the fake clock, timer by timer, until `done()` holds (every poll and sleep is a timer). */
async function advanceUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await vi.advanceTimersToNextTimerAsync();
  expect(done()).toBe(true);
}

/** Runs the fake clock until `promise` settles. */
async function until<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  await advanceUntil(() => settled);
  return watched;
}

/** Equal-jitter bounds of sleep number `n` (see backoffDelay): [half, all] of min(max, initial·2ⁿ). */
function slot(n: number, initialMs: number, maxMs: number): [number, number] {
  const exp = Math.min(maxMs, initialMs * 2 ** n);
  return [Math.floor(exp / 2), exp];
}

describe('SlurmPoller', () => {
  // Fake timers throughout: gaps between polls are the poller's own delays, not the machine's speed.
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2024-05-01T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('asks ONE squeue per tick for every job it follows, and scontrol only for a forgotten one', async () => {
    const jobs = new Map([
      ['1', job('1', 'RUNNING', 'node1')],
      ['2', job('2', 'PENDING')],
      ['3', job('3', 'COMPLETED', 'node2')],
    ]);
    const shell = fakeSlurm(jobs, new Set(['3']));
    const poller = new SlurmPoller();
    const watchers = ['1', '2', '3', '4'].map(() => recorder());
    const firsts = watchers.map((w) => w.next());
    // All watch before the first tick runs (it starts on the next turn of the event loop).
    const unwatch = ['1', '2', '3', '4'].map((id, i) =>
      poller.watch({ job: id }, async () => shell, watchers[i] as JobWatcher),
    );
    const inAnHour = Date.now() + 3_600_000;
    expect(await until(Promise.all(firsts))).toEqual([
      { ...job('1', 'RUNNING', 'node1'), endsAt: inAnHour },
      { ...job('2', 'PENDING'), endsAt: inAnHour },
      job('3', 'COMPLETED', 'node2'),
      undefined,
    ]);
    expect(shell.calls.map((c) => c.command)).toEqual([
      "squeue -h -t all -j 1,2,3,4 -o '%i|%T|%r|%N|%S|%L|%j'",
      'scontrol show job 3',
      'scontrol show job 4',
    ]);
    for (const stop of unwatch) stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('polls fast after a change and backs off while nothing changes; stops when nobody watches', async () => {
    const { initialMs, maxMs } = { initialMs: 500, maxMs: 5_000 }; // the poller's defaults
    const jobs = new Map([['1', job('1', 'PENDING')]]);
    const shell = fakeSlurm(jobs);
    const poller = new SlurmPoller();
    const watcher = recorder();
    const stop = poller.watch({ job: '1' }, async () => shell, watcher);
    await advanceUntil(() => shell.calls.length >= 7);
    const gaps = shell.calls.slice(1, 7).map((c, i) => c.at - (shell.calls[i]?.at ?? 0));
    // The first poll saw something new (nothing was known): the next comes within one fast slot,
    // then each waits about twice as long, up to the cap.
    gaps.forEach((gap, n) => {
      const [low, high] = slot(n, initialMs, maxMs);
      expect(gap).toBeGreaterThanOrEqual(low);
      expect(gap).toBeLessThanOrEqual(high);
    });
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(maxMs / 2);

    jobs.set('1', job('1', 'RUNNING', 'node1'));
    const seen = (): number => shell.calls.findIndex((c) => c.stdout.includes('RUNNING'));
    await advanceUntil(() => seen() >= 0 && shell.calls.length > seen() + 1);
    const changedAt = seen();
    const afterChange = (shell.calls[changedAt + 1]?.at ?? 0) - (shell.calls[changedAt]?.at ?? 0);
    expect(afterChange).toBeLessThanOrEqual(initialMs);
    expect(watcher.updates).toContainEqual(expect.objectContaining({ state: 'RUNNING' }));

    stop();
    // With no watcher left nothing more runs, and no timer is left behind.
    const calls = shell.calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(shell.calls.length).toBe(calls);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('turns time left into an end time at the poll, and a new estimate is no change (no fast polling)', async () => {
    const end = Date.parse('2024-05-01T14:00:00Z');
    const jobs = new Map([['1', job('1', 'RUNNING', 'node1')]]);
    const timeLeft = new Map([['1', '4:00:00']]);
    const shell = fakeSlurm(jobs, new Set(), timeLeft);
    // squeue's answer counts down with the clock, a second short (its resolution, and the time
    // the command takes): each poll's estimate differs a little.
    const realExec = shell.exec.bind(shell);
    shell.exec = async (command, options) => {
      const left = Math.floor((end - Date.now()) / 1000) - 1;
      if (timeLeft.get('1')?.includes(':')) {
        const h = Math.floor(left / 3600);
        const m = String(Math.floor((left % 3600) / 60)).padStart(2, '0');
        timeLeft.set('1', `${h}:${m}:${String(left % 60).padStart(2, '0')}`);
      }
      return realExec(command, options);
    };
    const poller = new SlurmPoller();
    const watcher = recorder();
    const stop = poller.watch({ job: '1' }, async () => shell, watcher);
    await advanceUntil(() => shell.calls.length >= 7);
    const ends = watcher.updates.map((j) => j?.endsAt as number);
    for (const estimate of ends) {
      expect(estimate).toBeGreaterThanOrEqual(end - 2_000);
      expect(estimate).toBeLessThanOrEqual(end);
    }
    // A new estimate every poll, yet the polls slow down as if nothing changed.
    const gaps = shell.calls.slice(1, 7).map((c, i) => c.at - (shell.calls[i]?.at ?? 0));
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(slot(5, 500, 5_000)[0]);

    timeLeft.set('1', 'UNLIMITED');
    await advanceUntil(() => watcher.updates.at(-1)?.endsAt === 'unlimited');
    timeLeft.set('1', 'NOT_SET');
    await advanceUntil(() => watcher.updates.at(-1)?.endsAt === undefined);
    expect(watcher.updates.at(-1)).toEqual(job('1', 'RUNNING', 'node1'));
    stop();
  });

  it('follows a name: the newest RUNNING job of mine, undefined while there is none', async () => {
    const calls: Call[] = [];
    let stdout = '';
    const shell = fakeShell((command) => {
      calls.push({ command, at: Date.now(), stdout });
      return commandResult({ stdout });
    });
    const poller = new SlurmPoller();
    const watcher = recorder();
    const stop = poller.watch({ name: 'nb' }, async () => shell, watcher);
    expect(await until(watcher.next())).toBeUndefined();
    stdout =
      '7|RUNNING|None|node1|2024-05-01T10:00:00|1:00|nb\n9|RUNNING|None|node2|2024-05-01T11:00:00|2:00|nb\n8|RUNNING|None|node2|2024-05-01T12:00:00|3:00|other\n';
    await advanceUntil(() => watcher.updates.some((j) => j !== undefined));
    const found = watcher.updates.find((j) => j !== undefined);
    const polled = calls.find((c) => c.stdout !== '');
    expect(found).toMatchObject({ id: '9', nodes: 'node2', endsAt: (polled?.at ?? 0) + 120_000 });
    expect(calls[0]?.command).toBe("squeue -h --me -t RUNNING -n nb -o '%i|%T|%r|%N|%S|%L|%j'");
    stop();
  });

  it('bounds a poll that hangs, says so to every watcher, and polls again', async () => {
    const never = fakeShell(
      (_c, options) =>
        new Promise((_r, reject) =>
          options.signal?.addEventListener('abort', () => reject(options.signal?.reason)),
        ),
    );
    const poller = new SlurmPoller({ commandTimeoutMs: 30_000 });
    const errors: string[] = [];
    const stop = poller.watch({ job: '1' }, async () => never, {
      update: () => undefined,
      error: (err) => errors.push(`${err.code}: ${err.message}`),
    });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toEqual(['COMMAND_FAILED: squeue: no answer in 30 s']);
    stop();
  });
});
