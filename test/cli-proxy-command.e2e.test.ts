import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { isUp, listenAddress, runFwd, startFwd } from './support/fwd-cli.js';
import { httpGet } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, startSshdNetwork, TARGETS } from './support/sshd.js';

// fwd with the same ~/.ssh/config as ssh: the target's port 22 is not published, only the hop
// container (same Docker network) reaches it; the real OpenSSH client runs `ssh -W %h:%p`.
describe.skipIf(skipWithoutDocker)('fwd up through a ProxyCommand', () => {
  let servers: AsyncDisposable | undefined;
  let hop: Sshd;
  let target: Sshd;
  let home: SshHome;

  beforeAll(async () => {
    const started = await startSshdNetwork([{ alias: 'hop' }, { alias: 'target', publish: false }]);
    servers = started;
    [hop, target] = started.sshds;
    home = await sshHome(hop, '', [`target ${target.hostKey.publicKey}`, `bastion ${hop.hostKey.publicKey}`]);
    // ssh finds ~ through the password database, not $HOME: give it this home's files by path.
    const ssh = `${home.dir}/.ssh`;
    await home.write(
      '.ssh/config',
      [
        'Host hop',
        '  HostName 127.0.0.1',
        `  Port ${hop.port}`,
        '  User alice',
        `  IdentityFile ${ssh}/id_ed25519`,
        `  UserKnownHostsFile ${ssh}/known_hosts`,
        'Host target',
        '  User alice',
        // The real ssh, reading the same config file.
        `  ProxyCommand ssh -F ${ssh}/config -o BatchMode=yes -W %h:%p hop`,
        'Host bastion',
        '  HostName 127.0.0.1',
        '  User alice',
        '  HostKeyAlias bastion',
        `  ProxyCommand nc %h ${hop.port}`,
        'Host behind',
        '  HostName target',
        '  User alice',
        '  ProxyJump bastion',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await home?.[Symbol.asyncDispose]();
    await servers?.[Symbol.asyncDispose]();
  });

  it('reaches the target through `ProxyCommand ssh -W %h:%p hop` from ~/.ssh/config; HTTP flows', async () => {
    const file = await home.write(
      'proxy.yaml',
      `version: 1\ntunnels:\n  web: { host: target, local: "0:127.0.0.1:${TARGETS.http}" }\n`,
    );
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const up = await fwd.waitForEvent(isUp('web'), 30_000);
    const response = await httpGet(listenAddress(up), '/through-proxy');
    expect(response.body).toContain('"path": "/through-proxy"');
    const hostname = (await target.exec(['cat', '/etc/hostname'])).output.trim();
    expect(response.body).toContain(hostname);
  });

  it('runs `transport: { type: command }` from tunnels.yaml (a plain nc), and fwd check shows it without running it', async () => {
    const marker = `${home.dir}/ran`;
    const file = await home.write(
      'command.yaml',
      [
        'version: 1',
        'hosts:',
        '  via-nc:',
        '    host: 127.0.0.1',
        `    port: ${hop.port}`,
        '    user: alice',
        `    transport: { type: command, command: "sh -c 'touch ${marker}; exec nc %h %p'" }`,
        'tunnels:',
        `  web: { host: via-nc, local: "0:127.0.0.1:${TARGETS.http}" }`,
        '',
      ].join('\n'),
    );
    const check = await runFwd(['check', file], { home: home.dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(
      `ProxyCommand sh -c 'touch ${marker}; exec nc %h %p' (run by fwd up, not by check)`,
    );
    const { existsSync } = await import('node:fs');
    expect(existsSync(marker)).toBe(false);

    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const up = await fwd.waitForEvent(isUp('web'), 30_000);
    expect((await httpGet(listenAddress(up), '/nc')).body).toContain('"path": "/nc"');
    expect(existsSync(marker)).toBe(true);
  });

  it('uses a ProxyCommand on the first hop of a ProxyJump chain', async () => {
    const file = await home.write(
      'chain.yaml',
      `version: 1\ntunnels:\n  web: { host: behind, local: "0:127.0.0.1:${TARGETS.http}" }\n`,
    );
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const up = await fwd.waitForEvent(isUp('web'), 30_000);
    const hostname = (await target.exec(['cat', '/etc/hostname'])).output.trim();
    expect((await httpGet(listenAddress(up), '/chain')).body).toContain(hostname);
  });

  it('says what the command printed when it exits at once, and keeps retrying (the network may come back)', async () => {
    const file = await home.write(
      'broken.yaml',
      [
        'version: 1',
        'hosts:',
        '  broken:',
        '    host: target',
        '    user: alice',
        `    transport: { type: command, command: "ssh -F ${home.dir}/.ssh/config -o BatchMode=yes -W no-such-host.invalid:%p hop" }`,
        'tunnels:',
        '  web: { host: broken, local: "0:127.0.0.1:8080" }',
        '',
      ].join('\n'),
    );
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const event = await fwd.waitForEvent(
      (e) => e.event === 'host' && (e.error as { code?: string } | undefined)?.code === 'CONNECT_FAILED',
      30_000,
    );
    const message = (event.error as { message: string }).message;
    expect(message).toMatch(/^ProxyCommand "ssh .*" exited with status 255 before the SSH server answered: /);
    expect(message).toContain('stdio forwarding failed');
    expect(event.state).toBe('connecting');
  });
});
