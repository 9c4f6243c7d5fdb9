import { EventEmitter, once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { websocketTransport } from '@fwd/ws-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helpFor } from './help.js';
import { relayCommand } from './relay.js';

const TOKEN = 'cli-relay-token-0123456789';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    this.emit('text');
    callback();
  }
  /** Resolves with the first line that satisfies `match`. */
  async line(match: (line: string) => boolean): Promise<string> {
    for (;;) {
      const found = this.text.split('\n').find(match);
      if (found !== undefined) return found;
      await once(this, 'text');
    }
  }
}

function io(env: Record<string, string | undefined> = {}) {
  return { stdout: new Capture(), stderr: new Capture(), stdin: Readable.from([]), env, cwd: tmpdir() };
}

async function usageError(argv: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  const streams = io(env);
  expect(await relayCommand(argv, streams, new AbortController().signal)).toBe(2);
  expect(streams.stderr.text).toMatch(/^fwd: .*; see fwd relay --help\n$/);
  return streams.stderr.text;
}

describe('fwd relay', () => {
  let dir: string;
  let target: Server;
  let targetPort: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-relay-cli-'));
    target = createServer((socket) => socket.pipe(socket));
    target.listen(0, '127.0.0.1');
    await once(target, 'listening');
    targetPort = (target.address() as { port: number }).port;
  });
  afterAll(async () => {
    target.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints usage with --help and exits 0', async () => {
    const streams = io();
    expect(await relayCommand(['--help'], streams)).toBe(0);
    expect(streams.stdout.text).toMatch(/^Usage: fwd relay --listen ADDR --allow/);
    expect(streams.stdout.text).toBe(helpFor('relay'));
  });

  it('exits 2 with a precise message for each usage error', async () => {
    const env = { FWD_RELAY_TOKENS: TOKEN };
    expect(await usageError(['--allow', 'login:22'], env)).toMatch(/--listen is required/);
    expect(await usageError(['--listen', ':8080'], env)).toMatch(/--allow is required/);
    expect(await usageError(['--listen', ':8080', '--allow', 'login'], env)).toMatch(
      /--allow "login": expected host:port/,
    );
    expect(await usageError(['--listen', 'nowhere', '--allow', 'login:22'], env)).toMatch(
      /--listen "nowhere"/,
    );
    expect(await usageError(['--listen', ':99999', '--allow', 'login:22'], env)).toMatch(/--listen ":99999"/);
    expect(await usageError(['--listen', ':8080', '--allow', 'login:22'])).toMatch(/no tokens/);
    expect(await usageError(['--listen', ':8080', '--allow', 'login:22', '--token-file', 'x'], env)).toMatch(
      /either with --token-file or in FWD_RELAY_TOKENS/,
    );
    expect(
      await usageError(['--listen', ':8080', '--allow', 'login:22', '--tls-cert', 'c.pem'], env),
    ).toMatch(/--tls-cert and --tls-key go together/);
    expect(
      await usageError(['--listen', ':8080', '--allow', 'login:22', '--idle-timeout', '10'], env),
    ).toMatch(/--idle-timeout "10": "10" has no unit/);
    expect(
      await usageError(['--listen', ':8080', '--allow', 'login:22', '--max-connections', '0'], env),
    ).toMatch(/--max-connections "0": expected a positive integer/);
    expect(await usageError(['--listen', ':8080', '--allow', 'login:22', '--bogus'], env)).toMatch(/bogus/);
    expect(await usageError(['--listen', ':8080', '--allow', 'login:22', 'extra'], env)).toMatch(/extra/);
  });

  it('exits 2 for short tokens and unreadable files, never quoting a token', async () => {
    const short = await usageError(['--listen', '127.0.0.1:0', '--allow', 'login:22'], {
      FWD_RELAY_TOKENS: `${TOKEN},tiny-secret`,
    });
    expect(short).toMatch(/token #2 is shorter than 16/);
    expect(short).not.toContain('tiny-secret');
    expect(
      await usageError(['--listen', ':8080', '--allow', 'login:22', '--token-file', join(dir, 'missing')]),
    ).toMatch(/cannot read token file .*ENOENT/);
    expect(
      await usageError(
        [
          '--listen',
          ':8080',
          '--allow',
          'login:22',
          '--tls-cert',
          join(dir, 'no.pem'),
          '--tls-key',
          join(dir, 'no.pem'),
        ],
        { FWD_RELAY_TOKENS: TOKEN },
      ),
    ).toMatch(/--tls-cert .*no\.pem: cannot read \(ENOENT\)/);
  });

  it('runs until the signal aborts, logs JSON lines without tokens, and exits 0', async () => {
    const tokenFile = join(dir, 'tokens');
    await writeFile(tokenFile, `# relay tokens\n${TOKEN}\n`);
    const controller = new AbortController();
    const streams = io({});
    const exit = relayCommand(
      [
        '--listen',
        '127.0.0.1:0',
        '--allow',
        `127.0.0.1:${targetPort}`,
        '--allow',
        'other:22',
        '--token-file',
        tokenFile,
        '--idle-timeout',
        '10m',
        '--max-connections',
        '10',
        '--drain-timeout',
        '100ms',
      ],
      streams,
      controller.signal,
    );
    const listening = JSON.parse(await streams.stdout.line((l) => l.includes('"listening"'))) as {
      address: string;
      allow: string[];
    };
    expect(listening.allow).toEqual([`127.0.0.1:${targetPort}`, 'other:22']);
    const stream = await websocketTransport({
      url: `ws://${listening.address}/`,
      token: TOKEN,
      agent: false,
    }).connect(AbortSignal.timeout(5_000));
    stream.write('ping');
    const [echoed] = (await once(stream, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('ping');

    controller.abort();
    expect(await exit).toBe(0);
    const events = streams.stdout.text
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual(expect.arrayContaining(['listening', 'tunnel-open', 'shutdown', 'closed']));
    expect(streams.stdout.text).not.toContain(TOKEN);
    expect(streams.stderr.text).toBe('');
    stream.destroy();
  });

  it('says on stderr, as well as in its log, that plain ws:// beyond loopback exposes the tokens', async () => {
    const controller = new AbortController();
    const streams = io({ FWD_RELAY_TOKENS: TOKEN });
    const exit = relayCommand(['--listen', '0.0.0.0:0', '--allow', 'login:22'], streams, controller.signal);
    const warning = JSON.parse(await streams.stdout.line((l) => l.includes('"warning"'))) as {
      message: string;
    };
    controller.abort();
    expect(await exit).toBe(0);
    expect(streams.stderr.text).toBe(`fwd: relay: warning: ${warning.message}\n`);
    expect(warning.message).toMatch(/plain ws:\/\/ on 0\.0\.0\.0:\d+/);
  });

  it('reads --token-file again on SIGHUP: new tokens in, old ones out, a broken file keeps the old ones', async () => {
    const tokenFile = join(dir, 'rotating-tokens');
    const next = 'cli-relay-token-rotated-0123';
    await writeFile(tokenFile, `${TOKEN}\n`);
    const controller = new AbortController();
    const reload = new EventEmitter();
    const streams = io({});
    const exit = relayCommand(
      ['--listen', '127.0.0.1:0', '--allow', `127.0.0.1:${targetPort}`, '--token-file', tokenFile],
      streams,
      controller.signal,
      (listener) => {
        reload.on('hup', listener);
        return () => reload.off('hup', listener);
      },
    );
    const { address } = JSON.parse(await streams.stdout.line((l) => l.includes('"listening"'))) as {
      address: string;
    };
    const connectWith = (token: string) =>
      websocketTransport({ url: `ws://${address}/`, token, agent: false }).connect(
        AbortSignal.timeout(5_000),
      );
    (await connectWith(TOKEN)).destroy();

    await writeFile(tokenFile, `# rotated\n${next}\n`);
    reload.emit('hup');
    await streams.stdout.line((l) => l.includes('"tokens-replaced"'));
    (await connectWith(next)).destroy();
    await expect(connectWith(TOKEN)).rejects.toMatchObject({ code: 'RELAY_UNAUTHORIZED' });

    await writeFile(tokenFile, 'short\n');
    reload.emit('hup');
    await streams.stdout.line((l) => l.includes('"tokens-reload-failed"'));
    expect(streams.stderr.text).toMatch(/^fwd: relay: kept the old tokens: token #1 is shorter than 16/);
    (await connectWith(next)).destroy();

    controller.abort();
    expect(await exit).toBe(0);
    expect(reload.listenerCount('hup')).toBe(0);
    expect(streams.stdout.text + streams.stderr.text).not.toContain(next);
  });

  it('exits 1 when the port is taken', async () => {
    const busy = createServer();
    busy.listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const port = (busy.address() as { port: number }).port;
    const streams = io({ FWD_RELAY_TOKENS: TOKEN });
    const argv = ['--listen', `127.0.0.1:${port}`, '--allow', 'login:22'];
    expect(await relayCommand(argv, streams, new AbortController().signal)).toBe(1);
    expect(streams.stderr.text).toMatch(/already in use/);
    busy.close();
  });
});
