import { backoffDelay, deadline, FwdError } from '@fwd/core';
import type { RemoteShell } from './slurm-commands.js';
import { scontrolShowJob, squeueJobs, squeueRunningByName } from './slurm-commands.js';
import type { SlurmJob } from './slurm-job.js';
import { newestStarted, type QueueRow } from './squeue-output.js';

/** What a tunnel wants to follow: one job by id, or the newest RUNNING job of the user by name. */
export type WatchTarget = { readonly job: string } | { readonly name: string };

export interface JobWatcher {
  /**
   * The target's state after a poll. For a job: undefined once Slurm no longer knows it at all.
   * For a name: the newest RUNNING job of that name, undefined while there is none.
   */
  update(job: SlurmJob | undefined): void;
  /** A poll failed; polling goes on unless it is fatal (no Slurm on the host). */
  error(error: FwdError): void;
}

export interface PollerOptions {
  /** First delay between polls, and again after each change (default 500 ms). */
  initialMs?: number;
  /** The delay grows to this while nothing changes (default 5 s). */
  maxMs?: number;
  /** Bound on one poll's commands (default 30 s). */
  commandTimeoutMs?: number;
}

interface Watch {
  readonly target: WatchTarget;
  readonly watcher: JobWatcher;
  readonly acquire: (signal: AbortSignal) => Promise<RemoteShell>;
  lastSeen: string | undefined;
}

/**
 * Polls Slurm for every tunnel of one host: one `squeue` per tick for all followed jobs (and one
 * for all followed names), `scontrol show job` only for a job squeue has forgotten. Fast after
 * a change, slower while nothing happens, idle (no timer) when nobody watches.
 */
export class SlurmPoller {
  readonly #watches = new Set<Watch>();
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #commandTimeoutMs: number;
  #loop: AbortController | undefined;
  #wake: (() => void) | undefined;
  #attempt = 0;

  constructor(options: PollerOptions = {}) {
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 5_000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  }

  /**
   * Follows `target` until the returned function is called. `acquire` gives the host's live
   * session (any watcher's will do: they share the host). The first poll runs at once.
   */
  watch(
    target: WatchTarget,
    acquire: (signal: AbortSignal) => Promise<RemoteShell>,
    watcher: JobWatcher,
  ): () => void {
    const watch: Watch = { target, watcher, acquire, lastSeen: undefined };
    this.#watches.add(watch);
    this.#attempt = 0;
    if (this.#loop) this.#wake?.();
    else {
      const loop = new AbortController();
      this.#loop = loop;
      void this.#run(loop);
    }
    return () => {
      if (!this.#watches.delete(watch) || this.#watches.size > 0) return;
      this.#loop?.abort();
      this.#loop = undefined;
      this.#wake?.();
    };
  }

  async #run(loop: AbortController): Promise<void> {
    while (!loop.signal.aborted) {
      await this.#tick(loop.signal);
      if (loop.signal.aborted) break;
      await this.#sleep(backoffDelay(this.#attempt++, { initialMs: this.#initialMs, maxMs: this.#maxMs }));
    }
  }

  async #tick(stop: AbortSignal): Promise<void> {
    // Tunnels that start together join the same poll: it begins on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    const first = [...this.#watches][0];
    if (!first || stop.aborted) return;
    // Time left is counted from here: squeue computes it after we ask, so the end is never late.
    const polledAt = Date.now();
    const ms = this.#commandTimeoutMs;
    using bound = deadline(
      ms,
      () => new FwdError('COMMAND_FAILED', `squeue: no answer in ${ms / 1000} s`),
      stop,
    );
    const signal = bound.signal;
    try {
      const shell = await first.acquire(signal);
      // Everyone who started watching while the session came is served by this poll too.
      const watches = [...this.#watches];
      const ids = unique(watches.flatMap((w) => ('job' in w.target ? [w.target.job] : [])));
      const names = unique(watches.flatMap((w) => ('name' in w.target ? [w.target.name] : [])));
      const [byId, byName] = await Promise.all([
        ids.length > 0 ? squeueJobs(shell, ids, signal) : [],
        names.length > 0 ? squeueRunningByName(shell, names, signal) : [],
      ]);
      const jobs = new Map<string, SlurmJob | undefined>(byId.map((row) => [row.id, jobOf(row, polledAt)]));
      // Forgotten by squeue (past MinJobAge, or a site that hides finished jobs): ask scontrol.
      const missing = ids.filter((id) => !jobs.has(id));
      const shown = await Promise.all(missing.map((id) => scontrolShowJob(shell, id, signal)));
      missing.forEach((id, i) => {
        const answer = shown[i];
        jobs.set(id, answer && !('unknown' in answer) ? answer : undefined);
      });
      if (stop.aborted) return;
      for (const watch of watches) {
        if (!this.#watches.has(watch)) continue;
        const job =
          'job' in watch.target
            ? jobs.get(watch.target.job)
            : jobOf(
                newestStarted(byName.filter((j) => j.name === (watch.target as { name: string }).name)),
                polledAt,
              );
        const seen = changeKey(job);
        // A change means more changes may follow soon: poll fast again.
        if (seen !== watch.lastSeen) this.#attempt = 0;
        watch.lastSeen = seen;
        watch.watcher.update(job);
      }
    } catch (err) {
      if (stop.aborted) return;
      const error =
        err instanceof FwdError ? err : new FwdError('COMMAND_FAILED', String(err), { cause: err });
      for (const watch of [...this.#watches]) watch.watcher.error(error);
    }
  }

  /** Waits between polls; a new watcher or the last one leaving cuts it short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * The job of a row, its time left turned into an end time. Without its start time: a pending
 * job's expected start moves often, and is no change.
 */
function jobOf(row: QueueRow | undefined, polledAt: number): SlurmJob | undefined {
  if (!row) return undefined;
  const { startTime: _, timeLeft, ...job } = row;
  if (timeLeft === undefined) return job;
  return { ...job, endsAt: timeLeft === 'unlimited' ? timeLeft : polledAt + timeLeft * 1000 };
}

/** What counts as a change of a job: not its end time, which every poll estimates anew. */
function changeKey(job: SlurmJob | undefined): string {
  if (!job) return 'null';
  const { endsAt: _, ...rest } = job;
  return JSON.stringify(rest);
}
