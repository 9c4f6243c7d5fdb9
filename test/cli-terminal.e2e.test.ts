import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { FWD_MAIN } from './support/fwd-cli.js';
import { echo } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { tmuxServer } from './support/tmux.js';
import { waitFor } from './support/wait.js';

describe.skipIf(skipWithoutDocker)('fwd up on a terminal (tmux)', () => {
  let sshd: Sshd;
  let home: SshHome;
  const tmux = tmuxServer(`fwd-test-${process.pid}`);

  beforeAll(async () => {
    sshd = await startSshd();
    home = await sshHome(sshd, `Host login\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User alice\n`);
  });
  afterAll(async () => {
    tmux.kill();
    await home?.[Symbol.asyncDispose]();
    await sshd?.[Symbol.asyncDispose]();
  });

  it('renders the live table in place, updates byte counts, and shows stopped after Ctrl-C', async () => {
    const file = await home.write(
      'tty.yaml',
      'version: 1\ntunnels:\n  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n  proxy: { host: login, dynamic: 0 }\n',
    );
    tmux.start('table', `${FWD_MAIN} up ${file}; echo EXITED=$?; sleep 600`, {
      home: home.dir,
      width: 150,
      height: 20,
    });
    const pane = (): string => tmux.screen('table');
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

    tmux.sendKeys('table', 'C-c');
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
    tmux.start('pw', `${FWD_MAIN} up ${file}; sleep 600`, { home: home.dir, width: 150, height: 20 });
    const pane = (): string => tmux.screen('pw');
    // sshd offers keyboard-interactive (PAM) first; shown as OpenSSH shows it: "(user@host) Password:".
    await waitFor(() => pane().includes(`(alice@127.0.0.1:${sshd.port}) Password:`), {
      what: 'the password prompt',
    });
    tmux.sendKeys('pw', 'alice-password', 'Enter');
    const table = await waitFor(() => (/pw +up +127\.0\.0\.1:\d+/.test(pane()) ? pane() : undefined), {
      what: 'the tunnel up after the password',
    });
    expect(table).not.toContain('alice-password');
    tmux.sendKeys('pw', 'C-c');
  });
});
