/** When a job's time limit will end it: epoch ms, `unlimited`, or unknown. */
export type JobEnd = number | 'unlimited' | undefined;

export interface JobClockOptions {
  /** Warn this long before the end (ms), once each: [600_000, 60_000] for 10 min and 1 min. */
  readonly marks: readonly number[];
  /** The end as shown changed (a first estimate, a limit that moved, or no limit). */
  readonly changed: (end: Exclude<JobEnd, undefined>) => void;
  /** `mark` was reached: `leftMs` remain (less than the mark when first seen after it). */
  readonly warn: (leftMs: number, mark: number) => void;
  readonly now?: () => number;
}

/**
 * Every poll estimates the end anew from squeue's whole-second time left and the moment it asked:
 * estimates this close count as the same end, so the shown end (and NDJSON) does not jitter.
 */
const SAME_END_MS = 2_000;
/** setTimeout's longest delay is 2³¹−1 ms (24.8 days): further marks are re-checked daily. */
const MAX_DELAY_MS = 86_400_000;

/**
 * A running job's end, fed by each poll, and warnings at fixed marks before it. A mark already
 * passed when the end is first known (or moved) warns at once, one warning for all of them; a
 * limit that moves later re-arms the marks still ahead. Timer-driven between polls.
 */
export class JobClock implements Disposable {
  readonly #options: JobClockOptions;
  readonly #now: () => number;
  /** Marks that have not warned yet for the current end, largest first. */
  #armed: number[] = [];
  #end: JobEnd;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: JobClockOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The end as shown: the first estimate of it, until the limit moves. */
  get end(): JobEnd {
    return this.#end;
  }

  /** A poll's estimate; unknown keeps the last one (Slurm says INVALID past the limit). */
  update(end: JobEnd): void {
    if (this.#stopped || end === undefined || this.#same(end)) return;
    this.#end = end;
    this.#options.changed(end);
    const left = end === 'unlimited' ? Number.POSITIVE_INFINITY : end - this.#now();
    this.#armed = [...new Set(this.#options.marks)].filter((m) => m > 0).sort((a, b) => b - a);
    // A first sight after some marks: one warning now (the nearest mark), not one per mark.
    if (this.#armed.some((m) => m >= left)) this.#fire(left);
    this.#schedule();
  }

  /** No more warnings (the job ended, the tunnel closed). Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  #same(end: Exclude<JobEnd, undefined>): boolean {
    const known = this.#end;
    if (known === undefined || end === 'unlimited' || known === 'unlimited') return known === end;
    return Math.abs(known - end) < SAME_END_MS;
  }

  /** Warns for the smallest armed mark that `left` has reached, and disarms every reached one. */
  #fire(left: number): void {
    const reached = this.#armed.filter((m) => m >= left);
    const nearest = reached.at(-1);
    if (nearest === undefined) return;
    this.#armed = this.#armed.filter((m) => m < left);
    this.#options.warn(Math.max(0, left), nearest);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const end = this.#end;
    const next = this.#armed[0];
    if (this.#stopped || typeof end !== 'number' || next === undefined) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, end - next - this.#now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#fire(end - this.#now());
      this.#schedule();
    }, delay);
    // A warning is no reason to keep the process alive.
    this.#timer.unref?.();
  }
}
