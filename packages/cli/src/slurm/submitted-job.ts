import { deadline, FwdError } from '@fwd/core';
import { type RemoteShell, type Submission, sbatch, scancel } from './slurm-commands.js';

const SUBMIT_TIMEOUT_MS = 60_000;
const CANCEL_TIMEOUT_MS = 10_000;

/** What became of a submitted job when fwd stopped (see {@link SubmittedJob.cancel}). */
export type CancelOutcome = 'cancelled' | 'kept' | 'over' | { readonly failed: string };

/**
 * A job fwd submits for a tunnel, and its cancellation: once, when fwd stops or the tunnel fails,
 * unless `cancelOnExit: false`. A submission is never cut short by the tunnel closing (it could
 * leave a job fwd does not know of), only by its own bound.
 */
export class SubmittedJob {
  readonly #cancelOnExit: boolean;
  #id: Promise<string | undefined> | undefined;
  #cancelled = false;

  constructor(cancelOnExit: boolean) {
    this.#cancelOnExit = cancelOnExit;
  }

  /** fwd cancelled it (CANCELLED is then a normal end). */
  get cancelledByUs(): boolean {
    return this.#cancelled;
  }

  /** The id, once sbatch answered; undefined when nothing was submitted or sbatch failed. */
  id(): Promise<string | undefined> {
    return this.#id ?? Promise.resolve(undefined);
  }

  /** `sbatch --parsable`, bounded at 60 s; the new job's id. */
  submit(shell: RemoteShell, submission: Submission): Promise<string> {
    const bound = deadline(
      SUBMIT_TIMEOUT_MS,
      () => new FwdError('COMMAND_FAILED', `sbatch: no answer in ${SUBMIT_TIMEOUT_MS / 1000} s`),
    );
    const submitted = sbatch(shell, submission, bound.signal).finally(() => bound[Symbol.dispose]());
    this.#id = submitted.catch(() => undefined);
    return submitted;
  }

  /**
   * scancel, once: `cancelled`; `kept` with `cancelOnExit: false`; `over` when there is nothing to
   * cancel (never submitted, `ended` already, cancelled before); or why scancel failed.
   */
  async cancel(
    acquire: (signal: AbortSignal) => Promise<RemoteShell>,
    ended: boolean,
  ): Promise<CancelOutcome> {
    const id = await this.id();
    if (id === undefined || ended || this.#cancelled) return 'over';
    if (!this.#cancelOnExit) return 'kept';
    this.#cancelled = true;
    using bound = deadline(
      CANCEL_TIMEOUT_MS,
      () => new FwdError('COMMAND_FAILED', `scancel ${id}: no answer in ${CANCEL_TIMEOUT_MS / 1000} s`),
    );
    try {
      await scancel(await acquire(bound.signal), id, bound.signal);
      return 'cancelled';
    } catch (err) {
      // The session is gone or Slurm refused: nothing more fwd can do than say so.
      return { failed: err instanceof Error ? err.message : String(err) };
    }
  }
}
