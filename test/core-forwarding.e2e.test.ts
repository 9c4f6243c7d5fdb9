import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { connect, type SshSession } from '@fwd/core';
import { SocksClient } from 'socks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import {
  downloadFromSource,
  echo,
  httpGet,
  openSocket,
  parallelEchoes,
  readAll,
  uploadToSink,
} from './support/net-client.js';
import { keyLoginOptions, type Sshd, startSshd, TARGETS } from './support/sshd.js';
import { waitFor } from './support/wait.js';

const MiB = 1024 * 1024;

async function session(sshd: Sshd): Promise<SshSession> {
  return connect(keyLoginOptions(sshd));
}

/** A local TCP echo server for -R tests (the far side connects back to it). */
async function localEcho(): Promise<Server & AsyncDisposable> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    socket.pipe(socket);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, {
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

describe.skipIf(skipWithoutDocker)('forwarding against OpenSSH', () => {
  let sshd: Sshd;
  let ssh: SshSession;

  beforeAll(async () => {
    sshd = await startSshd();
    ssh = await session(sshd);
  });
  afterAll(async () => {
    await ssh?.close();
    await sshd?.[Symbol.asyncDispose]();
  });

  it('carries 64 MiB up, keeps the reply flowing after our half-close, and 64 MiB down', async () => {
    await using forward = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: 'localhost', port: TARGETS.sink },
    });
    const up = await uploadToSink(forward.address, 64 * MiB);
    expect(up.reply).toBe(up.sent);

    await using down = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: '127.0.0.1', port: TARGETS.source },
    });
    const got = await downloadFromSource(down.address, 64 * MiB);
    expect(got).toEqual({ ok: true, received: 64 * MiB });
    expect(forward.stats.bytesToRemote).toBe(64 * MiB);
    expect(down.stats.bytesFromRemote).toBe(64 * MiB + 32);
  });

  it('carries 1000 concurrent connections with every byte checked', async () => {
    await using forward = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: '127.0.0.1', port: TARGETS.echo },
    });
    expect(await parallelEchoes(forward.address, 1000, 16 * 1024)).toEqual([]);
    expect(forward.stats.connectionsTotal).toBe(1000);
    expect(forward.stats.connectionErrors).toBe(0);
  });

  it('forwards a local port to a remote unix socket (0600)', async () => {
    const mode = await sshd.exec(['stat', '-c', '%a %U', TARGETS.unixEcho]);
    expect(mode.output.trim()).toBe('600 alice');
    await using forward = await ssh.forwardLocal({ bind: { port: 0 }, target: { path: TARGETS.unixEcho } });
    const payload = randomBytes(100_000);
    expect((await echo(forward.address, payload)).equals(payload)).toBe(true);
  });

  it('listens on a local unix socket with mode 0600', async () => {
    const path = `/tmp/fwd-test-${process.pid}-${Date.now()}.sock`;
    await using forward = await ssh.forwardLocal({
      bind: { path },
      target: { host: '127.0.0.1', port: TARGETS.http },
    });
    const { statSync } = await import('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const res = await httpGet(forward.address, '/api');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).path).toBe('/api');
  });

  it('reports the port the server allocated for a remote forward on port 0, and carries connections', async () => {
    await using target = await localEcho();
    const port = (target.address() as { port: number }).port;
    await using remote = await ssh.forwardRemote({ bind: { port: 0 }, target: { host: '127.0.0.1', port } });
    expect(remote.remotePort).toBeGreaterThan(0);
    const script = `import socket; s=socket.create_connection(('127.0.0.1', ${remote.remotePort})); s.sendall(b'hello-from-server'); s.shutdown(1); print(s.recv(100).decode())`;
    const result = await sshd.exec(['python3', '-c', script]);
    expect(result.output.trim()).toBe('hello-from-server');
    await remote.close();
    const after = await sshd.exec(['python3', '-c', script]);
    expect(after.exitCode).not.toBe(0);
  });

  it('forwards a remote unix socket back to a local port', async () => {
    await using target = await localEcho();
    const port = (target.address() as { port: number }).port;
    const path = `/home/alice/r-${Date.now()}.sock`;
    await using remote = await ssh.forwardRemote({ bind: { path }, target: { host: '127.0.0.1', port } });
    expect(remote.remotePort).toBeUndefined();
    const script = `import socket; s=socket.socket(socket.AF_UNIX); s.connect('${path}'); s.sendall(b'via-unix'); s.shutdown(1); print(s.recv(100).decode())`;
    const result = await sshd.exec(['python3', '-c', script], { user: 'alice' });
    expect(result.output.trim()).toBe('via-unix');
  });

  it('proxies SOCKS5 CONNECT by name, IPv4 and IPv6, and answers a refused target with a SOCKS error', async () => {
    await sshd.exec(['sh', '-c', 'nohup fwd-target echo --host ::1 --port 7101 >/dev/null 2>&1 &'], {
      user: 'alice',
    });
    await waitFor(
      async () => (await sshd.exec(['ss', '-Hltn', 'sport = 7101'])).output.includes('[::1]:7101'),
      {
        what: 'echo on [::1]:7101',
      },
    );
    await using socks = await ssh.forwardDynamic({ bind: { port: 0 } });
    const proxy = { host: '127.0.0.1', port: (socks.address as { port: number }).port, type: 5 as const };
    for (const destination of [
      { host: 'localhost', port: TARGETS.echo },
      { host: '127.0.0.1', port: TARGETS.echo },
      { host: '::1', port: 7101 },
    ]) {
      const { socket } = await SocksClient.createConnection({
        proxy,
        command: 'connect',
        destination,
        timeout: 10_000,
      });
      const back = readAll(socket);
      socket.end('socks-payload');
      expect((await back).toString()).toBe('socks-payload');
    }
    await expect(
      SocksClient.createConnection({
        proxy,
        command: 'connect',
        destination: { host: '127.0.0.1', port: 1 },
        timeout: 10_000,
      }),
    ).rejects.toThrow(/Socks5 proxy rejected connection - ConnectionRefused/);
    expect(socks.stats.connectionErrors).toBe(1);
  });

  it('speaks SOCKS4a too', async () => {
    await using socks = await ssh.forwardDynamic({ bind: { port: 0 } });
    const proxy = { host: '127.0.0.1', port: (socks.address as { port: number }).port, type: 4 as const };
    const { socket } = await SocksClient.createConnection({
      proxy,
      command: 'connect',
      destination: { host: 'localhost', port: TARGETS.echo },
    });
    const back = readAll(socket);
    socket.end('v4a');
    expect((await back).toString()).toBe('v4a');
  });

  it('resets a client that sent nothing when the server refuses the channel', async () => {
    await using forward = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: '127.0.0.1', port: 1 },
    });
    const failed = new Promise((resolve) => forward.once('connection-failed', resolve));
    const socket = await openSocket(forward.address);
    await expect(readAll(socket)).rejects.toThrow(/ECONNRESET/);
    const event = (await failed) as { error: { code: string; message: string } };
    expect(event.error.code).toBe('CHANNEL_REFUSED');
    expect(event.error.message).toMatch(/127\.0\.0\.1:1.*connect failed/);
  });

  it('fails with BIND_IN_USE when the local port is taken', async () => {
    await using taken = await localEcho();
    const port = (taken.address() as { port: number }).port;
    await expect(
      ssh.forwardLocal({ bind: { port }, target: { host: '127.0.0.1', port: TARGETS.echo } }),
    ).rejects.toMatchObject({ code: 'BIND_IN_USE' });
  });

  it('refuses a remote bind the server cannot grant with REMOTE_BIND_REFUSED', async () => {
    await using target = await localEcho();
    const port = (target.address() as { port: number }).port;
    // Port 22 is sshd's own; alice (not root) cannot take it anyway.
    await expect(
      ssh.forwardRemote({ bind: { host: '127.0.0.1', port: 22 }, target: { host: '127.0.0.1', port } }),
    ).rejects.toMatchObject({ code: 'REMOTE_BIND_REFUSED' });
  });
});
