import { type ForwardSpec, FwdError, type TunnelSpec } from '@fwd/core';
import { formatDuration, type SlurmConfig } from '../config/index.js';
import { firstHost } from './hostlist.js';
import { JobFollower } from './job-follower.js';
import { fillForward } from './placeholders.js';
import { type RemoteShell, sbatch, scancel, scontrolShowJob } from './slurm-commands.js';
import { describeJobState, jobPhase, type SlurmJob } from './slurm-job.js';
import type { SlurmPoller } from './slurm-poller.js';

// @fwd/core's index does not export its gate types yet; these are the same types, taken from TunnelSpec.

/** What a tunnel waits for before it forwards (core's TunnelGate). */
export type TunnelGate = NonNullable<TunnelSpec['gate']>;
/** What a gate gets from the tunnel: the host's session, the tunnel's signal, a progress line. */
export type GateContext = Parameters<TunnelGate['open']>[0];
/** What an opened gate hands back: forwards, when they end, and a detail line. */
export type GateOpen = Awaited<ReturnType<TunnelGate['open']>>;
/** Why a gated tunnel ended for good. */
export type TunnelEnd = Awaited<GateOpen['ended']>;

export interface SlurmGateOptions {
  readonly slurm: SlurmConfig;
  /** The tunnel's forwards as written, `{node}`, `{job}` and `{user}` still in them. */
  readonly forwards: readonly ForwardSpec[];
  /** The remote user, for `{user}`. */
  readonly user: string;
  /** The host's poller, shared by all its Slurm tunnels. */
  readonly poller: SlurmPoller;
  /** The text of a submit script (read on this machine, sent to sbatch on stdin). */
  readonly readScript: (path: string) => Promise<string>;
}

const SUBMIT_TIMEOUT_MS = 60_000;
const CANCEL_TIMEOUT_MS = 10_000;

/**
 * A tunnel that follows a Slurm job: attach by id or name, or submit one; wait (with progress)
 * until it runs; then forward to its first node, and end when the job does. Submitted jobs are
 * cancelled when fwd stops, unless `cancelOnExit: false`.
 */
export class SlurmGate implements TunnelGate {
  readonly #options: SlurmGateOptions;
  #acquire: ((signal: AbortSignal) => Promise<RemoteShell>) | undefined;
  #submission: Promise<string | undefined> | undefined;
  #follower: JobFollower | undefined;
  #cancelledByUs = false;
  #closed = false;

  constructor(options: SlurmGateOptions) {
    this.#options = options;
  }

  async open(ctx: GateContext): Promise<GateOpen> {
    const acquire = (signal: AbortSignal): Promise<RemoteShell> => ctx.acquire(signal);
    this.#acquire = acquire;
    const timeoutMs = this.#options.slurm.timeoutMs;
    const deadline = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
    const waiting = deadline ? AbortSignal.any([ctx.signal, deadline]) : ctx.signal;
    let lastWaiting = 'the job is not running';
    const progress = (detail: string): void => {
      lastWaiting = detail;
      ctx.progress(detail);
    };
    try {
      const id = await this.#jobId(ctx, progress, waiting);
      const follower = new JobFollower(id, {
        poller: this.#options.poller,
        acquire,
        progress,
        cancelledByUs: () => this.#cancelledByUs,
      });
      this.#follower = follower;
      if (this.#closed) follower.stop();
      const job = await untilAborted(follower.running, waiting);
      return this.#opened(job, follower, ctx);
    } catch (err) {
      this.#follower?.stop();
      if (ctx.signal.aborted) throw err;
      // The tunnel has failed for good: a job fwd submitted for it would only take up the queue.
      const cancelled = (await this.#cancelSubmitted()) ? '; cancelled it' : '';
      if (deadline?.aborted) {
        const after = formatDuration(timeoutMs ?? 0);
        throw new FwdError(
          'SLURM_TIMEOUT',
          `${lastWaiting} — still not running after ${after} (slurm.timeout)${cancelled}`,
        );
      }
      throw err;
    }
  }

  /** Cancels the job fwd submitted (unless told not to, or it already ended). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#follower?.stop();
    await this.#cancelSubmitted();
  }

  /** scancel of the job fwd submitted, once, unless `cancelOnExit: false` or it is over; true if sent. */
  async #cancelSubmitted(): Promise<boolean> {
    const slurm = this.#options.slurm;
    if (slurm.mode !== 'submit' || !slurm.cancelOnExit || !this.#submission || !this.#acquire) return false;
    const id = await this.#submission.catch(() => undefined);
    if (id === undefined || this.#follower?.finished || this.#cancelledByUs) return false;
    this.#cancelledByUs = true;
    const signal = AbortSignal.timeout(CANCEL_TIMEOUT_MS);
    try {
      await scancel(await this.#acquire(signal), id, signal);
      return true;
    } catch {
      // The session is gone or Slurm refused: nothing more fwd can do about it.
      return false;
    }
  }

  /** The id of the job to follow: checked (by id), found (by name) or submitted. */
  async #jobId(ctx: GateContext, progress: (detail: string) => void, waiting: AbortSignal): Promise<string> {
    const slurm = this.#options.slurm;
    if (slurm.mode === 'job') {
      const shell = await ctx.acquire(waiting);
      progress(`looking up job ${slurm.job}`);
      const shown = await scontrolShowJob(shell, slurm.job, waiting);
      if ('unknown' in shown) {
        throw new FwdError('SLURM_JOB_NOT_FOUND', `no job ${slurm.job} on this cluster: ${shown.unknown}`);
      }
      if (jobPhase(shown.state) === 'ended') {
        throw new FwdError(
          'SLURM_JOB_ENDED',
          `${describeJobState(shown)}: it is over, nothing to forward to`,
        );
      }
      return shown.id;
    }
    if (slurm.mode === 'name') return (await this.#findByName(slurm.name, progress, waiting)).id;
    const submission =
      'script' in slurm.run ? { script: await this.#options.readScript(slurm.run.script) } : slurm.run;
    const shell = await ctx.acquire(waiting);
    progress('submitting');
    if (this.#closed || ctx.signal.aborted)
      throw new FwdError('ABORTED', 'fwd stopped before the job was submitted');
    // Not aborted with the tunnel: a submission cut short could leave a job we do not know of.
    const submitted = sbatch(
      shell,
      { ...submission, args: slurm.args },
      AbortSignal.timeout(SUBMIT_TIMEOUT_MS),
    );
    this.#submission = submitted;
    const id = await submitted;
    if (ctx.signal.aborted) throw new FwdError('ABORTED', `job ${id} submitted as fwd was stopping`);
    progress(`job ${id} submitted`);
    return id;
  }

  /** The newest RUNNING job of the user named `name`; waits (with progress) while there is none. */
  #findByName(name: string, progress: (detail: string) => void, waiting: AbortSignal): Promise<SlurmJob> {
    const acquire = this.#acquire;
    if (!acquire) throw new FwdError('ABORTED', 'gate not opened');
    progress(`looking for a running job named ${name}`);
    let unwatch = (): void => undefined;
    const found = new Promise<SlurmJob>((resolve, reject) => {
      unwatch = this.#options.poller.watch({ name }, acquire, {
        update: (job) => {
          if (job) resolve(job);
          else progress(`no running job named ${name} yet`);
        },
        error: (err) => {
          if (err.code === 'SLURM_UNAVAILABLE') reject(err);
          else progress(`no running job named ${name} yet; ${err.message}; retrying`);
        },
      });
    });
    return untilAborted(found, waiting).finally(unwatch);
  }

  #opened(job: SlurmJob, follower: JobFollower, ctx: GateContext): GateOpen {
    let node: string | undefined;
    try {
      node = firstHost(job.nodes);
    } catch (err) {
      follower.stop();
      throw new FwdError(
        'PROTOCOL_ERROR',
        `job ${job.id} runs on "${job.nodes}": ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    if (node === undefined) {
      follower.stop();
      throw new FwdError('SLURM_JOB_ENDED', `job ${job.id} is RUNNING but Slurm shows no node for it`);
    }
    const values = { node, job: job.id, user: this.#options.user };
    ctx.progress(`job ${job.id} running on ${job.nodes}`);
    return {
      forwards: this.#options.forwards.map((f) => fillForward(f, values)),
      ended: follower.ended,
      detail: `job ${job.id} on ${job.nodes}`,
    };
  }
}

/** `promise`, or a rejection (ABORTED, or the timeout) as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new FwdError('ABORTED', 'stopped while waiting for the job'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new FwdError('ABORTED', 'stopped while waiting for the job'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
