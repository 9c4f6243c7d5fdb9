import { type ConnectOptions, connect } from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  certificateAuthority,
  type KeyKind,
  sshAgent,
  startCertificateSshd,
  type UserKey,
} from './support/certificates.js';
import { skipWithoutDocker } from './support/docker.js';
import { type Sshd, sshdConnectOptions } from './support/sshd.js';

// alice has no authorized_keys on this server: only a certificate from the test CA logs her in.
describe.skipIf(skipWithoutDocker)('OpenSSH user certificates (sshd with TrustedUserCAKeys)', () => {
  let ca: CertificateAuthority;
  let sshd: Sshd;

  beforeAll(async () => {
    ca = await certificateAuthority();
    sshd = await startCertificateSshd(ca);
  });
  afterAll(async () => {
    await sshd?.[Symbol.asyncDispose]();
    await ca?.[Symbol.asyncDispose]();
  });

  const base = (overrides: Partial<ConnectOptions>): ConnectOptions => sshdConnectOptions(sshd, overrides);

  /** The key and the certificate named apart (CertificateFile), each labelled by its file. */
  const withCertificateFile = (user: UserKey): Partial<ConnectOptions> => ({
    privateKey: [{ key: user.privateKey, label: user.file }],
    certificates: [{ certificate: user.certificate, label: user.certificateFile }],
  });

  const kinds: KeyKind[] = ['ed25519', 'ecdsa', 'rsa'];

  it.each(kinds)(
    '%s: logs in with the certificate file named by the user (CertificateFile)',
    async (kind) => {
      const user = ca.userKey(`named-${kind}`, kind);
      await using ssh = await connect(base(withCertificateFile(user)));
      expect(await ssh.exec('id -un')).toMatchObject({ code: 0, stdout: 'alice\n' });
      const log = await sshd.sshdLog();
      const algorithm = kind === 'rsa' ? 'RSA-CERT' : kind === 'ecdsa' ? 'ECDSA-CERT' : 'ED25519-CERT';
      expect(log).toMatch(
        new RegExp(`Accepted publickey for alice .* ${algorithm} SHA256:\\S+ ID named-${kind}@fwd-test`),
      );
    },
  );

  it.each(kinds)('%s: logs in with the -cert.pub next to the key', async (kind) => {
    const user = ca.userKey(`beside-${kind}`, kind);
    await using ssh = await connect(
      base({
        privateKey: [
          {
            key: user.privateKey,
            label: user.file,
            certificate: { certificate: user.certificate, label: user.certificateFile },
          },
        ],
      }),
    );
    expect(ssh.alive).toBe(true);
    expect(await sshd.sshdLog()).toContain(`ID beside-${kind}@fwd-test`);
  });

  it.each(kinds)('%s: logs in with a certificate held by ssh-agent (ssh-add)', async (kind) => {
    const user = ca.userKey(`agent-${kind}`, kind);
    await using agent = await sshAgent(ca.dir);
    agent.add(user.file);
    await using ssh = await connect(base({ agent: agent.socket }));
    expect(ssh.alive).toBe(true);
    expect(await sshd.sshdLog()).toContain(`ID agent-${kind}@fwd-test`);
  });

  it("logs in with the user's certificate file whose private key is only in ssh-agent", async () => {
    const user = ca.userKey('agent-key-only', 'ed25519');
    await using agent = await sshAgent(ca.dir);
    agent.add(user.file);
    // Keep only the plain key in the agent: the certificate comes from the file.
    const { execFileSync } = await import('node:child_process');
    execFileSync('ssh-add', ['-q', '-d', user.certificateFile], {
      env: { ...process.env, SSH_AUTH_SOCK: agent.socket },
    });
    await using ssh = await connect(
      base({
        agent: agent.socket,
        certificates: [{ certificate: user.certificate, label: user.certificateFile }],
      }),
    );
    expect(ssh.alive).toBe(true);
  });

  it('refuses an expired certificate before connecting, naming its validity window', async () => {
    const user = ca.userKey('expired', 'ed25519', '20200101:20200102');
    const before = await sshd.sshdLog();
    const error = await connect(base(withCertificateFile(user))).catch((e) => e);
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(
      `certificate ${user.certificateFile} (expired at 2020-01-02 00:00:00 UTC (valid from 2020-01-01 00:00:00 UTC to 2020-01-02 00:00:00 UTC))`,
    );
    // Nothing reached the server: not even a TCP connection is logged.
    expect((await sshd.sshdLog()).slice(before.length)).toBe('');
  });

  it('refuses a certificate that is not valid yet, naming its validity window', async () => {
    const user = ca.userKey('future', 'ecdsa', '+1d:+2d');
    const error = await connect(base(withCertificateFile(user))).catch((e) => e);
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toMatch(/is not valid yet \(valid from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to /);
  });

  it('fails with AUTH_FAILED for the same user without the certificate', async () => {
    const user = ca.userKey('nocert', 'ed25519');
    const error = await connect(base({ privateKey: [{ key: user.privateKey, label: user.file }] })).catch(
      (e) => e,
    );
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(`tried publickey ${user.file}`);
  });

  it('fails with AUTH_FAILED, saying what to check, for a certificate from another CA', async () => {
    await using other = await certificateAuthority();
    const user = other.userKey('stranger', 'ed25519');
    const error = await connect(base(withCertificateFile(user))).catch((e) => e);
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain(`certificate ${user.certificateFile}`);
    expect(error.message).toContain('the server trusts its CA (TrustedUserCAKeys)');
  });
});
