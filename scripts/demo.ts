// npm run demo: the bundled OpenSSH container + `fwd up examples/demo.yaml`, until Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newKeyPair } from '../test/support/keys.js';

const repo = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'fwd-demo-'));
const key = newKeyPair();
writeFileSync(join(dir, 'id_ed25519'), key.privateKey, { mode: 0o600 });

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const container = docker(
  'run',
  '-d',
  '--rm',
  '-p',
  '127.0.0.1::22',
  '-e',
  `AUTHORIZED_KEYS=${key.publicKey}`,
  'fwd/sshd',
);
let cleaned = false;
const cleanup = (): void => {
  if (cleaned) return;
  cleaned = true;
  try {
    docker('rm', '-f', container);
  } catch {}
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

/** The image prints "fwd-sshd ready" once sshd and its loopback-only targets listen. */
function ready(): Promise<void> {
  return new Promise((resolve, reject) => {
    const logs = spawn('docker', ['logs', '-f', container], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => {
      logs.kill();
      reject(new Error('the sshd container did not become ready in 20 s'));
    }, 20_000);
    let seen = '';
    logs.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes('fwd-sshd ready')) return;
      clearTimeout(timer);
      logs.kill();
      resolve();
    });
  });
}

try {
  await ready();
  const port = docker('port', container, '22').split(':').pop() ?? '';
  const hostKey = docker('exec', container, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub')
    .split(' ')
    .slice(0, 2)
    .join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  writeFileSync(
    join(dir, 'ssh_config'),
    [
      'Host demo',
      '  HostName 127.0.0.1',
      `  Port ${port}`,
      '  User alice',
      `  IdentityFile ${join(dir, 'id_ed25519')}`,
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '',
    ].join('\n'),
  );
  console.log(`demo sshd: container ${container.slice(0, 12)} on 127.0.0.1:${port} (user alice)`);
  console.log('fwd up examples/demo.yaml — try: curl http://<notebook address>/api   (Ctrl-C to stop)\n');
  const fwd = spawn(
    process.execPath,
    [
      join(repo, 'packages/cli/dist/main.js'),
      'up',
      join(repo, 'examples/demo.yaml'),
      '-F',
      join(dir, 'ssh_config'),
    ],
    { stdio: 'inherit' },
  );
  // fwd gets the terminal's Ctrl-C itself; we only wait for it, then remove the container.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => fwd.kill('SIGTERM'));
  fwd.on('exit', (code, signal) => {
    cleanup();
    process.exit(code ?? (signal ? 130 : 1));
  });
} catch (err) {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  cleanup();
  process.exit(1);
}
