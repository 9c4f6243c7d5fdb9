import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sshd } from './sshd.js';

export interface SshHome extends AsyncDisposable {
  /** Use as $HOME for a fwd child process: ~/.ssh/{config,id_ed25519,known_hosts} live here. */
  readonly dir: string;
  readonly keyFile: string;
  readonly knownHostsFile: string;
  /** Writes a file relative to the home (e.g. 'tunnels.yaml'); returns its path. */
  write(name: string, text: string): Promise<string>;
}

/**
 * A throwaway home directory for CLI tests: the sshd's client key as ~/.ssh/id_ed25519, its host
 * key in ~/.ssh/known_hosts, and `sshConfig` as ~/.ssh/config.
 */
export async function sshHome(
  sshd: Sshd,
  sshConfig: string,
  extraKnownHosts: string[] = [],
): Promise<SshHome> {
  const dir = await mkdtemp(join(tmpdir(), 'fwd-home-'));
  const ssh = join(dir, '.ssh');
  await mkdir(ssh, { mode: 0o700 });
  const keyFile = join(ssh, 'id_ed25519');
  const knownHostsFile = join(ssh, 'known_hosts');
  await writeFile(keyFile, sshd.clientKey.privateKey, { mode: 0o600 });
  await writeFile(knownHostsFile, [sshd.knownHostsLine, ...extraKnownHosts, ''].join('\n'));
  await writeFile(join(ssh, 'config'), sshConfig);
  return {
    dir,
    keyFile,
    knownHostsFile,
    async write(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}
