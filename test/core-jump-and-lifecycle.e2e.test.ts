import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, knownHosts, tcpTransport } from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { newKeyPair } from './support/keys.js';
import { echo, openSocket } from './support/net-client.js';
import { keyLoginOptions, type Sshd, startSshdNetwork, TARGETS } from './support/sshd.js';
import { waitFor } from './support/wait.js';

function socketHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap')
    .length;
}

describe.skipIf(skipWithoutDocker)('jump hosts and teardown', () => {
  let servers: AsyncDisposable | undefined;
  let outer: Sshd;
  let inner: Sshd;
  let dir: string;

  beforeAll(async () => {
    const started = await startSshdNetwork([{ alias: 'outer' }, { alias: 'inner', publish: false }]);
    servers = started;
    [outer, inner] = started.sshds;
    dir = await mkdtemp(join(tmpdir(), 'fwd-jump-'));
  });
  afterAll(async () => {
    await servers?.[Symbol.asyncDispose]();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reaches a host that only the first one can see, through a channel of the first session', async () => {
    const file = join(dir, 'known_hosts');
    await writeFile(file, `${outer.knownHostsLine}\ninner ${inner.hostKey.publicKey}\n`);
    const hostKeys = knownHosts({ files: [file], globalFiles: [] });
    const key = outer.clientKey.privateKey;
    await using jump = await connect({
      transport: tcpTransport({ host: outer.host, port: outer.port }),
      username: 'alice',
      privateKey: key,
      hostKeys,
    });
    await using ssh = await connect({
      transport: jump.transportTo({ host: 'inner', port: 22 }),
      username: 'alice',
      privateKey: key,
      hostKeys,
    });
    expect(ssh.where).toBe('alice@inner:22');
    expect((await ssh.exec('hostname')).stdout.trim()).not.toBe((await jump.exec('hostname')).stdout.trim());
    await using forward = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: '127.0.0.1', port: TARGETS.echo },
    });
    const payload = randomBytes(1024 * 1024);
    expect((await echo(forward.address, payload)).equals(payload)).toBe(true);
  });

  it('checks the inner host key against the inner name, not the jump host', async () => {
    const file = join(dir, 'wrong_inner');
    await writeFile(file, `${outer.knownHostsLine}\ninner ${newKeyPair().publicKey}\n`);
    const hostKeys = knownHosts({ files: [file], globalFiles: [] });
    await using jump = await connect({
      transport: tcpTransport({ host: outer.host, port: outer.port }),
      username: 'alice',
      privateKey: outer.clientKey.privateKey,
      hostKeys,
    });
    await expect(
      connect({
        transport: jump.transportTo({ host: 'inner', port: 22 }),
        username: 'alice',
        privateKey: outer.clientKey.privateKey,
        hostKeys,
      }),
    ).rejects.toMatchObject({ code: 'HOST_KEY_CHANGED' });
  });

  it('aborting a session during a transfer closes listeners, channels and sockets, leaving no handles', async () => {
    const baseline = socketHandles();
    const controller = new AbortController();
    const ssh = await connect(keyLoginOptions(outer, { signal: controller.signal }));
    const forward = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: '127.0.0.1', port: TARGETS.source },
    });
    const address = forward.address;
    const client = await openSocket(address);
    // The client is half-open capable: what it sees of our teardown is EOF (or a reset).
    const clientEnded = new Promise<void>((resolve) => {
      client.once('end', () => resolve());
      client.once('close', () => resolve());
    });
    client.on('error', () => undefined);
    const firstBytes = new Promise<void>((resolve) => client.once('data', () => resolve()));
    client.write(`${1024 * 1024 * 1024}\n`);
    await firstBytes;
    expect(forward.stats.connectionsOpen).toBe(1);

    controller.abort();
    expect(await ssh.closed).toBeUndefined();
    await forward.closed;
    await clientEnded;
    client.destroy();
    expect(forward.stats.connectionsOpen).toBe(0);
    await expect(openSocket(address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await ssh.close();
    // Handles close on the next turns of the loop; a leak stays and fails this.
    await waitFor(() => socketHandles() === baseline, {
      timeoutMs: 2_000,
      what: 'socket handles back to the baseline',
    });
  });

  it('close() is idempotent and `closed` settles once', async () => {
    const ssh = await connect(keyLoginOptions(outer));
    const forward = await ssh.forwardDynamic({ bind: { port: 0 } });
    await Promise.all([ssh.close(), ssh.close(), forward.close()]);
    await ssh.close();
    expect(ssh.alive).toBe(false);
    await expect(ssh.openChannel({ host: '127.0.0.1', port: TARGETS.echo })).rejects.toMatchObject({
      code: 'TRANSPORT_CLOSED',
    });
  });
});
