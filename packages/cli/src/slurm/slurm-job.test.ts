import { describe, expect, it } from 'vitest';
import { baseState, describeWaiting, jobPhase, type SlurmJob } from './slurm-job.js';

const job = (state: string, reason = 'None'): SlurmJob => ({
  id: '42',
  name: 'nb',
  state,
  reason,
  nodes: 'node1',
});

describe('Slurm job states', () => {
  it.each([
    ['PENDING', 'waiting'],
    ['CONFIGURING', 'waiting'],
    ['REQUEUE_HOLD', 'waiting'],
    ['RUNNING', 'running'],
    ['SUSPENDED', 'running'],
    ['COMPLETING', 'ending'],
    ['COMPLETED', 'ended'],
    ['CANCELLED by 1000', 'ended'],
    ['CANCELLED+', 'ended'],
    ['OUT_OF_MEMORY', 'ended'],
  ])('%s is %s', (state, phase) => {
    expect(jobPhase(state)).toBe(phase);
  });

  it('strips sacct-style decorations', () => {
    expect(baseState('CANCELLED by 1000')).toBe('CANCELLED');
    expect(baseState('cancelled+')).toBe('CANCELLED');
  });

  it('describes a waiting job with its reason', () => {
    expect(describeWaiting(job('PENDING', 'Priority'))).toBe('job 42 pending (Priority)');
    expect(describeWaiting(job('CONFIGURING'))).toBe('job 42 configuring');
  });
});
