import type { SlurmJob } from './slurm-job.js';

/** A key such as `JobId`, `AllocNode:Sid`, `CPUs/Task`, `ReqB:S:C:T`: starts a new field. */
const KEY = /^([A-Za-z][A-Za-z0-9_/:]*)=(.*)$/;

/**
 * Records of `scontrol show ...` output, multi-line (fields indented under the first line,
 * records separated by blank lines) or one line per record (`-o`). A value with spaces (a
 * Command or Comment) keeps them: a word without `key=` belongs to the value before it.
 *
 * @example parseScontrol('JobId=42 JobName=nb\n   JobState=RUNNING Reason=None\n')
 * // [{ JobId: '42', JobName: 'nb', JobState: 'RUNNING', Reason: 'None' }]
 */
export function parseScontrol(stdout: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    // An unindented line starts a record: every line in -o mode, the JobId= line otherwise.
    if (!current || !/^\s/.test(line)) {
      current = {};
      records.push(current);
    }
    addFields(current, line);
  }
  return records.filter((r) => Object.keys(r).length > 0);
}

function addFields(record: Record<string, string>, line: string): void {
  let last: string | undefined;
  for (const word of line.trim().split(/\s+/)) {
    const match = KEY.exec(word);
    if (match?.[1] !== undefined) {
      last = match[1];
      record[last] = match[2] ?? '';
    } else if (last !== undefined) {
      record[last] = `${record[last]} ${word}`;
    }
  }
}

/**
 * The job of one `scontrol show job ID` record; undefined when it lacks JobId or JobState.
 * `JobState` is the state name only (scontrol prints flags elsewhere).
 */
export function jobFromScontrol(record: Readonly<Record<string, string>>): SlurmJob | undefined {
  const id = record.JobId;
  const state = record.JobState;
  if (id === undefined || state === undefined) return undefined;
  // An array task is shown as JobId=<own id> ArrayJobId=7 ArrayTaskId=3; users know it as 7_3.
  const arrayId = record.ArrayJobId;
  const task = record.ArrayTaskId;
  const shownId =
    arrayId !== undefined && task !== undefined && /^\d+$/.test(task) ? `${arrayId}_${task}` : id;
  const job = {
    id: shownId,
    name: record.JobName ?? '',
    state,
    reason: record.Reason ?? 'None',
    nodes: record.NodeList === '(null)' ? '' : (record.NodeList ?? ''),
  };
  const stdout = record.StdOut;
  const exitCode = record.ExitCode;
  return {
    ...job,
    ...(stdout !== undefined && stdout !== '' && stdout !== '(null)' ? { stdout } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
  };
}
