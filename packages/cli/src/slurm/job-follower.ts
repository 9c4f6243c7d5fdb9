import { FwdError } from '@fwd/core';
import { exitStatus, jobEnd } from './job-end.js';
import type { RemoteShell } from './slurm-commands.js';
import type { TunnelEnd } from './slurm-gate.js';
import { baseState, describeJobState, describeWaiting, jobPhase, type SlurmJob } from './slurm-job.js';
import type { SlurmPoller } from './slurm-poller.js';

export interface FollowOptions {
  readonly poller: SlurmPoller;
  readonly acquire: (signal: AbortSignal) => Promise<RemoteShell>;
  /** Shown while the job waits: "job 42 pending (Priority)". */
  readonly progress: (detail: string) => void;
  /** Whether fwd cancelled the job itself, asked when it ends (CANCELLED is then a normal end). */
  readonly cancelledByUs: () => boolean;
  /** Each poll's view of the job while it runs (its end time moves with every estimate). */
  readonly seen?: (job: SlurmJob) => void;
  /** scontrol's record of a job, for what squeue does not say (a FAILED job's exit code). */
  readonly details?: (id: string) => Promise<SlurmJob | undefined>;
}

/**
 * Follows one job through the host's poller: `running` settles when it first runs (or rejects
 * with SLURM_JOB_ENDED if it ends first), `ended` when it leaves RUNNING afterwards. One watch
 * covers both, so no transition falls between them.
 */
export class JobFollower {
  readonly id: string;
  /** The job once RUNNING; rejects with a FwdError if it never gets there. */
  readonly running: Promise<SlurmJob>;
  /** How the job ended after it ran; never rejects. */
  readonly ended: Promise<TunnelEnd>;
  /** The last thing shown about the job while waiting, for a timeout message. */
  lastWaiting: string;
  /** The job as last seen: what fwd says it cancelled. */
  last: SlurmJob | undefined;
  /** The job's final state is known (nothing left to cancel). */
  finished = false;
  readonly #unwatch: () => void;
  #started = false;

  constructor(id: string, options: FollowOptions) {
    this.id = id;
    this.lastWaiting = `job ${id} not started`;
    let resolveRunning!: (job: SlurmJob) => void;
    let rejectRunning!: (err: FwdError) => void;
    let resolveEnded!: (end: TunnelEnd) => void;
    this.running = new Promise<SlurmJob>((resolve, reject) => {
      resolveRunning = resolve;
      rejectRunning = reject;
    });
    // Unobserved until open() awaits it; a rejection here must not count as unhandled.
    this.running.catch(() => undefined);
    this.ended = new Promise<TunnelEnd>((resolve) => {
      resolveEnded = resolve;
    });
    const finish = (): void => {
      this.finished = true;
      this.stop();
    };
    this.#unwatch = options.poller.watch({ job: id }, options.acquire, {
      update: (job) => {
        if (job) this.last = job;
        if (!this.#started) {
          if (!job) {
            finish();
            return rejectRunning(
              new FwdError(
                'SLURM_JOB_ENDED',
                `job ${id} is no longer known to Slurm (it ended before it ran)`,
              ),
            );
          }
          const phase = jobPhase(job.state);
          if (phase === 'running') {
            this.#started = true;
            options.seen?.(job);
            return resolveRunning(job);
          }
          if (phase === 'ended') {
            finish();
            if (!job.nodes) {
              return rejectRunning(
                new FwdError('SLURM_JOB_ENDED', `${describeJobState(job)} before it started running`),
              );
            }
            // A job that ran for less than a poll interval still shows where it ran, and how it
            // failed (the app's start-up failed: `jupyter: not found` is exit code 127).
            void withDetails(job, options.details).then((full) => {
              const how = baseState(full.state) === 'FAILED' ? exitStatus(full.exitCode) : undefined;
              const said = `${describeJobState(full)} after a short run on ${full.nodes}`;
              rejectRunning(new FwdError('SLURM_JOB_ENDED', how ? `${said}: ${how}` : said));
            });
            return;
          }
          this.lastWaiting = describeWaiting(job);
          options.progress(this.lastWaiting);
          return;
        }
        if (!job) {
          finish();
          return resolveEnded({ ok: false, reason: `job ${id} ended; Slurm no longer knows how` });
        }
        const phase = jobPhase(job.state);
        if (phase === 'running') options.seen?.(job);
        if (phase === 'running' || phase === 'ending') return;
        if (phase === 'ended') finish();
        else this.stop();
        void withDetails(job, options.details).then((full) =>
          resolveEnded(jobEnd(full, options.cancelledByUs())),
        );
      },
      error: (err) => {
        if (err.code === 'SLURM_UNAVAILABLE' && !this.#started) {
          this.stop();
          rejectRunning(err);
        } else if (!this.#started) {
          // Transient (controller busy, session lost): say so, the poller retries.
          options.progress(`${this.lastWaiting}; ${err.message}; retrying`);
        }
      },
    });
  }

  /** Stops polling for this job (idempotent); pending promises stay unsettled. */
  stop(): void {
    this.#unwatch();
  }
}

/** The job with scontrol's details when squeue's row lacks what its end message needs. */
async function withDetails(job: SlurmJob, details: FollowOptions['details']): Promise<SlurmJob> {
  if (!details || job.exitCode !== undefined || baseState(job.state) !== 'FAILED') return job;
  // A job that failed says how (exit code or signal); without an answer, the state alone.
  const shown = await details(job.id).catch(() => undefined);
  return shown?.exitCode !== undefined ? { ...job, exitCode: shown.exitCode } : job;
}
