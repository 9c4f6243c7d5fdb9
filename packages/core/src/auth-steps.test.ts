import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planSteps } from './auth-steps.js';

const dir = mkdtempSync(join(tmpdir(), 'fwd-steps-'));
const keygen = (...args: string[]): void => void execFileSync('ssh-keygen', args, { stdio: 'ignore' });
keygen('-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keyAndCertificate(name: string, validity: string): { key: Buffer; certificate: Buffer } {
  const file = join(dir, name);
  keygen('-q', '-t', 'ed25519', '-N', '', '-f', file);
  keygen('-q', '-s', join(dir, 'ca'), '-I', name, '-V', validity, `${file}.pub`);
  return { key: readFileSync(file), certificate: readFileSync(`${file}-cert.pub`) };
}

const valid = keyAndCertificate('valid', '-1h:+1h');
const expired = keyAndCertificate('expired', '20200101:20200102');
const future = keyAndCertificate('future', '+10d:+20d');

describe('the order of authentication methods', () => {
  it("is OpenSSH's: certificates named by the user, agent, each key then its -cert.pub, prompts", () => {
    const { steps, skipped } = planSteps(
      {
        certificates: [{ certificate: valid.certificate, label: 'named-cert.pub' }],
        agent: '/run/agent.sock',
        privateKey: [
          {
            key: valid.key,
            label: 'id_a',
            certificate: { certificate: valid.certificate, label: 'id_a-cert.pub' },
          },
          { key: expired.key, label: 'id_b' },
        ],
        keyboardInteractive: () => undefined,
        password: () => undefined,
      },
      'alice@login',
      Date.now(),
    );
    expect(steps.map((s) => s.label)).toEqual([
      'none',
      'certificate named-cert.pub',
      'agent',
      'publickey id_a',
      'certificate id_a-cert.pub',
      'publickey id_b',
      'keyboard-interactive',
      'password',
    ]);
    expect(skipped).toEqual([]);
  });

  it('leaves out an expired or not yet valid certificate next to a key, and remembers why', () => {
    const { steps, skipped } = planSteps(
      {
        privateKey: [
          {
            key: expired.key,
            label: 'id_old',
            certificate: { certificate: expired.certificate, label: 'id_old-cert.pub' },
          },
          {
            key: future.key,
            label: 'id_new',
            certificate: { certificate: future.certificate, label: 'id_new-cert.pub' },
          },
        ],
      },
      'alice@login',
      Date.now(),
    );
    expect(steps.map((s) => s.label)).toEqual(['none', 'publickey id_old', 'publickey id_new']);
    expect(skipped).toEqual([
      expect.stringMatching(
        /^certificate id_old-cert\.pub \(expired at 2020-01-02 00:00:00 UTC \(valid from 2020-01-01 /,
      ),
      expect.stringMatching(/^certificate id_new-cert\.pub \(is not valid yet \(valid from /),
    ]);
  });

  it('fails with AUTH_FAILED and the validity window when no certificate the user named can be used', () => {
    const attempt = (): unknown =>
      planSteps(
        {
          certificates: [{ certificate: expired.certificate, label: '~/.ssh/site-cert.pub' }],
          privateKey: [{ key: expired.key, label: 'id' }],
        },
        'alice@login',
        Date.now(),
      );
    expect(attempt).toThrow(
      expect.objectContaining({
        code: 'AUTH_FAILED',
        message: expect.stringMatching(
          /^authentication to alice@login not attempted: certificate ~\/\.ssh\/site-cert\.pub \(expired at 2020-01-02 00:00:00 UTC \(valid from 2020-01-01 00:00:00 UTC to 2020-01-02 00:00:00 UTC\)\); get a new certificate/,
        ),
      }),
    );
    // One usable certificate of two is enough to try.
    const both = planSteps(
      {
        certificates: [
          { certificate: expired.certificate, label: 'old-cert.pub' },
          { certificate: valid.certificate, label: 'new-cert.pub' },
        ],
      },
      'alice@login',
      Date.now(),
    );
    expect(both.steps.map((s) => s.label)).toEqual(['none', 'certificate new-cert.pub']);
  });

  it('refuses a named certificate file that is not a certificate with CONFIG_INVALID', () => {
    expect(() =>
      planSteps(
        { certificates: [{ certificate: readFileSync(join(dir, 'ca.pub')), label: 'ca.pub' }] },
        'x',
        0,
      ),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('makes no password attempt when nobody can answer, but keeps keyboard-interactive to quote its prompt', () => {
    const { steps } = planSteps(
      { keyboardInteractive: () => undefined, password: () => undefined, promptsUnavailable: 'no terminal' },
      'x',
      0,
    );
    expect(steps.map((s) => s.label)).toEqual(['none', 'keyboard-interactive']);
  });
});
