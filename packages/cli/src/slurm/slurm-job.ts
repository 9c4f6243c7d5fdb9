/** What fwd knows of a Slurm job at one moment, from squeue or scontrol. */
export interface SlurmJob {
  /** "4242", or "4242_7" for an array task. */
  readonly id: string;
  readonly name: string;
  /** Slurm's state name: PENDING, RUNNING, COMPLETING, COMPLETED, CANCELLED, FAILED, TIMEOUT... */
  readonly state: string;
  /** Why it is pending or why it ended ("Priority", "NonZeroExitCode"); "None" when there is none. */
  readonly reason: string;
  /** The allocated nodes as a hostlist (`node[1-2]`); empty until it runs. */
  readonly nodes: string;
  /** The batch script's output file, when scontrol told us. */
  readonly stdout?: string;
  /**
   * When its time limit ends it (epoch ms), estimated from squeue's time left at the poll; or
   * `unlimited`. Absent when Slurm did not say (NOT_SET, INVALID) or the job came from scontrol.
   */
  readonly endsAt?: number | 'unlimited';
  /** scontrol's `ExitCode=3:0`: the batch script's exit status, then the signal that killed it. */
  readonly exitCode?: string;
}

/**
 * Where a job is in its life, as a tunnel cares: `waiting` (not started yet), `running` (its
 * nodes are allocated: forward), `ending` (COMPLETING: final state not known yet), `ended`.
 */
export type JobPhase = 'waiting' | 'running' | 'ending' | 'ended';

const RUNNING = new Set(['RUNNING', 'SUSPENDED', 'STOPPED', 'RESIZING']);
const ENDING = new Set(['COMPLETING', 'SIGNALING', 'STAGE_OUT']);
const ENDED = new Set([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'REVOKED',
  'SPECIAL_EXIT',
]);

/** The bare state name: sacct-style decorations ("CANCELLED by 1000", "CANCELLED+") dropped. */
export function baseState(state: string): string {
  return (state.trim().split(/\s+/)[0] ?? '').replace(/\+$/, '').toUpperCase();
}

/** PENDING, CONFIGURING, REQUEUED and states fwd does not know count as `waiting`. */
export function jobPhase(state: string): JobPhase {
  const base = baseState(state);
  if (RUNNING.has(base)) return 'running';
  if (ENDING.has(base)) return 'ending';
  if (ENDED.has(base)) return 'ended';
  return 'waiting';
}

/** Slurm's "no reason" spellings. */
function hasReason(reason: string): boolean {
  return reason !== '' && reason !== 'None' && reason !== '(null)';
}

/** "job 42 FAILED (NonZeroExitCode)", "job 42 COMPLETED". */
export function describeJobState(job: SlurmJob): string {
  return `job ${job.id} ${baseState(job.state)}${hasReason(job.reason) ? ` (${job.reason})` : ''}`;
}

/** "job 42 pending (Priority)", "job 42 configuring": the progress line while waiting. */
export function describeWaiting(job: SlurmJob): string {
  const state = baseState(job.state).toLowerCase();
  return `job ${job.id} ${state}${hasReason(job.reason) ? ` (${job.reason})` : ''}`;
}
