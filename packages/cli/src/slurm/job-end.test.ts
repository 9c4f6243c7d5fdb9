import { describe, expect, it } from 'vitest';
import { exitStatus, jobEnd } from './job-end.js';
import type { SlurmJob } from './slurm-job.js';

const job = (state: string, reason = 'None', exitCode?: string): SlurmJob => ({
  id: '42',
  name: 'nb',
  state,
  reason,
  nodes: 'node1',
  ...(exitCode ? { exitCode } : {}),
});

describe('jobEnd: why the tunnel ended, in words', () => {
  it('counts COMPLETED, and CANCELLED by fwd itself, as normal ends', () => {
    expect(jobEnd(job('COMPLETED', 'None', '0:0'), false)).toEqual({ ok: true, reason: 'job 42 COMPLETED' });
    expect(jobEnd(job('CANCELLED'), true)).toEqual({ ok: true, reason: 'job 42 CANCELLED by fwd' });
  });

  it.each([
    // scontrol show job, Slurm 22.05: JobState=… Reason=… ExitCode=…
    [job('CANCELLED', 'None', '0:15'), 'job 42 CANCELLED (not by fwd)'],
    [job('CANCELLED by 1001'), 'job 42 CANCELLED by 1001'],
    [job('TIMEOUT', 'TimeLimit', '0:15'), 'job 42 TIMEOUT: it reached its time limit'],
    [job('FAILED', 'NonZeroExitCode', '3:0'), 'job 42 FAILED (NonZeroExitCode): exit code 3'],
    [job('FAILED', 'NonZeroExitCode', '0:9'), 'job 42 FAILED (NonZeroExitCode): killed by signal 9'],
    [job('FAILED', 'JobLaunchFailure'), 'job 42 FAILED (JobLaunchFailure)'],
    [job('NODE_FAIL', 'NodeDown', '0:0'), 'job 42 NODE_FAIL (NodeDown): one of its nodes failed'],
    [
      job('OUT_OF_MEMORY', 'OutOfMemory', '0:125'),
      'job 42 OUT_OF_MEMORY (OutOfMemory): it used more memory than it asked for (--mem)',
    ],
    [job('PREEMPTED'), 'job 42 PREEMPTED: Slurm took its nodes for a higher-priority job'],
    [job('BOOT_FAIL'), 'job 42 BOOT_FAIL: its nodes failed to boot'],
    [job('DEADLINE'), 'job 42 DEADLINE: it could not finish before its --deadline'],
    [job('REVOKED'), 'job 42 REVOKED'],
    [job('PENDING', 'BeginTime'), 'job 42 left RUNNING: pending (BeginTime)'],
  ])('%o is a failure: %s', (ended, reason) => {
    expect(jobEnd(ended, false)).toEqual({ ok: false, reason });
  });
});

describe('exitStatus', () => {
  it('reads ExitCode=status:signal', () => {
    expect(exitStatus('0:0')).toBe('exit code 0');
    expect(exitStatus('127:0')).toBe('exit code 127');
    expect(exitStatus('0:9')).toBe('killed by signal 9');
    expect(exitStatus(undefined)).toBeUndefined();
    expect(exitStatus('garbage')).toBeUndefined();
  });
});
