import {
  type ForwardSpec,
  FwdError,
  type GateContext,
  type GateOpen,
  type TunnelEnd,
  type TunnelGate,
} from '@fwd/core';
import { formatDuration, type SlurmConfig } from '../config/index.js';
import { deadline } from './deadline.js';
import { firstHost } from './hostlist.js';
import { JobFollower } from './job-follower.js';
import type { NodeConnections, NodeLease } from './node-connections.js';
import { watchOutputUrl } from './output-url-watch.js';
import { fillForward } from './placeholders.js';
import { type RemoteShell, sbatch, scancel, scontrolShowJob } from './slurm-commands.js';
import { describeJobState, jobPhase, type SlurmJob } from './slurm-job.js';
import type { SlurmPoller } from './slurm-poller.js';

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

const SUBMIT_TIMEOUT_MS = 60_000;
const CANCEL_TIMEOUT_MS = 10_000;
/** How long the end message waits for a failed job's exit code before it goes without. */
const DETAILS_TIMEOUT_MS = 10_000;

/**
 * A tunnel that follows a Slurm job: attach by id or name, or submit one; wait (with progress)
 * until it runs; then forward to its first node, and end when the job does. Submitted jobs are
 * cancelled when fwd stops, unless `cancelOnExit: false`.
 *
 * With `via: node` the forwards start on the node itself: the gate leases an SSH session into it
 * (through the login session, or over TCP from a local host), shared by the job's tunnels,
 * hands it to the tunnel as `via`, and lets go of it when the job ends. On a local host, Slurm
 * commands run through `shell` on this machine. With `slurm.urlFromOutput`, the app's `?token=`
 * URL is read from the job's output file and shown in the detail, pointed at the local listener.
 */
export class SlurmGate implements TunnelGate {
  readonly #options: SlurmGateOptions;
  #acquire: ((signal: AbortSignal) => Promise<RemoteShell>) | undefined;
  #lease: NodeLease | undefined;
  #submission: Promise<string | undefined> | undefined;
  #follower: JobFollower | undefined;
  /** The job's output file, from the `scontrol show job` that found it (mode job). */
  #stdout: string | undefined;
  #cancelledByUs = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: SlurmGateOptions) {
    this.#options = options;
  }

  async open(ctx: GateContext): Promise<GateOpen> {
    const local = this.#options.shell;
    const acquire = local
      ? async (): Promise<RemoteShell> => local
      : (signal: AbortSignal): Promise<RemoteShell> => ctx.acquire(signal);
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
      const id = await this.#jobId(ctx.signal, progress, waiting);
      const follower = new JobFollower(id, {
        poller: this.#options.poller,
        acquire,
        progress,
        cancelledByUs: () => this.#cancelledByUs,
        details: (job) => this.#details(job, ctx.signal),
      });
      this.#follower = follower;
      if (this.#closed) follower.stop();
      const job = await untilAborted(follower.running, waiting);
      return await this.#opened(job, follower, ctx);
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
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#follower?.stop();
      await this.#lease?.release();
      await this.#cancelSubmitted();
    })();
    return this.#closing;
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
      this.#stdout = shown.stdout;
      return shown.id;
    }
    if (slurm.mode === 'name') return (await this.#findByName(slurm.name, progress, waiting)).id;
    const submission =
      'script' in slurm.run ? { script: await this.#options.readScript(slurm.run.script) } : slurm.run;
    const shell = await acquire(waiting);
    progress('submitting');
    if (this.#closed || stopped.aborted)
      throw new FwdError('ABORTED', 'fwd stopped before the job was submitted');
    // Not aborted with the tunnel: a submission cut short could leave a job we do not know of.
    const submitted = sbatch(
      shell,
      { ...submission, args: slurm.args },
      AbortSignal.timeout(SUBMIT_TIMEOUT_MS),
    );
    this.#submission = submitted;
    const id = await submitted;
    if (stopped.aborted) throw new FwdError('ABORTED', `job ${id} submitted as fwd was stopping`);
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
    ctx.progress(`job ${job.id} running on ${job.nodes}`);
    const lease = this.#options.via === 'node' ? await this.#nodeSession(job.id, node, ctx) : undefined;
    const forwards = this.#options.forwards.map((f) => fillForward(f, values));
    const detail = `job ${job.id} on ${job.nodes}`;
    // Node sessions are adopted into the job and die with it: let go of ours when it ends.
    const ended = follower.ended.then(async (end) => {
      await lease?.release();
      return end;
    });
    if (this.#options.slurm.urlFromOutput) this.#showAppUrl(job.id, forwards, ctx, ended, lease, detail);
    return { forwards, ended, detail, ...(lease ? { via: lease.connection } : {}) };
  }

  /** A session into the job's node (shared with the job's other tunnels); rejects if the node refuses. */
  async #nodeSession(job: string, node: string, ctx: GateContext): Promise<NodeLease> {
    const nodes = this.#options.nodes;
    if (!nodes) throw new FwdError('CONFIG_INVALID', "via: node needs the host's node connections");
    ctx.progress(`job ${job} running on ${node}; connecting to ${node} over SSH`);
    const lease = await nodes.lease(job, node, (signal) => ctx.acquire(signal), ctx.signal);
    if (this.#closed) {
      await lease.release();
      throw new FwdError('ABORTED', 'fwd stopped while connecting to the node');
    }
    this.#lease = lease;
    return lease;
  }

  /** Finds the app's URL in the job's output (slurm.urlFromOutput) and shows it, pointed here, in the detail. */
  #showAppUrl(
    job: string,
    forwards: readonly ForwardSpec[],
    ctx: GateContext,
    ended: Promise<TunnelEnd>,
    lease: NodeLease | undefined,
    detail: string,
  ): void {
    const listening = ctx.listening;
    const acquire = this.#acquire;
    if (!listening || !acquire) return;
    const over = new AbortController();
    void ended.then(() => over.abort());
    const signal = AbortSignal.any([ctx.signal, over.signal]);
    void (async () => {
      // Where the job writes its output (known already when fwd looked the job up by id); without
      // it (no session now, an odd Slurm) there is no URL to show.
      const path =
        this.#stdout ??
        (await acquire(signal)
          .then((shell) => scontrolShowJob(shell, job, signal))
          .then((shown) => ('unknown' in shown ? undefined : shown.stdout))
          .catch(() => undefined));
      if (path === undefined) return;
      await watchOutputUrl({
        path,
        // The node sees the file wherever the job writes it; the login node only if it is shared.
        shell: lease ? (s) => lease.connection.acquire(Number.POSITIVE_INFINITY, s) : acquire,
        forwards,
        listening: () => listening.call(ctx),
        signal,
        found: (url) => ctx.progress(`${detail}, open ${url}`),
      });
    })();
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
