import { type ConnectOptions, connect, type KeyboardInteractiveRequest } from '@fwd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { FWD_MAIN } from './support/fwd-cli.js';
import { httpGet } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, sshdConnectOptions, startSshd } from './support/sshd.js';
import { tmuxServer } from './support/tmux.js';
import { TOTP_SECRET, totp } from './support/totp.js';
import { waitFor } from './support/wait.js';

const HTTP = 8080; // docker/sshd-auth serves "fwd-auth ok" on the server's 127.0.0.1:8080

// Real PAM stacks with Debian's libpam-google-authenticator; the test computes the codes.
//   keyThenCode:      AuthenticationMethods publickey,keyboard-interactive:pam; PAM asks a code only
//   passwordThenCode: AuthenticationMethods keyboard-interactive:pam; PAM asks the password, then a code
describe.skipIf(skipWithoutDocker)('two-factor logins (keyboard-interactive through PAM, TOTP)', () => {
  let keyThenCode: Sshd;
  let passwordThenCode: Sshd;

  beforeAll(async () => {
    const totpEnv = { TOTP_SECRET };
    [keyThenCode, passwordThenCode] = await Promise.all([
      startSshd({
        image: 'fwd/sshd-auth',
        environment: { ...totpEnv, AUTH_METHODS: 'publickey,keyboard-interactive:pam', PAM_STACK: 'totp' },
      }),
      startSshd({
        image: 'fwd/sshd-auth',
        environment: {
          ...totpEnv,
          AUTHORIZED_KEYS: '',
          AUTH_METHODS: 'keyboard-interactive:pam',
          PAM_STACK: 'password-totp',
        },
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([keyThenCode, passwordThenCode].map((s) => s?.[Symbol.asyncDispose]()));
  });

  const options = (sshd: Sshd, overrides: Partial<ConnectOptions>): ConnectOptions =>
    sshdConnectOptions(sshd, overrides);

  describe('the library', () => {
    it('answers a code after the key (partial success), one round, echo off', async () => {
      const rounds: KeyboardInteractiveRequest[] = [];
      await using ssh = await connect(
        options(keyThenCode, {
          privateKey: keyThenCode.clientKey.privateKey,
          keyboardInteractive: async (request) => {
            rounds.push(request);
            return [totp(TOTP_SECRET)];
          },
        }),
      );
      expect((await ssh.exec('id -un')).stdout).toBe('alice\n');
      expect(rounds.map((r) => r.prompts)).toEqual([[{ prompt: 'Verification code: ', echo: false }]]);
      expect(await keyThenCode.sshdLog()).toMatch(/Accepted keyboard-interactive\/pam for alice/);
    });

    it('answers two rounds: the password, then the code', async () => {
      const rounds: KeyboardInteractiveRequest[] = [];
      await using ssh = await connect(
        options(passwordThenCode, {
          keyboardInteractive: async (request) => {
            rounds.push(request);
            return request.prompts.map((p) =>
              /password/i.test(p.prompt) ? 'alice-password' : totp(TOTP_SECRET),
            );
          },
        }),
      );
      expect(ssh.alive).toBe(true);
      expect(rounds.map((r) => r.prompts)).toEqual([
        [{ prompt: 'Password: ', echo: false }],
        [{ prompt: 'Verification code: ', echo: false }],
      ]);
    });

    it('is refused with a wrong code (the PAM module checks codes for real)', async () => {
      const wrong = String((Number(totp(TOTP_SECRET)) + 500_000) % 1_000_000).padStart(6, '0');
      const error = await connect(
        options(keyThenCode, {
          privateKey: keyThenCode.clientKey.privateKey,
          keyboardInteractive: async () => [wrong],
        }),
      ).catch((e) => e);
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.message).toContain('keyboard-interactive');
      expect(await keyThenCode.sshdLog()).toMatch(/Failed keyboard-interactive\/pam for alice/);
    });

    it('fails AUTH_FAILED without a wrong answer when nobody can answer, quoting the prompt', async () => {
      const before = await keyThenCode.sshdLog();
      const error = await connect(
        options(keyThenCode, {
          privateKey: keyThenCode.clientKey.privateKey,
          keyboardInteractive: async () => {
            throw new Error('unreachable: there is no terminal');
          },
          promptsUnavailable: 'no terminal to ask on; use a key or ssh-agent',
        }),
      ).catch((e) => e);
      expect(error.code).toBe('AUTH_FAILED');
      expect(error.message).toContain(
        `could not answer the server's prompt "Verification code:" (no terminal to ask on; use a key or ssh-agent)`,
      );
      // fwd hung up instead of sending a blank code: PAM counted no failed attempt.
      const log = (
        await waitFor(async () => {
          const text = await keyThenCode.sshdLog();
          return /Connection closed|Disconnected/.test(text.slice(before.length)) ? text : undefined;
        })
      ).slice(before.length);
      expect(log).toMatch(/Partial publickey for alice/);
      expect(log).not.toMatch(/Failed keyboard-interactive/);
    });
  });

  describe('fwd up on a terminal (tmux)', () => {
    let home: SshHome;
    const tmux = tmuxServer(`fwd-2fa-${process.pid}`);
    const pane = (session: string): string => tmux.history(session);
    const count = (text: string, what: string): number => text.split(what).length - 1;

    beforeAll(async () => {
      home = await sshHome(
        keyThenCode,
        [
          'Host totp',
          '  HostName 127.0.0.1',
          `  Port ${keyThenCode.port}`,
          '  User alice',
          'Host pwcode',
          '  HostName 127.0.0.1',
          `  Port ${passwordThenCode.port}`,
          '  User alice',
          '  IdentityFile ~/.ssh/none',
          '',
        ].join('\n'),
        [passwordThenCode.knownHostsLine],
      );
    });
    afterAll(async () => {
      tmux.kill();
      await home?.[Symbol.asyncDispose]();
    });

    const start = (session: string, file: string): void =>
      tmux.start(session, `${FWD_MAIN} up ${file}; sleep 600`, { home: home.dir, width: 160, height: 40 });

    it('asks once for two tunnels on one host, takes the typed code, and HTTP flows; asks again only when the server does', async () => {
      const file = await home.write(
        'totp.yaml',
        `version: 1\ntunnels:\n  web: { host: totp, local: "0:127.0.0.1:${HTTP}" }\n  web2: { host: totp, local: "0:127.0.0.1:${HTTP}" }\n`,
      );
      start('totp', file);
      const prompt = `(alice@127.0.0.1:${keyThenCode.port}) Verification code:`;
      await waitFor(() => pane('totp').includes(prompt), { what: 'the code prompt', timeoutMs: 30_000 });
      const code = totp(TOTP_SECRET);
      tmux.sendKeys('totp', code, 'Enter');
      const table = await waitFor(
        () => {
          const text = pane('totp');
          return /web +up +127\.0\.0\.1:\d+/.test(text) && /web2 +up +127\.0\.0\.1:\d+/.test(text)
            ? text
            : undefined;
        },
        { what: 'both tunnels up', timeoutMs: 30_000 },
      );
      expect(count(table, prompt)).toBe(1);
      expect(table).not.toContain(code);
      const port = Number(/web +up +127\.0\.0\.1:(\d+)/.exec(table)?.[1]);
      expect((await httpGet({ host: '127.0.0.1', port }, '/')).body).toContain('fwd-auth ok');

      // The session is cut (sshd kills it): the reconnect logs in again, and PAM asks again.
      await keyThenCode.exec(['pkill', '-f', 'sshd: alice']);
      await waitFor(() => count(pane('totp'), prompt) === 2, {
        what: 'the prompt after the reconnect',
        timeoutMs: 30_000,
      });
      tmux.sendKeys('totp', totp(TOTP_SECRET), 'Enter');
      await waitFor(() => /web +up .*\n(.*\n)*.*web2 +up/.test(pane('totp').split(prompt).at(-1) ?? ''), {
        what: 'the tunnels back up',
        timeoutMs: 30_000,
      });
      expect(count(pane('totp'), prompt)).toBe(2);
      tmux.sendKeys('totp', 'C-c');
    });

    it('asks for the password, then the code, each hidden', async () => {
      const file = await home.write(
        'pwcode.yaml',
        `version: 1\ntunnels:\n  web: { host: pwcode, local: "0:127.0.0.1:${HTTP}" }\n`,
      );
      start('pwcode', file);
      const where = `(alice@127.0.0.1:${passwordThenCode.port})`;
      await waitFor(() => pane('pwcode').includes(`${where} Password:`), {
        what: 'the password prompt',
        timeoutMs: 30_000,
      });
      tmux.sendKeys('pwcode', 'alice-password', 'Enter');
      await waitFor(() => pane('pwcode').includes(`${where} Verification code:`), {
        what: 'the code prompt',
      });
      tmux.sendKeys('pwcode', totp(TOTP_SECRET), 'Enter');
      const table = await waitFor(
        () => (/web +up +127\.0\.0\.1:\d+/.test(pane('pwcode')) ? pane('pwcode') : undefined),
        {
          what: 'the tunnel up',
          timeoutMs: 30_000,
        },
      );
      expect(table).not.toContain('alice-password');
      tmux.sendKeys('pwcode', 'C-c');
    });
  });
});
