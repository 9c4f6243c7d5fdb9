import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandTransport, connect, HostConnection, knownHosts } from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { newKeyPair } from './support/keys.js';
import { type Sshd, startSshd, startSshdNetwork } from './support/sshd.js';
import { waitFor } from './support/wait.js';

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

// The target's port 22 is not published: only the hop container (on the same Docker network)
// reaches it, through the real OpenSSH client's `ssh -W` run as a ProxyCommand.
describe.skipIf(skipWithoutDocker)('ProxyCommand (commandTransport) against OpenSSH', () => {
  let servers: AsyncDisposable | undefined;
  let hop: Sshd;
  let target: Sshd;
  let published: Sshd;
  let dir: string;
  let sshW: string;

  beforeAll(async () => {
    const clientKey = newKeyPair();
    const [behindHop, alone] = await Promise.all([
      startSshdNetwork([{ alias: 'hop' }, { alias: 'target', publish: false }], clientKey),
      startSshd({ clientKey }),
    ]);
    servers = behindHop;
    [hop, target] = behindHop.sshds;
    published = alone;
    dir = await mkdtemp(join(tmpdir(), 'fwd-proxycmd-'));
    const key = join(dir, 'id_ed25519');
    await writeFile(key, clientKey.privateKey, { mode: 0o600 });
    await writeFile(join(dir, 'hop_known_hosts'), `${hop.knownHostsLine}\n`);
    await writeFile(
      join(dir, 'known_hosts'),
      `target ${target.hostKey.publicKey}\n${published.knownHostsLine}\n`,
    );
    sshW =
      `ssh -F /dev/null -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${dir}/hop_known_hosts ` +
      `-o StrictHostKeyChecking=yes -p ${hop.port} alice@127.0.0.1 -W %h:%p`;
  });
  afterAll(async () => {
    await Promise.all([servers, published].map((s) => s?.[Symbol.asyncDispose]()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const login = (transport: ReturnType<typeof commandTransport>) =>
    connect({
      transport,
      username: 'alice',
      privateKey: readFileSync(join(dir, 'id_ed25519')),
      hostKeys: knownHosts({ files: [join(dir, 'known_hosts')], globalFiles: [] }),
    });

  it('logs in through `ssh -W %h:%p` to a host only the hop can reach; host key checked for the target', async () => {
    await using ssh = await login(
      commandTransport({ command: sshW, host: 'target', port: 22, user: 'alice' }),
    );
    const result = await ssh.exec('hostname -I; cat /etc/hostname');
    expect(result.code).toBe(0);
    const hostname = (await target.exec(['cat', '/etc/hostname'])).output.trim();
    expect(result.stdout).toContain(hostname);
  });

  it('logs in through a plain `nc %h %p`', async () => {
    await using ssh = await login(
      commandTransport({ command: 'nc %h %p', host: '127.0.0.1', port: published.port, user: 'alice' }),
    );
    expect((await ssh.exec('id -un')).stdout).toBe('alice\n');
  });

  it('fails CONNECT_FAILED quoting the command when it exits at once', async () => {
    const error = await login(
      commandTransport({ command: sshW, host: 'no-such-host.invalid', port: 22, user: 'alice' }),
    ).catch((e) => e);
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.message).toMatch(
      /^ProxyCommand "ssh -F .* -W %h:%p" exited with status 255 before the SSH server answered: /,
    );
    // What ssh itself said about it:
    expect(error.message).toContain('stdio forwarding failed');
  });

  it('starts a new command for each reconnect after sshd restarts, none to probe, and leaves no old one running', async () => {
    const log = join(dir, 'started.log');
    // Each start records its pid ($$ is the shell, which then becomes nc through exec).
    const command = `sh -c 'echo $$ >> ${log}; exec nc %h %p'`;
    const host = new HostConnection(
      {
        name: 'published',
        address: { host: '127.0.0.1', port: published.port },
        transport: commandTransport({ command, host: '127.0.0.1', port: published.port, user: 'alice' }),
        session: {
          username: 'alice',
          privateKey: readFileSync(join(dir, 'id_ed25519')),
          hostKeys: knownHosts({ files: [join(dir, 'known_hosts')], globalFiles: [] }),
          // nc keeps running after sshd goes away (as with OpenSSH, the keepalive notices).
          keepaliveMs: 1_000,
        },
        // Waits of 1-2 s: long enough that a TCP host would be probed meanwhile (every 500 ms).
        reconnect: { initialMs: 2_000, maxMs: 2_000 },
      },
      undefined,
    );
    const started = (): number[] => readFileSync(log, 'utf8').trim().split('\n').map(Number);
    try {
      let ups = 0;
      let retries = 0;
      host.on('up', () => ups++);
      host.on('status', (s) => {
        if (s.state === 'reconnecting') retries++;
      });
      host.start();
      await waitFor(() => ups === 1, { what: 'first session' });
      const [first] = started();
      expect(first !== undefined && alive(first)).toBe(true);

      await published.exec(['pkill', '-x', 'sshd']);
      await waitFor(() => retries >= 2, {
        what: 'two failed attempts while sshd is down',
        timeoutMs: 20_000,
      });
      await published.exec(['/usr/sbin/sshd', '-E', '/var/log/sshd.log']);
      await waitFor(() => ups === 2, { what: 'the session back after the restart', timeoutMs: 30_000 });

      const all = started();
      // One command per login attempt: the first, then one after each retry wait; none for probes.
      expect(all).toHaveLength(1 + retries);
      expect(new Set(all).size).toBe(all.length);
      // Only the live session's command still runs.
      await waitFor(() => all.filter(alive).length === 1, { what: 'old commands gone' });
      expect(all.filter(alive)).toEqual([all.at(-1)]);
    } finally {
      await host.close();
    }
    expect(started().filter(alive)).toEqual([]);
  });
});
