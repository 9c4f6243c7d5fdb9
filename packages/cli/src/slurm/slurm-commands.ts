import { type CommandResult, FwdError, type RunCommandOptions } from '@fwd/core';
import { jobFromScontrol, parseScontrol } from './scontrol-output.js';
import type { SlurmJob } from './slurm-job.js';
import { parseSbatchParsable, parseSqueue, type QueueRow, SQUEUE_FORMAT } from './squeue-output.js';

/** Characters a POSIX shell never treats specially: such a word needs no quotes. */
const SAFE = /^[A-Za-z0-9_\-.,:/=@%+]+$/;

/**
 * One argument for a POSIX shell command line: unchanged when harmless, else single-quoted (a
 * `'` inside becomes `'\''`). Remote commands run through the user's login shell.
 *
 * @example shellQuote("it's") // 'it'\''s'
 */
export function shellQuote(arg: string): string {
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A whole command line from its arguments. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** What the Slurm commands need of an SSH session (SshSession has it; tests fake it). */
export interface RemoteShell {
  /** "alice@login:22", for messages. */
  readonly where: string;
  exec(command: string, options?: RunCommandOptions): Promise<CommandResult>;
}

const INVALID_JOB = /Invalid job id specified/i;

/** Runs one Slurm command; a missing command (exit 127) is SLURM_UNAVAILABLE, the rest is returned. */
export async function runSlurm(
  shell: RemoteShell,
  argv: readonly string[],
  options: RunCommandOptions = {},
): Promise<CommandResult> {
  const result = await shell.exec(shellCommand(argv), options);
  if (result.code === 127) {
    const said = firstLine(result.stderr) || 'command not found';
    throw new FwdError(
      'SLURM_UNAVAILABLE',
      `${argv[0]} is not available on ${shell.where} (${said}): Slurm tunnels need a Slurm login node` +
        ' whose non-interactive shell has the Slurm commands on its PATH',
    );
  }
  return result;
}

/** A Slurm command that failed for some other reason (controller down, bad option...). */
export function commandFailed(argv: readonly string[], result: CommandResult, where: string): FwdError {
  const status = result.code === null ? `signal ${result.signal ?? '?'}` : `exit ${result.code}`;
  const said = firstLine(result.stderr) || firstLine(result.stdout);
  return new FwdError(
    'COMMAND_FAILED',
    `${argv.join(' ')} on ${where} failed (${status})${said ? `: ${said}` : ''}`,
  );
}

/**
 * The state of every job in `ids` that squeue still knows (`-t all`: finished ones too, until
 * MinJobAge). A job it no longer knows is simply absent.
 */
export async function squeueJobs(
  shell: RemoteShell,
  ids: readonly string[],
  signal?: AbortSignal,
): Promise<QueueRow[]> {
  const argv = ['squeue', '-h', '-t', 'all', '-j', ids.join(','), '-o', SQUEUE_FORMAT];
  const result = await runSlurm(shell, argv, signal ? { signal } : {});
  // squeue asked for one unknown id answers "Invalid job id specified" (exit 1) instead of nothing.
  if (result.code === 1 && ids.length === 1 && INVALID_JOB.test(result.stderr)) return [];
  if (result.code !== 0) throw commandFailed(argv, result, shell.where);
  return parseSqueue(result.stdout);
}

/** The user's RUNNING jobs named one of `names` (`squeue --me -n`). */
export async function squeueRunningByName(
  shell: RemoteShell,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<QueueRow[]> {
  const argv = ['squeue', '-h', '--me', '-t', 'RUNNING', '-n', names.join(','), '-o', SQUEUE_FORMAT];
  const result = await runSlurm(shell, argv, signal ? { signal } : {});
  if (result.code !== 0) throw commandFailed(argv, result, shell.where);
  return parseSqueue(result.stdout);
}

/** `scontrol show job ID`: the job, or `{ unknown }` with Slurm's words when there is no such job. */
export async function scontrolShowJob(
  shell: RemoteShell,
  id: string,
  signal?: AbortSignal,
): Promise<SlurmJob | { unknown: string }> {
  const argv = ['scontrol', 'show', 'job', id];
  const result = await runSlurm(shell, argv, signal ? { signal } : {});
  if (result.code !== 0 && INVALID_JOB.test(result.stderr)) return { unknown: firstLine(result.stderr) };
  if (result.code !== 0) throw commandFailed(argv, result, shell.where);
  const job = parseScontrol(result.stdout)
    .map(jobFromScontrol)
    .find((j) => j !== undefined);
  if (!job) return { unknown: `scontrol printed no job ${id}` };
  return job;
}

/** What to submit: a script's text (sent on stdin) or a `--wrap` command; `args` are sbatch options. */
export type Submission =
  | { readonly script: string; readonly args: readonly string[] }
  | { readonly wrap: string; readonly args: readonly string[] };

/** `sbatch --parsable`; resolves with the new job's id. */
export async function sbatch(
  shell: RemoteShell,
  submission: Submission,
  signal?: AbortSignal,
): Promise<string> {
  const argv = ['sbatch', '--parsable', ...submission.args];
  if ('wrap' in submission) argv.push(`--wrap=${submission.wrap}`);
  const options: RunCommandOptions = 'script' in submission ? { stdin: submission.script } : {};
  if (signal) options.signal = signal;
  const result = await runSlurm(shell, argv, options);
  const parsed = result.code === 0 ? parseSbatchParsable(result.stdout) : undefined;
  if (!parsed) throw commandFailed(argv, result, shell.where);
  return parsed.jobId;
}

/** `scancel ID`; rejects with COMMAND_FAILED when Slurm refuses. */
export async function scancel(shell: RemoteShell, id: string, signal?: AbortSignal): Promise<void> {
  const argv = ['scancel', id];
  const result = await runSlurm(shell, argv, signal ? { signal } : {});
  if (result.code !== 0) throw commandFailed(argv, result, shell.where);
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}
