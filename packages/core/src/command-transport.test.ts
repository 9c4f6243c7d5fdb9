import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ChildProcessStream } from './child-process-stream.js';
import { commandTransport } from './command-transport.js';
import { FwdError } from './errors.js';
import { expandProxyCommand } from './proxy-command.js';

const tokens = { host: 'node7.example', port: 2222, user: 'bob' };

/** Everything the stream yields until it ends, or the error that ends it. */
async function readAll(stream: Duplex): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** True while a process (zombie included: it keeps its /proc entry until reaped) exists. */
const alive = (pid: number | undefined): boolean => pid !== undefined && existsSync(`/proc/${pid}`);

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('ProxyCommand tokens', () => {
  it('expands %h %p %r %n %k %% exactly as OpenSSH 9 does', async () => {
    // The oracle: the real ssh runs the same ProxyCommand, which only prints (no network).
    // (A command that closes its stdout at once is killed by ssh before it prints: sh -c keeps it.)
    const command = `sh -c 'echo "<%h> <%p> <%r> <%n> <%k> <%%> <%%h>" >&2'`;
    const ssh = spawnSync(
      'ssh',
      [
        '-T',
        '-F',
        '/dev/null',
        '-o',
        `ProxyCommand=${command}`,
        '-o',
        'BatchMode=yes',
        '-p',
        '2222',
        '-l',
        'bob',
        'Node7.Example',
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    const theirs = ssh.stderr.split('\n').find((line) => line.startsWith('<'));
    expect(theirs).toBe('<node7.example> <2222> <bob> <Node7.Example> <Node7.Example> <%> <%h>');
    const ours: string[] = [];
    const transport = commandTransport({
      command,
      ...tokens,
      originalHost: 'Node7.Example',
      onStderr: (l) => ours.push(l),
    });
    await readAll(await transport.connect(new AbortController().signal)).catch(() => undefined);
    expect(ours).toEqual([theirs]);
    expect(expandProxyCommand('nc %h %p', tokens)).toBe('exec nc node7.example 2222');
  });

  it('refuses unknown tokens and a lone % like OpenSSH, with CONFIG_INVALID', () => {
    expect(() => expandProxyCommand('nc %h %x', tokens)).toThrow(
      /unknown token %x \(it accepts %%, %h, %k, %n, %p, %r\)/,
    );
    expect(() => expandProxyCommand('nc %h 100%', tokens)).toThrow(/ends with a lone %/);
    expect(() => commandTransport({ command: '-', ...tokens })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('ProxyCommand -') }),
    );
  });
});

describe('commandTransport (real child processes)', () => {
  it('carries bytes both ways through the command, then kills it on close, leaving no zombie', async () => {
    const transport = commandTransport({ command: 'cat', ...tokens });
    expect(transport).toMatchObject({
      description: 'command cat',
      endpoint: { host: 'node7.example', port: 2222 },
      probe: false,
    });
    const stream = (await transport.connect(new AbortController().signal)) as ChildProcessStream;
    stream.write('SSH-2.0-hello\r\n');
    const [echoed] = (await once(stream, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('SSH-2.0-hello\r\n');
    const pid = stream.pid;
    expect(alive(pid)).toBe(true);
    stream.destroy();
    await once(stream, 'close');
    expect(alive(pid)).toBe(false);
  });

  it('runs a new process for every connect (each reconnect)', async () => {
    const transport = commandTransport({ command: 'cat', ...tokens });
    const first = (await transport.connect(new AbortController().signal)) as ChildProcessStream;
    const second = (await transport.connect(new AbortController().signal)) as ChildProcessStream;
    expect(first.pid).not.toBe(second.pid);
    first.destroy();
    second.destroy();
    await Promise.all([once(first, 'close'), once(second, 'close')]);
  });

  it('runs the expanded command with the shell, as exec (the shell becomes the command)', async () => {
    const transport = commandTransport({
      command: 'echo %r@%h:%p; echo "$0" >&2',
      ...tokens,
      shell: '/bin/sh',
    });
    const stream = await transport.connect(new AbortController().signal);
    expect(await readAll(stream)).toBe('bob@node7.example:2222\n');
  });

  it('quotes stderr when the command exits before the server answered', async () => {
    const transport = commandTransport({
      command: `sh -c 'echo "channel 0: open failed: connect failed: Name or service not known" >&2; echo "stdio forwarding failed" >&2; exit 255'`,
      ...tokens,
    });
    const stream = await transport.connect(new AbortController().signal);
    const error = await readAll(stream).catch((e) => e);
    expect(error).toBeInstanceOf(FwdError);
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.message).toMatch(
      /^ProxyCommand ".*" exited with status 255 before the SSH server answered: /,
    );
    expect(error.message).toContain(
      'channel 0: open failed: connect failed: Name or service not known / stdio forwarding failed',
    );
  });

  it('ends with TRANSPORT_CLOSED quoting stderr when the command fails after the server answered', async () => {
    const transport = commandTransport({
      command: `sh -c 'echo SSH-2.0-OpenSSH_9.2; echo "Connection to gw closed by remote host." >&2; exit 255'`,
      ...tokens,
    });
    const stream = await transport.connect(new AbortController().signal);
    const received: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => received.push(chunk));
    const [error] = (await once(stream, 'error').catch((e) => [e])) as [FwdError];
    expect(Buffer.concat(received).toString()).toBe('SSH-2.0-OpenSSH_9.2\n');
    expect(error.code).toBe('TRANSPORT_CLOSED');
    expect(error.message).toMatch(/exited with status 255: Connection to gw closed by remote host\.$/);
  });

  it("says CONFIG_INVALID, with the shell's words, for a command that does not exist", async () => {
    const stream = await commandTransport({ command: 'fwd-no-such-command %h', ...tokens }).connect(
      new AbortController().signal,
    );
    const error = await readAll(stream).catch((e) => e);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/exited with status 127 .*fwd-no-such-command.*not found/);
  });

  it('says CONFIG_INVALID when the shell itself cannot run', async () => {
    const transport = commandTransport({ command: 'cat', ...tokens, shell: '/nonexistent/sh' });
    await expect(transport.connect(new AbortController().signal)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('/nonexistent/sh'),
    });
  });

  it('passes each stderr line on while it runs (a login URL to open)', async () => {
    const lines: string[] = [];
    const transport = commandTransport({
      command: `sh -c 'echo "Please open https://login.example/device" >&2; exec cat'`,
      ...tokens,
      onStderr: (line) => lines.push(line),
    });
    const stream = await transport.connect(new AbortController().signal);
    await until(() => lines.length > 0);
    expect(lines).toEqual(['Please open https://login.example/device']);
    stream.destroy();
    await once(stream, 'close');
  });

  it('kills the whole process group on abort, and a proxy that ignores SIGTERM too', async () => {
    const pids: number[] = [];
    const transport = commandTransport({
      // A wrapper that leaves a helper running, and ignores SIGTERM itself.
      command: 'sh -c \'sleep 600 & echo $! >&2; trap "" TERM; while :; do sleep 1; done\'',
      ...tokens,
      onStderr: (line) => pids.push(Number(line)),
    });
    const controller = new AbortController();
    const stream = (await transport.connect(controller.signal)) as ChildProcessStream;
    await until(() => pids.length > 0);
    const [helper] = pids;
    expect(alive(helper)).toBe(true);
    stream.destroy();
    await once(stream, 'close');
    expect(alive(stream.pid)).toBe(false);
    await until(() => !alive(helper));
    expect(alive(helper)).toBe(false);
  });

  it('ends a command that keeps running after SSH ended its side (nc does)', async () => {
    const stream = (await commandTransport({ command: 'sleep 600', ...tokens }).connect(
      new AbortController().signal,
    )) as ChildProcessStream;
    stream.resume();
    stream.end();
    await once(stream, 'close');
    expect(alive(stream.pid)).toBe(false);
  });

  it('rejects with ABORTED and starts nothing when the signal has fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      commandTransport({ command: 'cat', ...tokens }).connect(controller.signal),
    ).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
