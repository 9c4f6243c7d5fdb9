import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sshd } from './sshd.js';
import { tempDir } from './temp-dir.js';

export interface SshHome extends AsyncDisposable {
  /** Use as $HOME for a fwd child process: ~/.ssh/{config,id_ed25519,known_hosts} live here. */
  readonly dir: string;
  readonly keyFile: string;
  readonly knownHostsFile: string;
  /** Writes a file relative to the home (e.g. 'tunnels.yaml'); returns its path. */
  write(name: string, text: string): Promise<string>;
}

export interface TempHomeOptions {
  /** Of the directory's name (default "fwd-home-"). */
  prefix?: string;
  /** ~/.ssh/id_ed25519 (mode 0600). */
  privateKey?: string;
  /** ~/.ssh/known_hosts, one entry a line. */
  knownHosts?: string[];
  /** ~/.ssh/config. */
  sshConfig?: string;
}

/**
 * A throwaway home directory for CLI tests: ~/.ssh (0700) holding only the files asked for.
 * Removed with everything in it on dispose.
 */
export async function tempHome(options: TempHomeOptions = {}): Promise<SshHome> {
  const home = await tempDir(options.prefix ?? 'fwd-home-');
  const dir = home.path;
  const ssh = join(dir, '.ssh');
  await mkdir(ssh, { mode: 0o700 });
  const keyFile = join(ssh, 'id_ed25519');
  const knownHostsFile = join(ssh, 'known_hosts');
  if (options.privateKey !== undefined) await writeFile(keyFile, options.privateKey, { mode: 0o600 });
  if (options.knownHosts) await writeFile(knownHostsFile, [...options.knownHosts, ''].join('\n'));
  if (options.sshConfig !== undefined) await writeFile(join(ssh, 'config'), options.sshConfig);
  return {
    dir,
    keyFile,
    knownHostsFile,
    async write(name, text) {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    },
    [Symbol.asyncDispose]: () => home[Symbol.asyncDispose](),
  };
}

/**
 * A home that reaches `sshd`: its client key as ~/.ssh/id_ed25519, its host key (and
 * `extraKnownHosts`) in ~/.ssh/known_hosts, and `sshConfig` as ~/.ssh/config.
 */
export function sshHome(sshd: Sshd, sshConfig: string, extraKnownHosts: string[] = []): Promise<SshHome> {
  return tempHome({
    privateKey: sshd.clientKey.privateKey,
    knownHosts: [sshd.knownHostsLine, ...extraKnownHosts],
    sshConfig,
  });
}
