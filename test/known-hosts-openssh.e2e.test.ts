import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knownHosts } from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// HashKnownHosts: what fwd records must be what OpenSSH finds, and the reverse (issue 17.8).
// The oracle is the real ssh-keygen on this machine; no network.

const keygen = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' });
if (keygen.error && process.env.CI) throw new Error(`ssh-keygen is needed: ${keygen.error.message}`);

describe.skipIf(keygen.error !== undefined)('known_hosts hashing matches OpenSSH ssh-keygen', () => {
  let dir: string;
  const keys: Buffer[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fwd-known-hosts-openssh-'));
    for (const n of [1, 2, 3]) {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, `key${n}`)]);
      const pub = readFileSync(join(dir, `key${n}.pub`), 'utf8').split(' ')[1] as string;
      keys.push(Buffer.from(pub, 'base64'));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `ssh-keygen -F name -f file`: the key of the line OpenSSH finds for `name`, or undefined. */
  const find = (file: string, name: string): string | undefined => {
    const run = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
    if (run.status !== 0) return undefined;
    return run.stdout
      .split('\n')
      .find((l) => !l.startsWith('#') && l.trim() !== '')
      ?.split(' ')[2];
  };

  it('ssh-keygen -F finds the hashed entries fwd records, for port 22, another port and a HostKeyAlias', async () => {
    const file = join(dir, 'recorded');
    const [a, b, c] = keys as [Buffer, Buffer, Buffer];
    const policy = knownHosts({ mode: 'accept-new', files: [file], globalFiles: [], hashNewEntries: true });
    await policy.verify('Login.Example.ORG', 22, a);
    await policy.verify('10.0.0.9', 2222, b);
    const aliased = knownHosts({
      mode: 'accept-new',
      files: [file],
      globalFiles: [],
      hashNewEntries: true,
      hostKeyAlias: 'cluster-alias',
    });
    await aliased.verify('10.0.0.10', 2200, c);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toMatch(/example|10\.0\.0|alias/);
    expect(find(file, 'login.example.org')).toBe(a.toString('base64'));
    expect(find(file, '[10.0.0.9]:2222')).toBe(b.toString('base64'));
    expect(find(file, 'cluster-alias')).toBe(c.toString('base64'));
    expect(find(file, '10.0.0.9')).toBeUndefined();
    expect(find(file, 'other.example.org')).toBeUndefined();
  });

  it('trusts entries that ssh-keygen -H hashed', async () => {
    const file = join(dir, 'hashed-by-openssh');
    const [a, b] = keys as [Buffer, Buffer];
    writeFileSync(
      file,
      `login.example.org ssh-ed25519 ${a.toString('base64')}\n[10.0.0.9]:2222 ssh-ed25519 ${b.toString('base64')}\n`,
    );
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).not.toContain('example');
    const strict = knownHosts({ mode: 'strict', files: [file], globalFiles: [] });
    await expect(strict.verify('login.example.org', 22, a)).resolves.toBeUndefined();
    await expect(strict.verify('10.0.0.9', 2222, b)).resolves.toBeUndefined();
    await expect(strict.verify('10.0.0.9', 2222, a)).rejects.toMatchObject({ code: 'HOST_KEY_CHANGED' });
  });
});
