import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  certificateAuthority,
  sshAgent,
  startCertificateSshd,
  type UserKey,
} from './support/certificates.js';
import { skipWithoutDocker } from './support/docker.js';
import { isUp, listenAddress, startFwd } from './support/fwd-cli.js';
import { httpGet } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import type { Sshd } from './support/sshd.js';
import { waitFor } from './support/wait.js';

const HTTP = 8080; // docker/sshd-auth serves "fwd-auth ok" on the server's 127.0.0.1:8080

// alice has no authorized_keys: only certificates from the test CA log her in. The same
// ~/.ssh/config is given to the real ssh first (the oracle), then to fwd.
describe.skipIf(skipWithoutDocker)('fwd up with OpenSSH user certificates', () => {
  let ca: CertificateAuthority;
  let sshd: Sshd;
  let home: SshHome;
  let named: UserKey;
  let beside: UserKey;
  let expired: UserKey;

  beforeAll(async () => {
    ca = await certificateAuthority();
    sshd = await startCertificateSshd(ca);
    named = ca.userKey('named', 'ecdsa');
    beside = ca.userKey('beside', 'ed25519');
    expired = ca.userKey('expired', 'ed25519', '20200101:20200102');
    home = await sshHome(sshd, '');
    const common = ['  HostName 127.0.0.1', `  Port ${sshd.port}`, '  User alice', '  IdentitiesOnly yes'];
    await home.write(
      '.ssh/config',
      [
        'Host named',
        ...common,
        `  IdentityFile ${named.file}`,
        `  CertificateFile ${named.certificateFile}`,
        'Host beside',
        ...common,
        `  IdentityFile ${beside.file}`,
        'Host old',
        ...common,
        `  IdentityFile ${expired.file}`,
        `  CertificateFile ${expired.certificateFile}`,
        'Host plain',
        ...common,
        `  IdentityFile ${home.keyFile}`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await home?.[Symbol.asyncDispose]();
    await sshd?.[Symbol.asyncDispose]();
    await ca?.[Symbol.asyncDispose]();
  });

  /** HOME/NAME.yaml: host NAME logs in with `key` and its certificateFile; tunnel `web` to the HTTP target. */
  const yamlWithCertificate = (name: string, key: UserKey): Promise<string> =>
    home.write(
      `${name}.yaml`,
      [
        'version: 1',
        'hosts:',
        `  ${name}:`,
        '    host: 127.0.0.1',
        `    port: ${sshd.port}`,
        '    user: alice',
        `    identityFile: ${key.file}`,
        `    certificateFile: ${key.certificateFile}`,
        'tunnels:',
        `  web: { host: ${name}, local: "0:127.0.0.1:${HTTP}" }`,
        '',
      ].join('\n'),
    );

  /** Kills alice's sshd processes: fwd's session drops as it does when the network fails. */
  const dropSession = async (): Promise<void> => {
    expect((await sshd.exec(['pkill', '-KILL', '-u', 'alice', '-x', 'sshd'])).exitCode).toBe(0);
  };

  const ssh = (host: string): string =>
    execFileSync(
      'ssh',
      [
        '-F',
        `${home.dir}/.ssh/config`,
        '-o',
        `UserKnownHostsFile=${home.knownHostsFile}`,
        '-o',
        'BatchMode=yes',
        host,
        'id -un',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 },
    );

  it.each(['named', 'beside'])(
    '%s: logs in where ssh does with the same ~/.ssh/config; HTTP flows',
    async (host) => {
      expect(ssh(host)).toBe('alice\n');
      const file = await home.write(
        `${host}.yaml`,
        `version: 1\ntunnels:\n  web: { host: ${host}, local: "0:127.0.0.1:${HTTP}" }\n`,
      );
      await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
      const up = await fwd.waitForEvent(isUp('web'), 30_000);
      expect((await httpGet(listenAddress(up), '/')).body).toContain('fwd-auth ok');
      expect(await sshd.sshdLog()).toContain(`ID ${host}@fwd-test`);
    },
  );

  it('takes certificateFile: from tunnels.yaml', async () => {
    const key = ca.userKey('yaml', 'rsa');
    const file = await yamlWithCertificate('cert-host', key);
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const up = await fwd.waitForEvent(isUp('web'), 30_000);
    expect((await httpGet(listenAddress(up), '/')).body).toContain('fwd-auth ok');
    expect(await sshd.sshdLog()).toContain('ID yaml@fwd-test');
  });

  it('offers the certificate as it is on disk at each login: one renewed while fwd runs is used after a reconnect', async () => {
    const key = ca.userKey('renew', 'ed25519');
    const file = await yamlWithCertificate('renewing', key);
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    await fwd.waitForEvent(isUp('web'), 30_000);
    expect(await sshd.sshdLog()).toContain('ID renew@fwd-test');
    // A renewal tool rewrites the file; then the session drops (network, sshd restart, ...).
    ca.renew(key, 'renewed@fwd-test');
    const seen = fwd.events.length;
    await dropSession();
    // The reconnect logs in with the renewed certificate (the old one is still valid: only the
    // file tells them apart), and the tunnel is up again on it.
    await waitFor(async () => (await sshd.sshdLog()).includes('ID renewed@fwd-test'), {
      timeoutMs: 30_000,
      what: 'a login with the renewed certificate',
    });
    const again = await fwd.waitForEvent((e) => fwd.events.indexOf(e) >= seen && isUp('web')(e), 30_000);
    expect((await httpGet(listenAddress(again), '/')).body).toContain('fwd-auth ok');
  });

  it('keeps reconnecting while its certificate has run out, and is back once it is renewed', async () => {
    const key = ca.userKey('lapse', 'ed25519');
    const file = await yamlWithCertificate('lapsing', key);
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    await fwd.waitForEvent(isUp('web'), 30_000);
    // The certificate on disk runs out (an expired one stands for it), then the session drops.
    ca.renew(key, 'lapsed@fwd-test', '20200101:20200102');
    await dropSession();
    const waiting = await fwd.waitForEvent(
      (e) =>
        e.event === 'host' &&
        e.state === 'reconnecting' &&
        (e.error as { code?: string } | undefined)?.code === 'AUTH_FAILED',
      30_000,
    );
    expect((waiting.error as { message: string }).message).toContain('get a new certificate from your CA');
    const seen = fwd.events.length;
    ca.renew(key, 'back@fwd-test');
    const back = await fwd.waitForEvent((e) => fwd.events.indexOf(e) >= seen && isUp('web')(e), 60_000);
    expect((await httpGet(listenAddress(back), '/')).body).toContain('fwd-auth ok');
    expect(await sshd.sshdLog()).toContain('ID back@fwd-test');
    expect(fwd.events.some((e) => e.state === 'failed')).toBe(false);
  });

  it('logs in with the certificate ssh-agent holds (SSH_AUTH_SOCK)', async () => {
    const key = ca.userKey('agent', 'ed25519');
    await using agent = await sshAgent(ca.dir);
    agent.add(key.file);
    const file = await home.write(
      'agent.yaml',
      `version: 1\ntunnels:\n  web: { host: alice@127.0.0.1:${sshd.port}, local: "0:127.0.0.1:${HTTP}" }\n`,
    );
    await using fwd = startFwd(['up', file, '--json'], {
      home: home.dir,
      env: { SSH_AUTH_SOCK: agent.socket },
    });
    const up = await fwd.waitForEvent(isUp('web'), 30_000);
    expect((await httpGet(listenAddress(up), '/')).body).toContain('fwd-auth ok');
    expect(await sshd.sshdLog()).toContain('ID agent@fwd-test');
  });

  it('fails AUTH_FAILED, naming the validity window, for an expired CertificateFile, before connecting', async () => {
    const file = await home.write(
      'old.yaml',
      `version: 1\ntunnels:\n  web: { host: old, local: "0:127.0.0.1:${HTTP}" }\n`,
    );
    const before = await sshd.sshdLog();
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const failed = await fwd.waitForEvent((e) => e.event === 'tunnel' && e.state === 'failed', 30_000);
    expect(failed.error).toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining(
        `certificate ${expired.certificateFile} (expired at 2020-01-02 00:00:00 UTC (valid from 2020-01-01 00:00:00 UTC to 2020-01-02 00:00:00 UTC))`,
      ),
    });
    expect(await fwd.exited).toBe(1);
    expect((await sshd.sshdLog()).slice(before.length)).toBe('');
  });

  it('fails AUTH_FAILED for the same user without a certificate, as ssh does', async () => {
    expect(() => ssh('plain')).toThrow(/Permission denied/);
    const file = await home.write(
      'plain.yaml',
      `version: 1\ntunnels:\n  web: { host: plain, local: "0:127.0.0.1:${HTTP}" }\n`,
    );
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const failed = await fwd.waitForEvent((e) => e.event === 'tunnel' && e.state === 'failed', 30_000);
    expect(failed.error).toMatchObject({ code: 'AUTH_FAILED' });
    expect(await fwd.exited).toBe(1);
  });
});
