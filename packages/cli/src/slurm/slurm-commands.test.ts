import type { CommandResult } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { commandResult, fakeShell } from '../../../../test/support/fake-shell.js';
import {
  type RemoteShell,
  sbatch,
  scancel,
  scontrolShowJob,
  shellCommand,
  shellQuote,
  squeueJobs,
  squeueRunningByName,
} from './slurm-commands.js';

/** A shell that answers every command with `reply` and records what it was asked. */
function shell(
  reply: Partial<CommandResult>,
): RemoteShell & { calls: { command: string; stdin?: string }[] } {
  const calls: { command: string; stdin?: string }[] = [];
  const recording = fakeShell((command, options) => {
    calls.push(options.stdin === undefined ? { command } : { command, stdin: String(options.stdin) });
    return commandResult(reply);
  });
  return Object.assign(recording, { calls });
}

describe('shellQuote', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    expect(shellQuote('%i|%T')).toBe("'%i|%T'");
    expect(shellQuote('--wrap=python3 -m http.server')).toBe("'--wrap=python3 -m http.server'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
    expect(shellCommand(['scancel', '42'])).toBe('scancel 42');
  });
});

describe('Slurm commands', () => {
  it('asks squeue once for all ids, finished jobs included', async () => {
    const sh = shell({
      stdout: '1|RUNNING|None|node1|2024-05-01T10:00:00|59:00|a\n2|PENDING|Priority||N/A|1:00:00|b\n',
    });
    const rows = await squeueJobs(sh, ['1', '2', '3']);
    expect(sh.calls).toEqual([{ command: "squeue -h -t all -j 1,2,3 -o '%i|%T|%r|%N|%S|%L|%j'" }]);
    expect(rows.map((r) => [r.id, r.state])).toEqual([
      ['1', 'RUNNING'],
      ['2', 'PENDING'],
    ]);
  });

  it('reads "Invalid job id specified" for a single id as "squeue does not know it"', async () => {
    const sh = shell({ code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' });
    expect(await squeueJobs(sh, ['999999'])).toEqual([]);
    await expect(
      squeueJobs(
        shell({
          code: 1,
          stderr: 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n',
        }),
        ['1'],
      ),
    ).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message: expect.stringContaining('Unable to contact slurm controller'),
    });
  });

  it('looks for RUNNING jobs of mine by name', async () => {
    const sh = shell({ stdout: '' });
    await squeueRunningByName(sh, ['jupyter', 'tb']);
    expect(sh.calls[0]?.command).toBe("squeue -h --me -t RUNNING -n jupyter,tb -o '%i|%T|%r|%N|%S|%L|%j'");
  });

  it("returns scontrol's words for an unknown job", async () => {
    const sh = shell({ code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' });
    expect(await scontrolShowJob(sh, '999999')).toEqual({
      unknown: 'slurm_load_jobs error: Invalid job id specified',
    });
  });

  it('sends a script on stdin with sbatch options, or a --wrap command', async () => {
    const sh = shell({ stdout: '4242;cluster\n' });
    expect(await sbatch(sh, { script: '#!/bin/bash\nsleep 1\n', args: ['-J', 'nb', '--time=1:00:00'] })).toBe(
      '4242',
    );
    await sbatch(sh, { wrap: "python3 -c 'print(1)'", args: [] });
    expect(sh.calls).toEqual([
      { command: 'sbatch --parsable -J nb --time=1:00:00', stdin: '#!/bin/bash\nsleep 1\n' },
      { command: `sbatch --parsable '--wrap=python3 -c '\\''print(1)'\\'''` },
    ]);
  });

  it("reports a refused submission with sbatch's words", async () => {
    const sh = shell({
      code: 1,
      stderr: 'sbatch: error: Batch job submission failed: Invalid partition name specified\n',
    });
    await expect(sbatch(sh, { wrap: 'true', args: ['-p', 'nope'] })).rejects.toMatchObject({
      code: 'COMMAND_FAILED',
      message:
        'sbatch --parsable -p nope --wrap=true on alice@login:22 failed (exit 1): sbatch: error: Batch job submission failed: Invalid partition name specified',
    });
  });

  it('says clearly when the host has no Slurm (exit 127)', async () => {
    const sh = shell({ code: 127, stderr: 'bash: line 1: sbatch: command not found\n' });
    await expect(sbatch(sh, { wrap: 'true', args: [] })).rejects.toMatchObject({
      code: 'SLURM_UNAVAILABLE',
      message: expect.stringMatching(
        /^sbatch is not available on alice@login:22 \(bash: line 1: sbatch: command not found\)/,
      ),
    });
    await expect(scancel(sh, '1')).rejects.toMatchObject({ code: 'SLURM_UNAVAILABLE' });
  });
});
