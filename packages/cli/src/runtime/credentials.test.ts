import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PlanHop } from '../config/index.js';
import { CredentialFiles, rereadCredentials } from './credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'fwd-creds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text = name): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const hop = (identityFiles: string[], certificateFiles: string[]): PlanHop =>
  ({ name: 'login', identityFiles, certificateFiles }) as unknown as PlanHop;

describe('the key and certificate files a hop logs in with', () => {
  const idA = file('id_a');
  file('id_a-cert.pub', 'cert of a');
  const idB = file('id_b');
  const named = file('named-cert.pub', 'named cert');

  it('offers <key>-cert.pub next to each key when no CertificateFile is set, and skips missing keys', async () => {
    const creds = await new CredentialFiles(() => undefined).forHop(
      hop([idA, join(dir, 'id_none'), idB], []),
    );
    expect(creds.certificates).toEqual([]);
    expect(creds.privateKey.map((k) => [k.label, k.certificate?.label])).toEqual([
      [idA, `${idA}-cert.pub`],
      [idB, undefined],
    ]);
    expect(creds.privateKey[0]?.certificate?.certificate.toString()).toBe('cert of a');
  });

  it('uses only the CertificateFile entries when there are any (as ssh does), warning about missing ones', async () => {
    const warnings: string[] = [];
    const creds = await new CredentialFiles((m) => warnings.push(m)).forHop(
      hop([idA], [named, join(dir, 'gone-cert.pub')]),
    );
    expect(creds.privateKey.map((k) => k.certificate)).toEqual([undefined]);
    expect(creds.certificates.map((c) => c.label)).toEqual([named]);
    expect(warnings).toEqual([`login: certificate file ${join(dir, 'gone-cert.pub')} does not exist`]);
  });

  it('reads each file once for all the hops that name it', async () => {
    const files = new CredentialFiles(() => undefined);
    const [first, second] = await Promise.all([files.forHop(hop([idA], [])), files.forHop(hop([idA], []))]);
    expect(first.privateKey[0]?.key).toBe(second.privateKey[0]?.key);
  });

  it('refuses an unreadable key file with CONFIG_INVALID', async () => {
    await expect(new CredentialFiles(() => undefined).forHop(hop([dir], []))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(`cannot read identity file ${dir}`),
    });
  });
});

describe('the files read again at each login', () => {
  // Real certificates, made by OpenSSH's ssh-keygen with a throwaway CA.
  const keygen = (...args: string[]): void =>
    void execFileSync('ssh-keygen', ['-q', ...args], { stdio: 'ignore' });
  const ca = join(dir, 'renew-ca');
  keygen('-t', 'ed25519', '-N', '', '-f', ca);
  const key = join(dir, 'renew_key');
  keygen('-t', 'ed25519', '-N', '', '-f', key);
  const certFile = join(dir, 'renew-named-cert.pub');
  const sign = (identity: string): string => {
    keygen('-s', ca, '-I', identity, '-n', 'alice', `${key}.pub`);
    const text = readFileSync(`${key}-cert.pub`, 'utf8');
    unlinkSync(`${key}-cert.pub`);
    writeFileSync(certFile, text);
    return text;
  };

  it('takes a renewed certificate, and keeps the last good one while the file is missing or cut short', async () => {
    const first = sign('first');
    const login = hop([key], [certFile]);
    const read = rereadCredentials(login, await new CredentialFiles(() => undefined).forHop(login));
    const offered = async () => (await read()).certificates.map((c) => c.certificate.toString());
    expect(await offered()).toEqual([first]);
    const second = sign('second');
    expect(await offered()).toEqual([second]);
    // A renewal tool caught mid-write: the file cut short, then gone for a moment.
    writeFileSync(certFile, second.slice(0, 40));
    expect(await offered()).toEqual([second]);
    unlinkSync(certFile);
    expect(await offered()).toEqual([second]);
    const third = sign('third');
    expect(await offered()).toEqual([third]);
    // The key itself stays offered while its file is briefly missing, too.
    const keyText = readFileSync(key);
    unlinkSync(key);
    expect((await read()).privateKey.map((k) => k.label)).toEqual([key]);
    writeFileSync(key, keyText);
  });
});
