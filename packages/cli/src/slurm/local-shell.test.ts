import { describe, expect, it } from 'vitest';
import { localShell } from './local-shell.js';
import { runSlurm } from './slurm-commands.js';

describe('localShell', () => {
  it('runs a command line through sh, with stdin, exit status and both outputs', async () => {
    const shell = localShell();
    const result = await shell.exec('read line; echo "got $line"; echo oops >&2; exit 3', {
      stdin: 'hello\n',
    });
    expect(result).toEqual({
      code: 3,
      signal: undefined,
      stdout: 'got hello\n',
      stderr: 'oops\n',
      truncated: false,
    });
  });

  it('caps the output', async () => {
    const result = await localShell().exec('head -c 5000 /dev/zero', { maxOutputBytes: 1024 });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBeLessThanOrEqual(1024);
  });

  it('makes a missing Slurm command SLURM_UNAVAILABLE, naming this machine', async () => {
    const error = await runSlurm(localShell(), ['fwd-no-such-squeue', '-h']).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'SLURM_UNAVAILABLE',
      message: expect.stringMatching(/^fwd-no-such-squeue is not available on this machine \(/),
    });
  });

  it('stops the command when aborted', async () => {
    const stop = new AbortController();
    const running = localShell().exec('sleep 30', { signal: stop.signal });
    stop.abort();
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
