import { describe, expect, it } from 'vitest';
import { jobFromScontrol, parseScontrol } from './scontrol-output.js';

// `scontrol show job` as Slurm 22.05 prints it (src/api/job_info.c): one record, fields indented
// by three spaces, a blank-ish line and an empty one at the end.
const RUNNING = `JobId=4244 JobName=train notebook
   UserId=alice(1000) GroupId=alice(1000) MCS_label=N/A
   Priority=4294901758 Nice=0 Account=(null) QOS=normal
   JobState=RUNNING Reason=None Dependency=(null)
   Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   RunTime=00:00:05 TimeLimit=04:00:00 TimeMin=N/A
   SubmitTime=2024-05-01T10:00:00 EligibleTime=2024-05-01T10:00:00
   AccrueTime=2024-05-01T10:00:00
   StartTime=2024-05-01T10:00:00 EndTime=2024-05-01T14:00:00 Deadline=N/A
   SuspendTime=None SecsPreSuspend=0 LastSchedEval=2024-05-01T10:00:00 Scheduler=Main
   Partition=gpu AllocNode:Sid=login:12345
   ReqNodeList=(null) ExcNodeList=(null)
   NodeList=gpu-a[01-02]
   BatchHost=gpu-a01
   NumNodes=2 NumCPUs=2 NumTasks=2 CPUs/Task=1 ReqB:S:C:T=0:0:*:*
   TRES=cpu=2,node=2,billing=2
   Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=*
   MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0
   Features=(null) DelayBoot=00:00:00
   OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null)
   Command=/home/alice/run notebook.sbatch
   WorkDir=/home/alice
   StdErr=/home/alice/slurm-4244.out
   StdIn=/dev/null
   StdOut=/home/alice/slurm-4244.out
   Power=
   

`;

describe('parseScontrol', () => {
  it('reads a multi-line record, keeping spaces inside values', () => {
    const [record, ...rest] = parseScontrol(RUNNING);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({
      JobId: '4244',
      JobName: 'train notebook',
      JobState: 'RUNNING',
      Reason: 'None',
      NodeList: 'gpu-a[01-02]',
      'AllocNode:Sid': 'login:12345',
      'CPUs/Task': '1',
      'ReqB:S:C:T': '0:0:*:*',
      TRES: 'cpu=2,node=2,billing=2',
      Command: '/home/alice/run notebook.sbatch',
      StdOut: '/home/alice/slurm-4244.out',
      Power: '',
    });
  });

  it('reads -o (one record per line) and several records', () => {
    const out =
      'JobId=7 JobName=a UserId=alice(1000) JobState=PENDING Reason=Priority NodeList=(null) StdOut=/home/alice/slurm-7.out \n' +
      'JobId=8 JobName=b UserId=alice(1000) JobState=PENDING Reason=ReqNodeNotAvail,_UnavailableNodes:node3 NodeList= \n';
    const records = parseScontrol(out);
    expect(records.map((r) => [r.JobId, r.JobState, r.Reason])).toEqual([
      ['7', 'PENDING', 'Priority'],
      ['8', 'PENDING', 'ReqNodeNotAvail,_UnavailableNodes:node3'],
    ]);
    expect(parseScontrol(RUNNING + RUNNING.replace('JobId=4244', 'JobId=4245'))).toHaveLength(2);
  });
});

describe('jobFromScontrol', () => {
  it('maps a record to a job', () => {
    const [record] = parseScontrol(RUNNING);
    expect(jobFromScontrol(record ?? {})).toEqual({
      id: '4244',
      name: 'train notebook',
      state: 'RUNNING',
      reason: 'None',
      nodes: 'gpu-a[01-02]',
      stdout: '/home/alice/slurm-4244.out',
      exitCode: '0:0',
    });
  });

  it('names an array task as users know it (ArrayJobId_ArrayTaskId); (null) nodes are none', () => {
    const [record] = parseScontrol(
      'JobId=4300 ArrayJobId=4290 ArrayTaskId=3 JobName=arr\n   JobState=PENDING Reason=Priority Dependency=(null)\n   NodeList=(null)\n',
    );
    expect(jobFromScontrol(record ?? {})).toEqual({
      id: '4290_3',
      name: 'arr',
      state: 'PENDING',
      reason: 'Priority',
      nodes: '',
    });
  });

  it('is undefined for a record without JobId or JobState', () => {
    expect(jobFromScontrol({ JobId: '1' })).toBeUndefined();
  });
});
