import type { SlurmJob } from './slurm-job.js';
import { parseTimeLeft, type TimeLeft } from './time-left.js';

/**
 * The `squeue -o` format fwd asks for: id, state, reason, node list, start time, time left, name.
 * `|` never occurs in the first six; the name comes last so a `|` in it cannot shift the other
 * fields. Without a width, squeue prints each field whole. Time left (`%L`) rather than the end
 * time (`%e`): `%e` is in the cluster's local time zone, with no offset to say which.
 */
export const SQUEUE_FORMAT = '%i|%T|%r|%N|%S|%L|%j';

/** One row of {@link SQUEUE_FORMAT}. */
export interface QueueRow extends SlurmJob {
  /** "2024-05-01T10:00:00" once started; "N/A" or an expected start time while pending. */
  readonly startTime: string;
  /** Seconds left when squeue ran (the whole limit while pending); see {@link parseTimeLeft}. */
  readonly timeLeft: TimeLeft;
}

/**
 * Rows of `squeue -h -o SQUEUE_FORMAT` output. Lines that are not job rows (blank lines, stray
 * warnings) are skipped.
 *
 * @example parseSqueue('42|RUNNING|None|node[1-2]|2024-05-01T10:00:00|3:59:12|nb\n')
 * // [{ id: '42', state: 'RUNNING', reason: 'None', nodes: 'node[1-2]', startTime: '2024-05-01T10:00:00', timeLeft: 14352, name: 'nb' }]
 */
export function parseSqueue(stdout: string): QueueRow[] {
  const rows: QueueRow[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trimEnd().split('|');
    if (fields.length < 7) continue;
    const [id = '', state = '', reason = '', nodes = '', startTime = '', timeLeft = '', ...name] = fields;
    if (!/^\d+([_+]\S*)?$/.test(id.trim()) || !/^[A-Z_]+$/.test(state.trim())) continue;
    rows.push({
      id: id.trim(),
      state: state.trim(),
      reason: reason.trim(),
      nodes: nodes.trim(),
      startTime: startTime.trim(),
      timeLeft: parseTimeLeft(timeLeft),
      name: name.join('|'),
    });
  }
  return rows;
}

/** The newest of `rows` by start time (then by id): "newest RUNNING job with that name". */
export function newestStarted(rows: readonly QueueRow[]): QueueRow | undefined {
  let best: QueueRow | undefined;
  for (const row of rows) {
    if (!best || compareStart(row, best) > 0) best = row;
  }
  return best;
}

function compareStart(a: QueueRow, b: QueueRow): number {
  // ISO-like timestamps sort as text; "N/A" sorts before any digit, i.e. oldest.
  if (a.startTime !== b.startTime) return a.startTime > b.startTime ? 1 : -1;
  return jobNumber(a.id) - jobNumber(b.id);
}

function jobNumber(id: string): number {
  return Number.parseInt(id, 10) || 0;
}

/**
 * The job id in `sbatch --parsable` output: `1234`, or `1234;cluster` on a multi-cluster site.
 * Undefined when the output holds no id.
 *
 * @example parseSbatchParsable('1234;cluster\n') // { jobId: '1234', cluster: 'cluster' }
 */
export function parseSbatchParsable(stdout: string): { jobId: string; cluster?: string } | undefined {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .findLast((l) => l !== '');
  const match = line === undefined ? null : /^(\d+)(?:;(\S+))?$/.exec(line);
  if (!match?.[1]) return undefined;
  return match[2] === undefined ? { jobId: match[1] } : { jobId: match[1], cluster: match[2] };
}
