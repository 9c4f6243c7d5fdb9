import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Sshd, startSshd } from './sshd.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait.js';

export type KeyKind = 'ed25519' | 'ecdsa' | 'rsa';

export interface UserKey {
  /** Private key file; its certificate, if signed, is `${file}-cert.pub` (OpenSSH's default). */
  readonly file: string;
  readonly certificateFile: string;
  readonly privateKey: Buffer;
  readonly certificate: Buffer;
}

export interface CertificateAuthority extends AsyncDisposable {
  readonly dir: string;
  /** The CA's public key line, for sshd's TrustedUserCAKeys. */
  readonly publicKey: string;
  /**
   * A new key pair for alice signed by this CA with the real `ssh-keygen -s`; `validity` is
   * ssh-keygen's -V (default "-5m:+1h").
   */
  userKey(name: string, kind: KeyKind, validity?: string): UserKey;
  /** Signs `key` again as `identity`, over its `-cert.pub`: what a renewal tool does on disk. */
  renew(key: UserKey, identity: string, validity?: string): void;
}

const KEYGEN_TYPE: Record<KeyKind, string[]> = {
  ed25519: ['-t', 'ed25519'],
  ecdsa: ['-t', 'ecdsa', '-b', '256'],
  rsa: ['-t', 'rsa', '-b', '2048'],
};

/** A user CA made at test time with ssh-keygen, in a temp directory removed on dispose. */
export async function certificateAuthority(): Promise<CertificateAuthority> {
  const scratch = await tempDir('fwd-ca-');
  const dir = scratch.path;
  const keygen = (...args: string[]): void =>
    void execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'ignore' });
  keygen('-t', 'ed25519', '-N', '', '-C', 'fwd-test-ca', '-f', join(dir, 'ca'));
  return {
    dir,
    publicKey: readFileSync(join(dir, 'ca.pub'), 'utf8').trim(),
    userKey(name, kind, validity = '-5m:+1h') {
      const file = join(dir, name);
      keygen(...KEYGEN_TYPE[kind], '-N', '', '-C', name, '-f', file);
      keygen('-s', join(dir, 'ca'), '-I', `${name}@fwd-test`, '-n', 'alice', '-V', validity, `${file}.pub`);
      const certificateFile = `${file}-cert.pub`;
      return {
        file,
        certificateFile,
        privateKey: readFileSync(file),
        certificate: readFileSync(certificateFile),
      };
    },
    renew(key, identity, validity = '-5m:+1h') {
      keygen('-s', join(dir, 'ca'), '-I', identity, '-n', 'alice', '-V', validity, `${key.file}.pub`);
    },
    [Symbol.asyncDispose]: () => scratch[Symbol.asyncDispose](),
  };
}

export interface SshAgent extends AsyncDisposable {
  readonly socket: string;
  /** `ssh-add FILE`: the key, and its -cert.pub when there is one. */
  add(file: string): void;
}

/** A real ssh-agent on a socket in `dir`, killed on dispose. */
export async function sshAgent(dir: string): Promise<SshAgent> {
  const socket = join(dir, `agent-${process.pid}-${Date.now()}.sock`);
  const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  await waitFor(() => existsSync(socket), { what: 'ssh-agent socket' });
  return {
    socket,
    add(file) {
      execFileSync('ssh-add', ['-q', file], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: 'ignore',
      });
    },
    async [Symbol.asyncDispose]() {
      agent.kill();
      await rm(socket, { force: true });
    },
  };
}

/** An sshd (docker/sshd-auth) on which alice has no authorized_keys: only certificates from `ca` log her in. */
export function startCertificateSshd(ca: CertificateAuthority): Promise<Sshd> {
  return startSshd({
    image: 'fwd/sshd-auth',
    environment: { AUTHORIZED_KEYS: '', TRUSTED_USER_CA_KEYS: ca.publicKey },
  });
}
