import { abortable, FwdError } from '@fwd/core';
import { type RemoteShell, scontrolShowJob } from './slurm-commands.js';
import { describeJobState, jobPhase, type SlurmJob } from './slurm-job.js';
import type { SlurmPoller } from './slurm-poller.js';

/**
 * `slurm: { job: ID }`: the job, checked to exist and not to be over already. Its record carries
 * its output file (StdOut), which urlFromOutput then needs no second scontrol for.
 */
export async function lookUpJob(shell: RemoteShell, id: string, signal: AbortSignal): Promise<SlurmJob> {
  const shown = await scontrolShowJob(shell, id, signal);
  if ('unknown' in shown) {
    throw new FwdError('SLURM_JOB_NOT_FOUND', `no job ${id} on this cluster: ${shown.unknown}`);
  }
  if (jobPhase(shown.state) === 'ended') {
    throw new FwdError('SLURM_JOB_ENDED', `${describeJobState(shown)}: it is over, nothing to forward to`);
  }
  return shown;
}

/**
 * `slurm: { name: NAME }`: the user's newest RUNNING job of that name, through the host's poller;
 * waits (saying so) while there is none, until `waiting` aborts.
 */
export function findRunningByName(
  poller: SlurmPoller,
  acquire: (signal: AbortSignal) => Promise<RemoteShell>,
  name: string,
  progress: (detail: string) => void,
  waiting: AbortSignal,
): Promise<SlurmJob> {
  progress(`looking for a running job named ${name}`);
  let unwatch = (): void => undefined;
  const found = new Promise<SlurmJob>((resolve, reject) => {
    unwatch = poller.watch({ name }, acquire, {
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
  return abortable(found, waiting, `waiting for a running job named ${name}`).finally(unwatch);
}
