import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFwd } from './support/fwd-cli.js';
import { waitFor } from './support/wait.js';

const MAIN = new URL('../packages/cli/dist/main.js', import.meta.url).pathname;
const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasTmux)('fwd init on a terminal (tmux)', () => {
  let home: string;
  const server = `fwd-init-${process.pid}`;
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8' });
  const pane = (): string => tmux('capture-pane', '-p');
  const until = (pattern: RegExp, what: string) =>
    waitFor(() => (pattern.test(pane()) ? pane() : undefined), { what });

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'fwd-init-tty-'));
    await mkdir(join(home, '.ssh'));
    await writeFile(join(home, '.ssh/config'), 'Host cluster\n  HostName login.example.edu\n  User alice\n');
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {}
    await rm(home, { recursive: true, force: true });
  });

  it('asks for the host, ports, Slurm and socket, then writes a file fwd check accepts', async () => {
    tmux(
      'new-session',
      '-d',
      '-x',
      '150',
      '-y',
      '30',
      '-c',
      home,
      '-e',
      `HOME=${home}`,
      `${MAIN} init; echo EXITED=$?; sleep 600`,
    );
    await until(
      /Host to forward from \(Hosts in ~\/\.ssh\/config: cluster\) \[cluster\]:\s*$/m,
      'the host question',
    );
    tmux('send-keys', 'Enter');
    await until(/Ports of the app on cluster .*\[8888\]:\s*$/m, 'the ports question');
    tmux('send-keys', '8888 6006', 'Enter');
    await until(/Does it run in a Slurm job\? .*:\s*$/m, 'the Slurm question');
    tmux('send-keys', 'Enter');
    await until(/Does it listen on a unix socket\? .*:\s*$/m, 'the socket question');
    tmux('send-keys', 'Enter');
    const done = await until(/EXITED=\d+/, 'fwd init to finish');
    expect(done).toContain('wrote tunnels.yaml: 2 tunnels to cluster (alice@login.example.edu:22)');
    expect(done).toContain('EXITED=0');
    expect(await readFile(join(home, 'tunnels.yaml'), 'utf8')).toContain('local: 6006:localhost:6006');
    const check = await runFwd(['check', 'tunnels.yaml'], { home });
    expect(check).toMatchObject({ code: 0 });
    expect(check.stdout).toContain('tunnels.yaml: ok (2 tunnels, 1 host)');
  });
});
