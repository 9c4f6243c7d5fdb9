import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAgent, listAgentIdentities } from './agent-client.js';
import { certificateOf } from './certified-key.js';
import { parseCertificate } from './openssh-certificate.js';
import { ssh2 } from './ssh2-adapter.js';

// A real ssh-agent holding keys and certificates added with ssh-add, as a user's would.
const dir = mkdtempSync(join(tmpdir(), 'fwd-agent-'));
const socket = join(dir, 'agent.sock');
const env = { ...process.env, SSH_AUTH_SOCK: socket };
const run = (command: string, ...args: string[]): string =>
  execFileSync(command, args, { env, encoding: 'utf8' });
let agent: ChildProcess;

function keyWithCertificate(name: string, type: string[], validity: string): string {
  const file = join(dir, name);
  run('ssh-keygen', '-q', ...type, '-N', '', '-C', name, '-f', file);
  run(
    'ssh-keygen',
    '-q',
    '-s',
    join(dir, 'ca'),
    '-I',
    `${name}-id`,
    '-n',
    'alice',
    '-V',
    validity,
    `${file}.pub`,
  );
  return file;
}

function list(agentOf: CertificateAgent): Promise<ParsedKey[]> {
  return new Promise((resolve, reject) =>
    agentOf.getIdentities((err, keys) => (err ? reject(err) : resolve(keys ?? []))),
  );
}

function signWith(agentOf: CertificateAgent, key: ParsedKey, data: Buffer, hash?: string): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    agentOf.sign(key, data, { ...(hash ? { hash } : {}) }, (err, signature) =>
      err || !signature ? reject(err) : resolve(signature),
    ),
  );
}

beforeAll(async () => {
  run('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca'));
  agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  for (let i = 0; i < 1000 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
  // ssh-add adds the key, then its -cert.pub as a second identity.
  run('ssh-add', '-q', keyWithCertificate('edkey', ['-t', 'ed25519'], '-1h:+1h'));
  run('ssh-add', '-q', keyWithCertificate('rsakey', ['-t', 'rsa', '-b', '2048'], '-1h:+1h'));
  run('ssh-add', '-q', keyWithCertificate('oldkey', ['-t', 'ecdsa'], '20200101:20200102'));
}, 60_000);
afterAll(() => {
  agent?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('ssh-agent with certificates', () => {
  it('lists keys and certificates in the agent order, as ssh-add -L does', async () => {
    const identities = await listAgentIdentities(socket);
    const listed = run('ssh-add', '-L').trim().split('\n');
    expect(identities.map((i) => i.blob.toString('base64'))).toEqual(listed.map((l) => l.split(' ')[1]));
    expect(identities).toHaveLength(6);
  });

  it('offers valid certificates, leaves out expired ones and says why', async () => {
    const skipped: string[] = [];
    const keys = await list(
      new CertificateAgent(socket, { onSkip: (what, why) => skipped.push(`${what}: ${why}`) }),
    );
    expect(keys.map((k) => String(k.type))).toEqual([
      'ssh-ed25519',
      'ssh-ed25519-cert-v01@openssh.com',
      'ssh-rsa',
      'rsa-sha2-512-cert-v01@openssh.com',
      'ecdsa-sha2-nistp256',
    ]);
    expect(skipped).toEqual([
      expect.stringMatching(/oldkey.*expired at 2020-01-02 00:00:00 UTC \(valid from 2020-01-01/),
    ]);
  });

  it.each([
    ['ssh-ed25519-cert-v01@openssh.com', 'edkey', null],
    ['rsa-sha2-512-cert-v01@openssh.com', 'rsakey', 'sha512'],
  ])('signs with %s so that the plain key verifies it', async (type, name, hash) => {
    const agentOf = new CertificateAgent(socket);
    const key = (await list(agentOf)).find((k) => String(k.type) === type);
    expect(key && certificateOf(key)?.keyId).toBe(`${name}-id`);
    const data = Buffer.from('session id and request');
    const signature = await signWith(agentOf, key as ParsedKey, data);
    const plain = ssh2.utils.parseKey(readFileSync(`${join(dir, name)}.pub`)) as ParsedKey;
    expect(verify(hash, data, createPublicKey(plain.getPublicPEM()), signature)).toBe(true);
  });

  it('with IdentitiesOnly, offers only the identities of the given keys, their certificates included', async () => {
    const edkey = ssh2.utils.parseKey(readFileSync(`${join(dir, 'edkey')}.pub`)) as ParsedKey;
    const keys = await list(new CertificateAgent(socket, { only: [edkey.getPublicSSH()] }));
    expect(keys.map((k) => String(k.type))).toEqual(['ssh-ed25519', 'ssh-ed25519-cert-v01@openssh.com']);
    expect(await list(new CertificateAgent(socket, { only: [] }))).toEqual([]);
  });

  it('signs a plain RSA key with the SHA-2 hash ssh2 asks for', async () => {
    const agentOf = new CertificateAgent(socket);
    const key = (await list(agentOf)).find((k) => k.type === 'ssh-rsa') as ParsedKey;
    const data = Buffer.from('data');
    const signature = await signWith(agentOf, key, data, 'sha256');
    expect(verify('sha256', data, createPublicKey(key.getPublicPEM()), signature)).toBe(true);
  });

  it("pairs the user's own certificate file with its key in the agent, and signs with that key", async () => {
    const file = keyWithCertificate('filekey', ['-t', 'ed25519'], '-1h:+1h');
    execFileSync('ssh-add', ['-q', file], { env, stdio: 'ignore' });
    // The agent now holds its certificate too; remove it so that only the file certifies the key.
    execFileSync('ssh-add', ['-q', '-d', `${file}-cert.pub`], { env, stdio: 'ignore' });
    const cert = parseCertificate(readFileSync(`${file}-cert.pub`), 'filekey-cert.pub');
    const agentOf = new CertificateAgent(socket, { certificates: [cert] });
    const keys = await list(agentOf);
    expect(keys[0] && certificateOf(keys[0])).toBe(cert);
    const data = Buffer.from('data');
    const signature = await signWith(agentOf, keys[0] as ParsedKey, data);
    const plain = ssh2.utils.parseKey(readFileSync(`${file}.pub`)) as ParsedKey;
    expect(verify(null, data, createPublicKey(plain.getPublicPEM()), signature)).toBe(true);
  });

  it('reports an agent that is not there', async () => {
    await expect(listAgentIdentities(join(dir, 'nothing.sock'))).rejects.toThrow(
      /ssh-agent at .*nothing\.sock/,
    );
  });
});
