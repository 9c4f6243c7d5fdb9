import {
  abortable,
  deadline,
  type ForwardSpec,
  FwdError,
  type GateContext,
  type GateOpen,
  type TunnelEnd,
  type TunnelGate,
} from '@fwd/core';
import { formatDuration, type SlurmConfig } from '../config/index.js';
import { firstHost } from './hostlist.js';
import { JobFollower } from './job-follower.js';
import { findRunningByName, lookUpJob } from './job-lookup.js';
import { DEFAULT_WARN_BEFORE_MS, JobReport } from './job-report.js';
import type { NodeConnections, NodeLease } from './node-connections.js';
import { watchAppUrl } from './output-url-watch.js';
import { fillForward } from './placeholders.js';
import { type RemoteShell, scontrolShowJob } from './slurm-commands.js';
import { describeWaiting, type SlurmJob } from './slurm-job.js';
import type { SlurmPoller } from './slurm-poller.js';
import { type CancelOutcome, SubmittedJob } from './submitted-job.js';

export type { GateContext, GateOpen, TunnelEnd, TunnelGate };

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
  /**
   * Where the forwards start: `login`, the host's own session (targets as the login node sees
   * them), or `node`, a session into the job's node (targets as the node sees them: its
   * 127.0.0.1, its unix sockets). Default `login`.
   */
  readonly via?: 'login' | 'node';
  /** The host's node sessions, shared by its tunnels; needed for `via: node`. */
  readonly nodes?: NodeConnections;
  /** Runs Slurm commands here instead of over the host's session (a `local: true` host). */
  readonly shell?: RemoteShell;
}

/** How long the end message waits for a failed job's exit code before it goes without. */
const DETAILS_TIMEOUT_MS = 10_000;

/**
 * A tunnel that follows a Slurm job: attach by id or name, or submit one; wait (with progress)
 * until it runs; then forward to its first node, and end when the job does, saying why. While it
 * runs, the tunnel's facts carry the job, its node, its time left and (urlFromOutput) the app's
 * tokenised URL; warnings come at `slurm.warnBefore`. Submitted jobs are cancelled when fwd
 * stops, unless `cancelOnExit: false`; either way fwd says what became of the job.
 *
 * With `via: node` the forwards start on the node itself: the gate leases an SSH session into it
 * (through the login session, or over TCP from a local host), shared by the job's tunnels,
 * hands it to the tunnel as `via`, and lets go of it when the job ends. On a local host, Slurm
 * commands run through `shell` on this machine.
 */
export class SlurmGate implements TunnelGate {
  readonly #options: SlurmGateOptions;
  #ctx: GateContext | undefined;
  #acquire: ((signal: AbortSignal) => Promise<RemoteShell>) | undefined;
  #lease: NodeLease | undefined;
  /** The job fwd submitted (`slurm.submit`), to cancel when it stops. */
  #submitted: SubmittedJob | undefined;
  #follower: JobFollower | undefined;
  #report: JobReport | undefined;
  /** The job's output file, from the `scontrol show job` that found it (mode job). */
  #stdout: string | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: SlurmGateOptions) {
    this.#options = options;
  }

  async open(ctx: GateContext): Promise<GateOpen> {
    this.#ctx = ctx;
    const local = this.#options.shell;
    const acquire = local
      ? async (): Promise<RemoteShell> => local
      : (signal: AbortSignal): Promise<RemoteShell> => ctx.acquire(signal);
    this.#acquire = acquire;
    const timeoutMs = this.#options.slurm.timeoutMs;
    let lastWaiting = 'the job is not running';
    let facts: { job: string } | undefined;
    const progress = (detail: string): void => {
      lastWaiting = detail;
      ctx.progress(detail, facts);
    };
    const timeout = (): FwdError =>
      new FwdError(
        'SLURM_TIMEOUT',
        `${lastWaiting} — still not running after ${formatDuration(timeoutMs ?? 0)} (slurm.timeout)`,
      );
    using waiting = deadline(timeoutMs ?? Number.POSITIVE_INFINITY, timeout, ctx.signal);
    try {
      const id = await this.#jobId(ctx.signal, progress, waiting.signal);
      facts = { job: id };
      const follower = new JobFollower(id, {
        poller: this.#options.poller,
        acquire,
        progress,
        cancelledByUs: () => this.#submitted?.cancelledByUs === true,
        seen: (job) => this.#report?.seen(job),
        details: (job) => this.#details(job, ctx.signal),
      });
      this.#follower = follower;
      if (this.#closed) follower.stop();
      const job = await abortable(follower.running, waiting.signal, `waiting for job ${id}`);
      return await this.#opened(job, follower, ctx);
    } catch (err) {
      this.#follower?.stop();
      this.#report?.stop();
      if (ctx.signal.aborted) throw err;
      // Whatever was waiting when slurm.timeout ran out, the timeout is what happened.
      const error = waiting.signal.aborted ? timeout() : err;
      // The tunnel has failed for good: a job fwd submitted for it would only take up the queue.
      if ((await this.#cancelSubmitted()) === 'cancelled' && error instanceof FwdError) {
        throw new FwdError(error.code, `${error.message}; cancelled it`, { cause: error });
      }
      throw error;
    }
  }

  /** Cancels the job fwd submitted (unless told not to, or it already ended), and says so. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#follower?.stop();
      this.#report?.stop();
      await this.#lease?.release();
      const id = await this.#submitted?.id();
      if (id === undefined) return;
      const was = this.#lastSeen();
      const outcome = await this.#cancelSubmitted();
      if (outcome === 'cancelled') {
        this.#ctx?.notice('info', `job ${id} cancelled${was ? ` (it was ${was})` : ''}`, {
          job: id,
          state: 'CANCELLED',
        });
      } else if (outcome === 'kept') {
        // `fwd up` attaches to it again by name (slurm: { name: ... }).
        this.#ctx?.notice('info', `job ${id} keeps running${was ? ` (${was})` : ''}: cancelOnExit is false`, {
          job: id,
        });
      } else if (outcome !== 'over') {
        this.#ctx?.notice('warn', `job ${id} may still be running: ${outcome.failed}`, { job: id });
      }
    })();
    return this.#closing;
  }

  /** The job as fwd last saw it: "RUNNING on node1, 3:12:00 left", "pending (Priority)". */
  #lastSeen(): string | undefined {
    if (this.#report) return this.#report.describe();
    const last = this.#follower?.last;
    return last ? describeWaiting(last).slice(`job ${last.id} `.length) : undefined;
  }

  /** `scontrol show job` of the job, bounded: what squeue does not say (an exit code). */
  async #details(job: string, stopped: AbortSignal): Promise<SlurmJob | undefined> {
    const acquire = this.#acquire;
    if (!acquire) return undefined;
    using bound = deadline(
      DETAILS_TIMEOUT_MS,
      () => new FwdError('COMMAND_FAILED', `scontrol show job ${job}: no answer`),
      stopped,
    );
    const shown = await scontrolShowJob(await acquire(bound.signal), job, bound.signal);
    return 'unknown' in shown ? undefined : shown;
  }

  /** Cancels the job fwd submitted, unless told not to or it is over (see {@link SubmittedJob.cancel}). */
  #cancelSubmitted(): Promise<CancelOutcome> {
    const acquire = this.#acquire;
    if (!this.#submitted || !acquire) return Promise.resolve('over');
    return this.#submitted.cancel(acquire, this.#follower?.finished === true);
  }

  /** The id of the job to follow: checked (by id), found (by name) or submitted. */
  async #jobId(
    stopped: AbortSignal,
    progress: (detail: string) => void,
    waiting: AbortSignal,
  ): Promise<string> {
    const slurm = this.#options.slurm;
    const acquire = this.#acquire;
    if (!acquire) throw new FwdError('ABORTED', 'gate not opened');
    if (slurm.mode === 'job') {
      const shell = await acquire(waiting);
      progress(`looking up job ${slurm.job}`);
      const job = await lookUpJob(shell, slurm.job, waiting);
      this.#stdout = job.stdout;
      return job.id;
    }
    if (slurm.mode === 'name') {
      return (await findRunningByName(this.#options.poller, acquire, slurm.name, progress, waiting)).id;
    }
    const submission =
      'script' in slurm.run ? { script: await this.#options.readScript(slurm.run.script) } : slurm.run;
    const shell = await acquire(waiting);
    progress('submitting');
    if (this.#closed || stopped.aborted)
      throw new FwdError('ABORTED', 'fwd stopped before the job was submitted');
    this.#submitted = new SubmittedJob(slurm.cancelOnExit);
    const id = await this.#submitted.submit(shell, { ...submission, args: slurm.args });
    if (stopped.aborted) throw new FwdError('ABORTED', `job ${id} submitted as fwd was stopping`);
    progress(`job ${id} submitted`);
    return id;
  }

  async #opened(job: SlurmJob, follower: JobFollower, ctx: GateContext): Promise<GateOpen> {
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
    ctx.progress(`job ${job.id} running on ${job.nodes}`, { job: job.id, node });
    const lease = this.#options.via === 'node' ? await this.#nodeSession(job.id, node, ctx) : undefined;
    const forwards = this.#options.forwards.map((f) => fillForward(f, values));
    const report = new JobReport({
      ctx,
      job: follower.last ?? job,
      node,
      marks: this.#options.slurm.warnBeforeMs ?? DEFAULT_WARN_BEFORE_MS,
    });
    this.#report = report;
    // Node sessions are adopted into the job and die with it: let go of ours when it ends.
    const ended = follower.ended.then(async (end) => {
      report.stop();
      await lease?.release();
      return end;
    });
    if (this.#options.slurm.urlFromOutput && this.#acquire) {
      watchAppUrl({
        job: job.id,
        ...(this.#stdout !== undefined ? { stdout: this.#stdout } : {}),
        login: this.#acquire,
        // The node sees the file wherever the job writes it; the login node only if it is shared.
        ...(lease ? { node: (signal) => lease.connection.acquire(Number.POSITIVE_INFINITY, signal) } : {}),
        forwards,
        ctx,
        ended,
        found: (url) => report.foundUrl(url),
      });
    }
    return { forwards, ended, detail: report.detail, ...(lease ? { via: lease.connection } : {}) };
  }

  /** A session into the job's node (shared with the job's other tunnels); rejects if the node refuses. */
  async #nodeSession(job: string, node: string, ctx: GateContext): Promise<NodeLease> {
    const nodes = this.#options.nodes;
    if (!nodes) throw new FwdError('CONFIG_INVALID', "via: node needs the host's node connections");
    ctx.progress(`job ${job} running on ${node}; connecting to ${node} over SSH`, { job, node });
    const lease = await nodes.lease(job, node, (signal) => ctx.acquire(signal), ctx.signal);
    if (this.#closed) {
      await lease.release();
      throw new FwdError('ABORTED', 'fwd stopped while connecting to the node');
    }
    this.#lease = lease;
    return lease;
  }
}
