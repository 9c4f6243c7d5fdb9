import { describe, expect, it } from 'vitest';
import { newestStarted, parseSbatchParsable, parseSqueue, SQUEUE_FORMAT } from './squeue-output.js';

describe('parseSqueue', () => {
  it('reads squeue -h -t all -o SQUEUE_FORMAT rows in every state', () => {
    expect(SQUEUE_FORMAT).toBe('%i|%T|%r|%N|%S|%L|%j');
    const out = [
      '4242|PENDING|Priority||N/A|4:00:00|jupyter',
      '4243|PENDING|ReqNodeNotAvail, UnavailableNodes:node3||2024-05-01T11:00:00|1-00:00:00|big',
      '4244|RUNNING|None|gpu-a[01-02]|2024-05-01T10:00:00|3:59:12|train|v2',
      '4245_7|COMPLETING|None|node7|2024-05-01T09:00:00|0:03|array',
      '4246|FAILED|NonZeroExitCode|node1|2024-05-01T08:00:00|12:30|fails',
      '4247|RUNNING|None|node2|2024-05-01T07:00:00|UNLIMITED|forever',
      '4248|RUNNING|None|node3|2024-05-01T06:00:00|INVALID|overtime',
      '4249|RUNNING|None|node4|2024-05-01T06:00:00|NOT_SET|nolimit',
      '',
    ].join('\n');
    expect(parseSqueue(out)).toEqual([
      {
        id: '4242',
        state: 'PENDING',
        reason: 'Priority',
        nodes: '',
        startTime: 'N/A',
        timeLeft: 14_400,
        name: 'jupyter',
      },
      {
        id: '4243',
        state: 'PENDING',
        reason: 'ReqNodeNotAvail, UnavailableNodes:node3',
        nodes: '',
        startTime: '2024-05-01T11:00:00',
        timeLeft: 86_400,
        name: 'big',
      },
      {
        id: '4244',
        state: 'RUNNING',
        reason: 'None',
        nodes: 'gpu-a[01-02]',
        startTime: '2024-05-01T10:00:00',
        timeLeft: 14_352,
        name: 'train|v2',
      },
      {
        id: '4245_7',
        state: 'COMPLETING',
        reason: 'None',
        nodes: 'node7',
        startTime: '2024-05-01T09:00:00',
        timeLeft: 3,
        name: 'array',
      },
      {
        id: '4246',
        state: 'FAILED',
        reason: 'NonZeroExitCode',
        nodes: 'node1',
        startTime: '2024-05-01T08:00:00',
        timeLeft: 750,
        name: 'fails',
      },
      {
        id: '4247',
        state: 'RUNNING',
        reason: 'None',
        nodes: 'node2',
        startTime: '2024-05-01T07:00:00',
        timeLeft: 'unlimited',
        name: 'forever',
      },
      {
        id: '4248',
        state: 'RUNNING',
        reason: 'None',
        nodes: 'node3',
        startTime: '2024-05-01T06:00:00',
        timeLeft: undefined,
        name: 'overtime',
      },
      {
        id: '4249',
        state: 'RUNNING',
        reason: 'None',
        nodes: 'node4',
        startTime: '2024-05-01T06:00:00',
        timeLeft: undefined,
        name: 'nolimit',
      },
    ]);
  });

  it('skips headers, blank lines and anything that is not a job row', () => {
    const out =
      'JOBID|STATE|REASON|NODELIST|START_TIME|TIME_LEFT|NAME\nsqueue: warning: something\n\n7|RUNNING|None|n1|N/A|1:00|x\n';
    expect(parseSqueue(out).map((r) => r.id)).toEqual(['7']);
  });
});

describe('newestStarted', () => {
  it('picks the latest start time, then the highest id', () => {
    const rows = parseSqueue(
      [
        '10|RUNNING|None|node1|2024-05-01T10:00:00|1:00:00|nb',
        '12|RUNNING|None|node2|2024-05-01T09:00:00|1:00:00|nb',
        '11|RUNNING|None|node1|2024-05-01T10:00:00|1:00:00|nb',
      ].join('\n'),
    );
    expect(newestStarted(rows)?.id).toBe('11');
    expect(newestStarted([])).toBeUndefined();
  });
});

describe('parseSbatchParsable', () => {
  it('reads "id" and "id;cluster"', () => {
    expect(parseSbatchParsable('1234\n')).toEqual({ jobId: '1234' });
    expect(parseSbatchParsable('1234;cannon\n')).toEqual({ jobId: '1234', cluster: 'cannon' });
  });

  it('finds nothing in an error or in chatter', () => {
    expect(parseSbatchParsable('')).toBeUndefined();
    expect(parseSbatchParsable('Submitted batch job 1234\n')).toBeUndefined();
  });
});
