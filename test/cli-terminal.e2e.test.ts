import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { echo } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { waitFor } from './support/wait.js';

const MAIN = new URL('../packages/cli/dist/main.js', import.meta.url).pathname;

describe.skipIf(skipWithoutDocker)('fwd up on a terminal (tmux)', () => {
  let sshd: Sshd;
  let home: SshHome;
  const server = `fwd-test-${process.pid}`;
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-L', server, ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    sshd = await startSshd();
    home = await sshHome(sshd, `Host login\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User alice\n`);
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {}
    await home?.[Symbol.asyncDispose]();
    await sshd?.[Symbol.asyncDispose]();
  });

  it('renders the live table in place, updates byte counts, and shows stopped after Ctrl-C', async () => {
    const file = await home.write(
      'tty.yaml',
      'version: 1\ntunnels:\n  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n  proxy: { host: login, dynamic: 0 }\n',
    );
    tmux(
      'new-session',
      '-d',
      '-x',
      '150',
      '-y',
      '20',
      '-e',
      `HOME=${home.dir}`,
      '-e',
      'NO_COLOR=1',
      `${MAIN} up ${file}; echo EXITED=$?; sleep 600`,
    );
    const pane = (): string => tmux('capture-pane', '-p');
    const table = await waitFor(
      () => (/echo-svc +up +127\.0\.0\.1:\d+ +→ +127\.0\.0\.1:7001/.test(pane()) ? pane() : undefined),
      {
        what: 'the table with echo-svc up',
      },
    );
    expect(table).toMatch(/^TUNNEL +STATE +LISTEN +TARGET +CONN +↑ SENT +↓ RECV +DETAIL \/ LAST ERROR$/m);
    expect(table).toMatch(/proxy +up +127\.0\.0\.1:\d+ +→ +SOCKS/);
    const port = Number(/echo-svc +up +127\.0\.0\.1:(\d+)/.exec(table)?.[1]);

    const payload = randomBytes(300 * 1024);
    expect((await echo({ port }, payload)).equals(payload)).toBe(true);
    const updated = await waitFor(
      () => (/echo-svc +up .* 300 KiB +300 KiB/.test(pane()) ? pane() : undefined),
      {
        what: 'byte counts in the table',
      },
    );
    // Redrawn in place: the header appears once, not once per refresh.
    expect(updated.match(/^TUNNEL/gm)).toHaveLength(1);

    tmux('send-keys', 'C-c');
    const stopped = await waitFor(() => (/EXITED=130/.test(pane()) ? pane() : undefined), {
      what: 'fwd to exit',
    });
    expect(stopped).toMatch(/echo-svc +stopped/);
    expect(stopped).toContain('SIGINT: closing listeners and sessions');
  });

  it('asks for a password on the terminal without echoing it, then comes up', async () => {
    // A host with no usable key: only the password (sshd accepts alice-password) gets in.
    const file = await home.write(
      'password.yaml',
      `version: 1\nhosts:\n  login-pw: { host: 127.0.0.1, port: ${sshd.port}, user: alice, identityFile: ~/.ssh/none }\n` +
        'tunnels:\n  pw: { host: login-pw, local: "0:127.0.0.1:7001" }\n',
    );
    tmux(
      'new-session',
      '-d',
      '-s',
      'pw',
      '-x',
      '150',
      '-y',
      '20',
      '-e',
      `HOME=${home.dir}`,
      '-e',
      'NO_COLOR=1',
      `${MAIN} up ${file}; sleep 600`,
    );
    const pane = (): string => tmux('capture-pane', '-p', '-t', 'pw');
    // sshd offers keyboard-interactive (PAM) first; shown as OpenSSH shows it: "(user@host) Password:".
    await waitFor(() => pane().includes(`(alice@127.0.0.1:${sshd.port}) Password:`), {
      what: 'the password prompt',
    });
    tmux('send-keys', '-t', 'pw', 'alice-password', 'Enter');
    const table = await waitFor(() => (/pw +up +127\.0\.0\.1:\d+/.test(pane()) ? pane() : undefined), {
      what: 'the tunnel up after the password',
    });
    expect(table).not.toContain('alice-password');
    tmux('send-keys', '-t', 'pw', 'C-c');
  });
});
