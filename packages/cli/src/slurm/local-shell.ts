import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import {
  type CommandResult,
  DEFAULT_MAX_OUTPUT_BYTES,
  FwdError,
  OutputCapture,
  type RunCommandOptions,
} from '@fwd/core';
import type { RemoteShell } from './slurm-commands.js';

/**
 * Runs Slurm commands on this machine, for a `local: true` host (fwd on the login node itself):
 * the same command lines an SSH session would run, through `/bin/sh -c`, with the same result
 * shape (exit 127 when a command is missing, output capped, stdin then EOF).
 *
 * @example await squeueJobs(localShell(), ['42'])
 */
export function localShell(): RemoteShell {
  const where = `this machine (${hostname()})`;
  return {
    where,
    exec: (command, options = {}) => runLocally(command, where, options),
  };
}

function runLocally(command: string, where: string, options: RunCommandOptions): Promise<CommandResult> {
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const signal = options.signal;
  return new Promise<CommandResult>((resolve, reject) => {
    if (signal?.aborted) return reject(new FwdError('ABORTED', `run "${command}" on ${where}: aborted`));
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    const output = new OutputCapture(limit);
    child.stdout.on('data', output.stdout);
    child.stderr.on('data', output.stderr);
    // A command that exits without reading its stdin makes our write fail with EPIPE: not an error.
    child.stdin.on('error', () => undefined);
    const onAbort = (): void => {
      child.kill('SIGTERM');
      reject(new FwdError('ABORTED', `run "${command}" on ${where}: aborted`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(
        new FwdError('COMMAND_FAILED', `cannot run /bin/sh on ${where}: ${err.message}`, { cause: err }),
      );
    });
    child.once('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal: exitSignal ?? undefined, ...output.result() });
    });
    child.stdin.end(options.stdin);
  });
}
