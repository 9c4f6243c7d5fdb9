import type { TunnelEnd } from '@fwd/core';
import { baseState, describeJobState, describeWaiting, jobPhase, type SlurmJob } from './slurm-job.js';

/** What each way of ending means for the user, after Slurm's own words. */
const MEANING: Readonly<Record<string, string>> = {
  TIMEOUT: 'it reached its time limit',
  NODE_FAIL: 'one of its nodes failed',
  OUT_OF_MEMORY: 'it used more memory than it asked for (--mem)',
  PREEMPTED: 'Slurm took its nodes for a higher-priority job',
  BOOT_FAIL: 'its nodes failed to boot',
  DEADLINE: 'it could not finish before its --deadline',
};

/**
 * How a tunnel reports its job's end once the job left RUNNING, saying why: a normal end is
 * COMPLETED, or CANCELLED when fwd cancelled it itself; anything else is a failure (FAILED with its
 * exit code, TIMEOUT, cancelled by someone else, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, requeued).
 *
 * @example jobEnd({ id: '42', state: 'FAILED', reason: 'NonZeroExitCode', exitCode: '3:0', ... }, false)
 * // { ok: false, reason: 'job 42 FAILED (NonZeroExitCode): exit code 3' }
 */
export function jobEnd(job: SlurmJob, cancelledByUs: boolean): TunnelEnd {
  if (jobPhase(job.state) === 'waiting') {
    return {
      ok: false,
      reason: `job ${job.id} left RUNNING: ${describeWaiting(job).slice(`job ${job.id} `.length)}`,
    };
  }
  const base = baseState(job.state);
  if (base === 'COMPLETED') return { ok: true, reason: `job ${job.id} COMPLETED` };
  if (base === 'CANCELLED') {
    if (cancelledByUs) return { ok: true, reason: `job ${job.id} CANCELLED by fwd` };
    // sacct says who ("CANCELLED by 1000"); squeue and scontrol do not.
    const by = /\bby\s+(\S+)/.exec(job.state)?.[1];
    return { ok: false, reason: `job ${job.id} CANCELLED ${by ? `by ${by}` : '(not by fwd)'}` };
  }
  // TIMEOUT's reason is TimeLimit: the meaning says it better.
  const said = base === 'TIMEOUT' ? `job ${job.id} TIMEOUT` : describeJobState(job);
  const why = base === 'FAILED' ? exitStatus(job.exitCode) : MEANING[base];
  return { ok: false, reason: why ? `${said}: ${why}` : said };
}

/** scontrol's `ExitCode=status:signal` in words: "exit code 3", "killed by signal 9". */
export function exitStatus(exitCode: string | undefined): string | undefined {
  const match = /^(\d+):(\d+)$/.exec(exitCode ?? '');
  if (!match) return undefined;
  const [, status, signal] = match;
  if (signal !== '0') return `killed by signal ${signal}`;
  return `exit code ${status}`;
}
