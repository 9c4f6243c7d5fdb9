// One throwaway OpenSSH sshd on 127.0.0.1 for the whole run: its own host key, client key,
// authorized_keys and config in a temp dir; no docker-proxy in the byte path. The server offers
// only aes128-gcm and no compression, so both forwarders are held to the same cipher.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { type Child, spawnChild } from './children.js';
import { freePort, waitListening } from './ports.js';

export const SSHD = '/usr/sbin/sshd';
export const CIPHER = 'aes128-gcm@openssh.com';

export interface Sshd {
  readonly port: number;
  readonly user: string;
  /** Private key that authorized_keys accepts. */
  readonly clientKey: string;
  /** A known_hosts file holding exactly this server's host key under `[127.0.0.1]:port`. */
  readonly knownHosts: string;
  /** The server's identification string, e.g. "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6". */
  readonly banner: string;
  readonly child: Child;
}

/** Installs Debian's openssh-server when /usr/sbin/sshd is missing (root or passwordless sudo). */
export function ensureSshdInstalled(log: (msg: string) => void): void {
  if (existsSync(SSHD)) return;
  const asRoot = (cmd: string[]): string[] => (process.getuid?.() === 0 ? cmd : ['sudo', '-n', ...cmd]);
  log('installing openssh-server (apt-get)…');
  const run = ([file, ...args]: string[]): void => {
    if (file === undefined) return;
    execFileSync(file, args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  run(asRoot(['apt-get', 'update', '-qq']));
  run(asRoot(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'openssh-server']));
  if (!existsSync(SSHD)) throw new Error(`apt-get install openssh-server did not provide ${SSHD}`);
}

export async function startSshd(dir: string): Promise<Sshd> {
  const user = userInfo().username;
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  for (const key of [hostKey, clientKey]) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fwd-bench', '-f', key]);
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  // sshd refuses to start without its privilege-separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = join(dir, `sshd_config.${port}`);
    writeFileSync(config, sshdConfig(port, dir, hostKey, user));
    const child = spawnChild(`sshd-${port}`, SSHD, ['-D', '-e', '-f', config]);
    try {
      await waitListening(port, child, 10_000);
    } catch (err) {
      lastError = err; // most likely the port was taken in between: try another
      await child.stop();
      continue;
    }
    const [keyType, keyBlob] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `[127.0.0.1]:${port} ${keyType} ${keyBlob}\n`);
    return { port, user, clientKey, knownHosts, banner: await readBanner(port), child };
  }
  throw lastError;
}

function sshdConfig(port: number, dir: string, hostKey: string, user: string): string {
  return `${[
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    'PidFile none',
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `AllowUsers ${user}`,
    user === 'root' ? 'PermitRootLogin prohibit-password' : 'PermitRootLogin no',
    'StrictModes no', // the keys live in a temp dir under the world-writable /tmp
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    `Ciphers ${CIPHER}`,
    'Compression no',
    'AllowTcpForwarding yes',
    'AllowStreamLocalForwarding yes',
    'X11Forwarding no',
    'MaxStartups 1000:30:2000',
    'MaxSessions 1000',
    'LogLevel ERROR',
  ].join('\n')}\n`;
}

/** The server's first line, the identification string. */
function readBanner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('latin1');
    socket.setTimeout(5_000, () => socket.destroy(new Error('sshd sent no banner within 5 s')));
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('sshd closed the connection before its banner')));
  });
}
