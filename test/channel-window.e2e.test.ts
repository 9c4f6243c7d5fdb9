import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, knownHosts, type SshSession, tcpTransport } from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DelayProxy, startDelayProxy } from './support/delay-proxy.js';
import { skipWithoutDocker } from './support/docker.js';
import { openSocket } from './support/net-client.js';
import { type Sshd, startSshd, TARGETS } from './support/sshd.js';
import { waitFor } from './support/wait.js';

const MiB = 1024 * 1024;
const WINDOW = 64 * MiB;

// A forwarded download over a 40 ms path, through OpenSSH, with fwd's receive window allowed to
// grow to 64 MiB: when the local reader stops, fwd must stop granting, so what the process holds
// stays within the window however much the server still has to send.
describe.skipIf(skipWithoutDocker)('receive window on a long path', () => {
  let sshd: Sshd;
  let proxy: DelayProxy;
  let ssh: SshSession;

  beforeAll(async () => {
    sshd = await startSshd();
    proxy = await startDelayProxy({ host: sshd.host, port: sshd.port }, 40);
    const knownHostsFile = join(tmpdir(), `fwd-window-known-hosts-${proxy.port}`);
    await writeFile(knownHostsFile, `${sshd.knownHostsLine.replace(/^\S+/, `[127.0.0.1]:${proxy.port}`)}\n`);
    ssh = await connect({
      transport: tcpTransport({ host: '127.0.0.1', port: proxy.port }),
      username: sshd.username,
      privateKey: sshd.clientKey.privateKey,
      hostKeys: knownHosts({ files: [knownHostsFile], globalFiles: [] }),
      windowBytes: WINDOW,
    });
  });
  afterAll(async () => {
    await ssh?.close();
    await proxy?.close();
    await sshd?.[Symbol.asyncDispose]();
  });

  it('holds at most the window when the local reader stops, and every byte still arrives', async () => {
    await using forward = await ssh.forwardLocal({
      bind: { port: 0 },
      target: { host: '127.0.0.1', port: TARGETS.source },
    });
    const total = 384 * MiB;
    const socket = await openSocket(forward.address);
    const hash = createHash('sha256');
    const tail: Buffer[] = [];
    let received = 0;
    let stopped = false;
    // Read fast for 48 MiB (the window grows), then stop reading.
    const paused = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        tail.push(chunk);
        if (tail.length > 64) hash.update(tail.shift() as Buffer);
        if (received >= 48 * MiB && !stopped) {
          stopped = true;
          socket.pause();
          resolve();
        }
      });
    });
    socket.write(`${total}\n`);
    await paused;
    global.gc?.();
    const before = process.memoryUsage().rss;
    let highest = before;
    let last = -1;
    let unchanged = 0;
    // The pipe is blocked once the forward's count stops moving: the granted window is used up.
    await waitFor(
      () => {
        highest = Math.max(highest, process.memoryUsage().rss);
        const now = forward.stats.bytesFromRemote;
        unchanged = now === last ? unchanged + 1 : 0;
        last = now;
        return unchanged >= 5;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the forward to stop receiving' },
    );
    // Without the accounting the server would have pushed all of the remaining 336 MiB here.
    expect(total - forward.stats.bytesFromRemote).toBeGreaterThan(200 * MiB);
    expect(highest - before).toBeLessThan(WINDOW + 48 * MiB);

    const done = new Promise<void>((resolve) => socket.once('end', resolve));
    socket.resume();
    await done;
    const all = Buffer.concat(tail);
    hash.update(all.subarray(0, all.length - 32));
    expect(received).toBe(total + 32);
    expect(hash.digest().equals(all.subarray(all.length - 32))).toBe(true);
  });
});
