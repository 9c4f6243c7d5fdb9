import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FwdError } from './errors.js';
import { knownHosts } from './host-keys.js';

/** An ssh-ed25519 public key blob with a random key: the format is all known_hosts checks. */
function ed25519Blob(): Buffer {
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([part(Buffer.from('ssh-ed25519')), part(randomBytes(32))]);
}
const line = (name: string, blob: Buffer) => `${name} ssh-ed25519 ${blob.toString('base64')}\n`;
const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof FwdError ? err.code : String(err)),
  );

let dir: string;
let user: string;
let global: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fwd-host-keys-'));
  user = join(dir, 'known_hosts');
  global = join(dir, 'ssh_known_hosts');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('knownHosts accept-new', () => {
  it('records a new key in the first user file only, never in a global one', async () => {
    writeFileSync(global, '');
    const key = ed25519Blob();
    await knownHosts({
      mode: 'accept-new',
      files: [user, join(dir, 'second')],
      globalFiles: [global],
    }).verify('login.example.org', 22, key);
    expect(readFileSync(user, 'utf8')).toBe(line('login.example.org', key));
    expect(readFileSync(global, 'utf8')).toBe('');
  });

  it('with UserKnownHostsFile none records nothing, says so, and still checks the global file (issue 17.5)', async () => {
    const published = ed25519Blob();
    writeFileSync(global, line('node1', published));
    const warnings: string[] = [];
    const policy = knownHosts({
      mode: 'accept-new',
      files: [],
      globalFiles: [global],
      warn: (m) => warnings.push(m),
    });
    await policy.verify('new.example.org', 22, ed25519Blob());
    expect(warnings).toEqual([
      expect.stringMatching(
        /^accepted the unknown host key of new\.example\.org \(ssh-ed25519 SHA256:.*\) without recording it: there is no user known_hosts file/,
      ),
    ]);
    expect(readFileSync(global, 'utf8')).toBe(line('node1', published));
    expect(await code(policy.verify('node1', 22, published))).toBe('ok');
    expect(await code(policy.verify('node1', 22, ed25519Blob()))).toBe('HOST_KEY_CHANGED');
  });

  it('with /dev/null (StrictHostKeyChecking no) keeps published keys working and refuses a changed one (issue 17.7)', async () => {
    const published = ed25519Blob();
    writeFileSync(global, line('node*', published));
    const warnings: string[] = [];
    const policy = knownHosts({
      mode: 'accept-new',
      files: ['/dev/null'],
      globalFiles: [global],
      warn: (m) => warnings.push(m),
    });
    expect(await code(policy.verify('node7', 22, published))).toBe('ok');
    expect(await code(policy.verify('node7', 22, ed25519Blob()))).toBe('HOST_KEY_CHANGED');
    expect(warnings).toEqual([]);
    expect(await code(policy.verify('elsewhere', 22, ed25519Blob()))).toBe('ok');
    expect(warnings).toEqual([
      expect.stringMatching(/elsewhere .* without recording it: \/dev\/null keeps nothing/),
    ]);
  });

  it('records one key when two first connections with different keys verify at once; the other is refused (issue 17.6)', async () => {
    const [a, b] = [ed25519Blob(), ed25519Blob()];
    const first = knownHosts({ mode: 'accept-new', files: [user], globalFiles: [] });
    const second = knownHosts({ mode: 'accept-new', files: [user], globalFiles: [] });
    // Which one wins depends on which enters the queue first; exactly one does, either way.
    const outcomes = await Promise.all([
      code(first.verify('race.example.org', 22, a)),
      code(second.verify('race.example.org', 22, b)),
    ]);
    expect([...outcomes].sort()).toEqual(['HOST_KEY_CHANGED', 'ok']);
    const recorded = readFileSync(user, 'utf8').trim().split('\n');
    expect(recorded).toHaveLength(1);
    const [winner, loser] = outcomes[0] === 'ok' ? [a, b] : [b, a];
    expect(await code(first.verify('race.example.org', 22, winner))).toBe('ok');
    expect(await code(second.verify('race.example.org', 22, loser))).toBe('HOST_KEY_CHANGED');
  });

  it('takes over a lock left by a process that died while writing', async () => {
    writeFileSync(`${user}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${user}.lock`, old, old);
    const key = ed25519Blob();
    await knownHosts({ mode: 'accept-new', files: [user], globalFiles: [] }).verify('h', 2222, key);
    expect(readFileSync(user, 'utf8')).toBe(line('[h]:2222', key));
  });

  it('hashes new entries when asked (HashKnownHosts) and finds them again', async () => {
    const key = ed25519Blob();
    const policy = knownHosts({ mode: 'accept-new', files: [user], globalFiles: [], hashNewEntries: true });
    await policy.verify('Login.Example.ORG', 2222, key);
    const text = readFileSync(user, 'utf8');
    expect(text).toMatch(/^\|1\|[A-Za-z0-9+/=]{28}\|[A-Za-z0-9+/=]{28} ssh-ed25519 /);
    expect(text).not.toContain('example');
    const strict = knownHosts({ mode: 'strict', files: [user], globalFiles: [] });
    expect(await code(strict.verify('login.example.org', 2222, key))).toBe('ok');
  });
});
