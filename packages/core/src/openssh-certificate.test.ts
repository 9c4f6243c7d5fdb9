import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publicKeyOfPrivateKey } from './certified-key.js';
import {
  certificateProblem,
  describeValidity,
  looksLikeCertificate,
  parseCertificate,
} from './openssh-certificate.js';

// The oracle is OpenSSH itself: certificates made by `ssh-keygen -s`, fields read back with `-L`.
const dir = mkdtempSync(join(tmpdir(), 'fwd-cert-'));
const env = { ...process.env, TZ: 'UTC' };
const keygen = (...args: string[]): string => execFileSync('ssh-keygen', args, { env, encoding: 'utf8' });
keygen('-q', '-t', 'ed25519', '-N', '', '-C', 'ca', '-f', join(dir, 'ca'));

function certify(name: string, type: string[], sign: string[]): { key: string; cert: string } {
  const key = join(dir, name);
  keygen('-q', ...type, '-N', '', '-C', name, '-f', key);
  keygen('-q', '-s', join(dir, 'ca'), ...sign, `${key}.pub`);
  return { key, cert: `${key}-cert.pub` };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OpenSSH certificates', () => {
  const kinds: Array<[string, string[], string]> = [
    ['ed25519', ['-t', 'ed25519'], 'ssh-ed25519'],
    ['ecdsa256', ['-t', 'ecdsa', '-b', '256'], 'ecdsa-sha2-nistp256'],
    ['ecdsa384', ['-t', 'ecdsa', '-b', '384'], 'ecdsa-sha2-nistp384'],
    ['ecdsa521', ['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521'],
    ['rsa', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa'],
  ];

  it.each(kinds)('reads a %s certificate as ssh-keygen -L does', (name, type, keyType) => {
    const { key, cert } = certify(name, type, [
      '-I',
      `${name}@test`,
      '-n',
      'alice,bob',
      '-z',
      '42',
      '-V',
      '20200101:20200102',
    ]);
    const text = readFileSync(cert);
    expect(looksLikeCertificate(text)).toBe(true);
    const parsed = parseCertificate(text, cert);
    const listed = keygen('-L', '-f', cert);
    expect(listed).toContain(`Type: ${parsed.type} user certificate`);
    expect(parsed.keyType).toBe(keyType);
    expect(parsed.kind).toBe('user');
    expect(parsed.keyId).toBe(`${name}@test`);
    expect(parsed.serial).toBe(42n);
    expect(parsed.principals).toEqual(['alice', 'bob']);
    expect(parsed.extensions).toContain('permit-port-forwarding');
    expect(listed).toContain('Valid: from 2020-01-01T00:00:00 to 2020-01-02T00:00:00');
    expect(describeValidity(parsed)).toBe('from 2020-01-01 00:00:00 UTC to 2020-01-02 00:00:00 UTC');
    // The certified key is the key pair's public half, byte for byte, read without decrypting.
    const pub = readFileSync(`${key}.pub`, 'utf8').split(' ')[1] ?? '';
    expect(parsed.publicKey.equals(Buffer.from(pub, 'base64'))).toBe(true);
    expect(publicKeyOfPrivateKey(readFileSync(key))?.equals(parsed.publicKey)).toBe(true);
    // The binary blob (as an agent lists it) reads the same.
    expect(parseCertificate(parsed.blob, 'blob')).toMatchObject({ keyId: parsed.keyId, serial: 42n });
  });

  it('finds the public half of an encrypted key without its passphrase', () => {
    const key = join(dir, 'encrypted');
    keygen('-q', '-t', 'ed25519', '-N', 'secret', '-f', key);
    const pub = readFileSync(`${key}.pub`, 'utf8').split(' ')[1] ?? '';
    expect(publicKeyOfPrivateKey(readFileSync(key))?.equals(Buffer.from(pub, 'base64'))).toBe(true);
  });

  it('says when a certificate is expired, not yet valid, or a host certificate', () => {
    const { cert } = certify('expiring', ['-t', 'ed25519'], ['-I', 'x', '-V', '20200101:20200102']);
    const parsed = parseCertificate(readFileSync(cert), cert);
    const at = (iso: string): number => Date.parse(iso);
    expect(certificateProblem(parsed, at('2020-01-01T12:00:00Z'))).toBeUndefined();
    expect(certificateProblem(parsed, at('2020-01-01T00:00:00Z'))).toBeUndefined();
    expect(certificateProblem(parsed, at('2020-01-02T00:00:00Z'))).toBe(
      'expired at 2020-01-02 00:00:00 UTC (valid from 2020-01-01 00:00:00 UTC to 2020-01-02 00:00:00 UTC)',
    );
    expect(certificateProblem(parsed, at('2019-12-31T23:59:59Z'))).toMatch(/^is not valid yet \(valid from /);

    const forever = certify('forever', ['-t', 'ed25519'], ['-I', 'x', '-V', 'always:forever']);
    const always = parseCertificate(readFileSync(forever.cert), forever.cert);
    expect(describeValidity(always)).toBe('forever');
    expect(keygen('-L', '-f', forever.cert)).toContain('Valid: forever');
    expect(certificateProblem(always, Date.now())).toBeUndefined();

    const host = certify('host', ['-t', 'ed25519'], ['-I', 'x', '-h']);
    expect(certificateProblem(parseCertificate(readFileSync(host.cert), host.cert), Date.now())).toBe(
      'is a host certificate, not a user certificate',
    );
  });

  it('refuses what is not a certificate with CONFIG_INVALID naming the file', () => {
    const plain = readFileSync(join(dir, 'ca.pub'));
    expect(looksLikeCertificate(plain)).toBe(false);
    expect(() => parseCertificate(plain, '~/.ssh/ca.pub')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('~/.ssh/ca.pub') }),
    );
    const { cert } = certify('cut', ['-t', 'ed25519'], ['-I', 'x']);
    const [type, data] = readFileSync(cert, 'utf8').split(' ');
    const truncated = `${type} ${Buffer.from(data ?? '', 'base64')
      .subarray(0, 60)
      .toString('base64')}`;
    expect(() => parseCertificate(truncated, 'cut-cert.pub')).toThrow(/not a valid OpenSSH certificate/);
  });
});
