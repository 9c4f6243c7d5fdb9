import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  blobKeyType,
  fingerprint,
  formatKnownHostsLine,
  hostPatternsMatch,
  knownHostsName,
  parseKnownHosts,
} from './known-hosts-file.js';

// A real ed25519 public key blob (from ssh-keygen), and its fingerprint as `ssh-keygen -lf` prints it.
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAICxjjZD7J9+GT9K1H06CJqxPnZ5LvGUUXkrW0sqYIhTR';
const BLOB = Buffer.from(ED25519, 'base64');

describe('known_hosts parsing', () => {
  it('reads plain, bracketed, marked and commented lines with 1-based line numbers', () => {
    const text = [
      '# comment',
      '',
      `login.example.edu,10.0.0.1 ssh-ed25519 ${ED25519} alice@laptop`,
      `[127.0.0.1]:2222 ssh-ed25519 ${ED25519}`,
      `@revoked * ssh-ed25519 ${ED25519}`,
      `@cert-authority *.example.edu ssh-ed25519 ${ED25519}`,
      'garbage-line-without-key',
      `bad ssh-rsa ${ED25519}`,
    ].join('\n');
    const lines = parseKnownHosts(text, '/k');
    expect(lines.map((l) => [l.line, l.marker, l.hostPatterns])).toEqual([
      [3, undefined, 'login.example.edu,10.0.0.1'],
      [4, undefined, '[127.0.0.1]:2222'],
      [5, 'revoked', '*'],
      [6, 'cert-authority', '*.example.edu'],
    ]);
    expect(lines[0]?.keyBlob.equals(BLOB)).toBe(true);
  });

  it('names hosts as OpenSSH does: bare on 22, [host]:port elsewhere, lower-case', () => {
    expect(knownHostsName('Login.Example.EDU', 22)).toBe('login.example.edu');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('matches globs, negations and hashed entries', () => {
    expect(hostPatternsMatch('*.example.edu', 'login.example.edu')).toBe(true);
    expect(hostPatternsMatch('*.example.edu,!evil.example.edu', 'evil.example.edu')).toBe(false);
    expect(hostPatternsMatch('node?', 'node7')).toBe(true);
    expect(hostPatternsMatch('node?', 'node17')).toBe(false);
    expect(hostPatternsMatch('[127.0.0.1]:*', '[127.0.0.1]:2222')).toBe(true);
    expect(hostPatternsMatch('LOGIN', 'login')).toBe(true);
    const salt = Buffer.from('0123456789abcdefghij');
    const mac = createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64');
    const hashed = `|1|${salt.toString('base64')}|${mac}`;
    expect(hostPatternsMatch(hashed, '[127.0.0.1]:2222')).toBe(true);
    expect(hostPatternsMatch(hashed, '[127.0.0.1]:2223')).toBe(false);
  });

  it('reads key types from blobs and fingerprints like ssh-keygen', () => {
    expect(blobKeyType(BLOB)).toBe('ssh-ed25519');
    expect(blobKeyType(Buffer.from([0, 0, 1, 0]))).toBeUndefined();
    expect(fingerprint(BLOB)).toBe('SHA256:lGuqSudY3QrplBrM0o4TLUFXzQ6kcJRY4UStAx/fVqI');
  });

  it('writes lines that parse back, hashed or not', () => {
    for (const hashed of [false, true]) {
      const line = formatKnownHostsLine('[10.1.2.3]:2200', BLOB, hashed);
      const [parsed] = parseKnownHosts(line, '/k');
      expect(parsed?.keyBlob.equals(BLOB)).toBe(true);
      expect(hostPatternsMatch(parsed?.hostPatterns ?? '', '[10.1.2.3]:2200')).toBe(true);
      expect(line.startsWith('|1|')).toBe(hashed);
    }
  });
});
