import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ConnectOptions,
  connect,
  FwdError,
  knownHosts,
  nativeCryptoAvailable,
  tcpTransport,
} from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sshAgent } from './support/certificates.js';
import { skipWithoutDocker } from './support/docker.js';
import { newKeyPair } from './support/keys.js';
import { keyLoginOptions, type Sshd, startSshd } from './support/sshd.js';
import { waitFor } from './support/wait.js';

describe.skipIf(skipWithoutDocker)('authentication and host keys against OpenSSH', () => {
  let sshd: Sshd;
  let dir: string;

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(join(tmpdir(), 'fwd-auth-'));
  });
  afterAll(async () => {
    await sshd?.[Symbol.asyncDispose]();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const base = (overrides: Partial<ConnectOptions> = {}): ConnectOptions => keyLoginOptions(sshd, overrides);

  it('uses the native crypto binding (AES-GCM in C, not JS)', () => {
    expect(nativeCryptoAvailable()).toBe(true);
  });

  it('connects with a key and runs a command', async () => {
    await using ssh = await connect(base());
    const result = await ssh.exec('id -un');
    expect(result).toMatchObject({ code: 0, stdout: 'alice\n' });
  });

  it('refuses an unknown host in strict mode with HOST_KEY_UNKNOWN and the fingerprint', async () => {
    const empty = join(dir, 'empty_known_hosts');
    await writeFile(empty, '');
    const error = await connect(base({ hostKeys: knownHosts({ files: [empty], globalFiles: [] }) })).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(FwdError);
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toContain(`[127.0.0.1]:${sshd.port}`);
    expect(error.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
  });

  it('refuses a changed host key with HOST_KEY_CHANGED before sending any authentication', async () => {
    const file = join(dir, 'changed_known_hosts');
    await writeFile(file, `# comment\n[127.0.0.1]:${sshd.port} ${newKeyPair().publicKey}\n`);
    const before = await sshd.sshdLog();
    const password = vi.fn(async () => 'alice-password');
    const error = await connect(
      base({ hostKeys: knownHosts({ files: [file], globalFiles: [] }), password, privateKey: [] }),
    ).catch((e) => e);
    expect(error.code).toBe('HOST_KEY_CHANGED');
    expect(error.message).toContain(`line 2 of ${file}`);
    expect(password).not.toHaveBeenCalled();
    const after = (
      await waitFor(async () => {
        const log = await sshd.sshdLog();
        return log.length > before.length && /preauth/.test(log.slice(before.length)) ? log : undefined;
      })
    ).slice(before.length);
    expect(after).not.toMatch(/Failed|Accepted|Postponed|userauth/i);
  });

  it('accept-new records the key in a line OpenSSH itself finds, then strict mode trusts it', async () => {
    const file = join(dir, 'new_known_hosts');
    await using first = await connect(
      base({ hostKeys: knownHosts({ mode: 'accept-new', files: [file], globalFiles: [] }) }),
    );
    expect(first.alive).toBe(true);
    const text = await readFile(file, 'utf8');
    expect(text).toBe(`${sshd.knownHostsLine}\n`);
    const found = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', file]).toString();
    expect(found).toContain(sshd.hostKey.publicKey);
    await using second = await connect(base({ hostKeys: knownHosts({ files: [file], globalFiles: [] }) }));
    expect(second.alive).toBe(true);
  });

  it('matches hashed known_hosts entries written by ssh-keygen -H', async () => {
    const file = join(dir, 'hashed_known_hosts');
    await writeFile(file, `${sshd.knownHostsLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(await readFile(file, 'utf8')).toMatch(/^\|1\|/);
    await using ssh = await connect(base({ hostKeys: knownHosts({ files: [file], globalFiles: [] }) }));
    expect(ssh.alive).toBe(true);
  });

  it('fails with AUTH_FAILED naming what was tried when the key is not authorised', async () => {
    const error = await connect(
      base({ privateKey: [{ key: newKeyPair().privateKey, label: '~/.ssh/other' }] }),
    ).catch((e) => e);
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain('publickey ~/.ssh/other');
    expect(error.message).toMatch(/the server accepts .*publickey/);
  });

  it('fails with AUTH_FAILED for a wrong user', async () => {
    const error = await connect(base({ username: 'mallory' })).catch((e) => e);
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain('mallory@127.0.0.1');
  });

  it('asks for the passphrase of an encrypted key, retrying after a wrong one', async () => {
    const encrypted = newKeyPair('s3cret');
    await sshd.exec(['sh', '-c', `echo '${encrypted.publicKey}' >> /home/alice/.ssh/authorized_keys`]);
    const answers = ['wrong', 's3cret'];
    const passphrase = vi.fn(async () => answers.shift());
    await using ssh = await connect(
      base({ privateKey: [{ key: encrypted.privateKey, label: 'id_enc' }], passphrase }),
    );
    expect(ssh.alive).toBe(true);
    expect(passphrase.mock.calls).toEqual([
      ['id_enc', 1],
      ['id_enc', 2],
    ]);
  });

  it('authenticates by password and by keyboard-interactive through callbacks', async () => {
    const password = vi.fn(async () => 'alice-password');
    await using byPassword = await connect(base({ privateKey: [], password }));
    expect(password).toHaveBeenCalledWith({ username: 'alice', where: `alice@127.0.0.1:${sshd.port}` });
    expect(byPassword.alive).toBe(true);

    const keyboardInteractive = vi.fn(
      async (request: { prompts: ReadonlyArray<{ prompt: string; echo: boolean }> }) =>
        request.prompts.map(() => 'alice-password'),
    );
    await using byKeyboard = await connect(base({ privateKey: [], keyboardInteractive }));
    expect(byKeyboard.alive).toBe(true);
    const request = keyboardInteractive.mock.calls[0]?.[0];
    expect(request?.prompts[0]).toEqual({ prompt: 'Password: ', echo: false });
  });

  it('authenticates through ssh-agent', async () => {
    await using agent = await sshAgent(dir);
    const keyFile = join(dir, 'agent_key');
    await writeFile(keyFile, sshd.clientKey.privateKey, { mode: 0o600 });
    agent.add(keyFile);
    await using ssh = await connect(base({ privateKey: [], agent: agent.socket }));
    expect(ssh.alive).toBe(true);
  });

  it('goes on with the key when SSH_AUTH_SOCK is stale, as ssh does, and names the agent when all fail', async () => {
    const stale = join(dir, 'gone-agent.sock');
    // The key login works although the agent cannot be reached (ssh skips it silently too).
    await using ssh = await connect(base({ agent: stale }));
    expect(await ssh.exec('id -un')).toMatchObject({ code: 0, stdout: 'alice\n' });
    // With nothing else that works, the failure says why the agent was not used.
    const error = await connect(
      base({ agent: stale, privateKey: [{ key: newKeyPair().privateKey, label: '~/.ssh/other' }] }),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(FwdError);
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.message).toContain('tried publickey ~/.ssh/other');
    expect(error.message).toMatch(/skipped agent \(ssh-agent at \S*gone-agent\.sock: connect ENOENT/);
  });

  it('with IdentitiesOnly offers only the configured key of a crowded agent, as ssh does (MaxAuthTries)', async () => {
    await using agent = await sshAgent(dir);
    const agentEnv = { ...process.env, SSH_AUTH_SOCK: agent.socket };
    const keyFile = join(dir, 'right_key');
    await writeFile(keyFile, sshd.clientKey.privateKey, { mode: 0o600 });
    // More wrong keys than the server's MaxAuthTries (10): offered first, they use up the tries.
    for (let i = 0; i < 11; i++) {
      const wrong = join(dir, `wrong_${i}`);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong]);
      agent.add(wrong);
    }
    const ssh = (only: 'yes' | 'no') =>
      spawnSync(
        'ssh',
        [
          '-F',
          '/dev/null',
          '-o',
          `IdentitiesOnly=${only}`,
          '-o',
          'BatchMode=yes',
          '-i',
          keyFile,
          '-o',
          `UserKnownHostsFile=${sshd.knownHostsFile}`,
          '-p',
          String(sshd.port),
          'alice@127.0.0.1',
          'true',
        ],
        { env: agentEnv, encoding: 'utf8' },
      );
    // The oracle: OpenSSH itself, with the same agent and key.
    expect(ssh('no').stderr).toContain('Too many authentication failures');
    expect(ssh('yes').status).toBe(0);
    const options = base({
      privateKey: [{ key: sshd.clientKey.privateKey, label: keyFile }],
      agent: agent.socket,
    });
    await expect(connect(options)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await using only = await connect({ ...options, identitiesOnly: true });
    expect(only.alive).toBe(true);
  });

  it('honours an aborted signal with ABORTED', async () => {
    const controller = new AbortController();
    const pending = connect(base({ signal: controller.signal }));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('reports a closed port as CONNECT_FAILED', async () => {
    const error = await connect(base({ transport: tcpTransport({ host: '127.0.0.1', port: 1 }) })).catch(
      (e) => e,
    );
    expect(error.code).toBe('CONNECT_FAILED');
    expect(error.message).toContain('127.0.0.1:1');
  });
});
