import type { GateContext, TunnelFacts } from '@fwd/core';
import { JobClock } from './job-clock.js';
import type { SlurmJob } from './slurm-job.js';
import { formatMark, formatTimeLeft } from './time-left.js';

/** Warn 10 min and 1 min before a job's time limit ends it, unless `slurm.warnBefore` says otherwise. */
export const DEFAULT_WARN_BEFORE_MS: readonly number[] = [600_000, 60_000];

export interface JobReportOptions {
  readonly ctx: GateContext;
  /** The job as first seen running. */
  readonly job: SlurmJob;
  /** Where the tunnel's forwards go: the job's first node. */
  readonly node: string;
  /** Marks before the end to warn at (ms). */
  readonly marks: readonly number[];
}

/**
 * What a tunnel says about its running job: the detail line (`job 42 on node1`) and the facts
 * scripts read (`job`, `node`, `endsAt`, `timeLeft`, the app's tokenised `url`), kept current as
 * polls move the end and the URL shows up; warnings (notices) at the marks before the time limit.
 */
export class JobReport implements Disposable {
  readonly detail: string;
  readonly #ctx: GateContext;
  readonly #id: string;
  readonly #nodes: string;
  readonly #clock: JobClock;
  #facts: Record<string, string | number | boolean>;
  #shown = false;

  constructor(options: JobReportOptions) {
    const { ctx, job, node } = options;
    this.#ctx = ctx;
    this.#id = job.id;
    this.#nodes = job.nodes;
    this.detail = `job ${job.id} on ${job.nodes}`;
    this.#facts = { job: job.id, node };
    this.#clock = new JobClock({
      marks: options.marks,
      changed: (end) => {
        const { endsAt: _, timeLeft: __, timeLimit: ___, ...rest } = this.#facts;
        this.#facts = end === 'unlimited' ? { ...rest, timeLimit: 'UNLIMITED' } : { ...rest, ...timing(end) };
        this.#show();
      },
      warn: (leftMs, mark) => {
        const left = formatTimeLeft(leftMs / 1000);
        // The clock's own end, not now + left: the same endsAt as the facts, to the millisecond.
        const end = this.#clock.end;
        this.#ctx.notice(
          'warn',
          `job ${this.#id} reaches its time limit in ${left} (warning ${formatMark(mark)} before): save your work`,
          { job: this.#id, ...timing(typeof end === 'number' ? end : Date.now() + leftMs) },
        );
      },
    });
    this.seen(job);
    // The first facts, unless the job's end (the clock) already showed them.
    if (!this.#shown) this.#show();
  }

  /** A poll's view of the running job (its end estimated anew). */
  seen(job: SlurmJob): void {
    this.#clock.update(job.endsAt);
  }

  /** The app's URL (with its token), pointed at this machine's listener. */
  foundUrl(url: string): void {
    this.#facts = { ...this.#facts, url };
    this.#show();
  }

  /** How the job looks now: "RUNNING on node1, 3:52:10 left", for "job 42 cancelled (it was …)". */
  describe(): string {
    const end = this.#clock.end;
    const left = typeof end === 'number' ? `, ${formatTimeLeft((end - Date.now()) / 1000)} left` : '';
    return `RUNNING on ${this.#nodes}${left}`;
  }

  /** No more warnings (the job ended, the tunnel closed). Idempotent. */
  stop(): void {
    this.#clock.stop();
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  #show(): void {
    this.#shown = true;
    this.#ctx.progress(this.detail, this.#facts as TunnelFacts);
  }
}

/** `endsAt` (ISO) and `timeLeft` (whole seconds, as of now) of an end time. */
function timing(end: number): { endsAt: string; timeLeft: number } {
  return {
    endsAt: new Date(end).toISOString(),
    timeLeft: Math.max(0, Math.round((end - Date.now()) / 1000)),
  };
}
