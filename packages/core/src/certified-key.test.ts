import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedKey } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateAlgorithm, certifiedPrivateKey, signatureHash } from './certified-key.js';
import { parseCertificate } from './openssh-certificate.js';
import { ssh2 } from './ssh2-adapter.js';
import { certificatesSupported } from './ssh2-certificates.js';

const require = createRequire(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fwd-certkey-'));
const keygen = (...args: string[]): string => execFileSync('ssh-keygen', args, { encoding: 'utf8' });
keygen('-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'ca'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function certified(name: string, type: string[]): { key: ParsedKey; plain: ParsedKey } {
  const file = join(dir, name);
  keygen('-q', ...type, '-N', '', '-f', file);
  keygen('-q', '-s', join(dir, 'ca'), '-I', name, '-n', 'alice', `${file}.pub`);
  const plain = ssh2.utils.parseKey(readFileSync(file)) as ParsedKey;
  const cert = parseCertificate(readFileSync(`${file}-cert.pub`), name);
  return { key: certifiedPrivateKey(plain, cert), plain };
}

/** The fields of SSH_MSG_USERAUTH_REQUEST "publickey" with a signature, as written on the wire. */
function readRequest(payload: Buffer): { fields: Buffer[]; signedLength: number } {
  const fields: Buffer[] = [];
  let offset = 1;
  const take = (): Buffer => {
    const length = payload.readUInt32BE(offset);
    const field = payload.subarray(offset + 4, offset + 4 + length);
    offset += 4 + length;
    return field;
  };
  fields.push(take(), take(), take()); // user, service, "publickey"
  offset += 1; // has signature
  fields.push(take(), take()); // algorithm, key blob
  const signedLength = offset;
  fields.push(take()); // signature
  return { fields, signedLength };
}

/** Runs ssh2's own (patched) Protocol.authPK and returns the packet payload it sends. */
function userauthPacket(key: ParsedKey, sessionID: Buffer): Buffer {
  const Protocol = require('ssh2/lib/protocol/Protocol.js') as new (
    config: object,
  ) => {
    _kex: object;
    authPK(
      user: string,
      key: ParsedKey,
      algo: undefined,
      sign: (data: Buffer, cb: (s: Buffer) => void) => void,
    ): void;
  };
  const written: Buffer[] = [];
  const proto = new Protocol({
    onWrite: (data: Buffer) => written.push(Buffer.from(data)),
    onError: (err: Error) => {
      throw err;
    },
  });
  proto._kex = { sessionID };
  proto.authPK('alice', key, undefined, (data, cb) => cb(key.sign(data)));
  const packet = written.at(-1) ?? Buffer.alloc(0);
  const length = packet.readUInt32BE(0);
  return packet.subarray(5, 4 + length - (packet[4] ?? 0));
}

describe('certificate login through ssh2', () => {
  it('runs with the user-certificates patch applied (npm ci)', () => {
    expect(certificatesSupported()).toBe(true);
  });

  it.each([
    ['ed25519', ['-t', 'ed25519'], 'ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519'],
    [
      'ecdsa256',
      ['-t', 'ecdsa', '-b', '256'],
      'ecdsa-sha2-nistp256-cert-v01@openssh.com',
      'ecdsa-sha2-nistp256',
    ],
    [
      'ecdsa384',
      ['-t', 'ecdsa', '-b', '384'],
      'ecdsa-sha2-nistp384-cert-v01@openssh.com',
      'ecdsa-sha2-nistp384',
    ],
    [
      'ecdsa521',
      ['-t', 'ecdsa', '-b', '521'],
      'ecdsa-sha2-nistp521-cert-v01@openssh.com',
      'ecdsa-sha2-nistp521',
    ],
    ['rsa', ['-t', 'rsa', '-b', '2048'], 'rsa-sha2-512-cert-v01@openssh.com', 'rsa-sha2-512'],
  ])(
    '%s: sends the certificate under its algorithm and a signature named for the plain key',
    (name, type, algorithm, sigAlgorithm) => {
      const { key, plain } = certified(name, type);
      const sessionID = Buffer.from('0123456789abcdef0123456789abcdef');
      const payload = userauthPacket(key, sessionID);
      const { fields, signedLength } = readRequest(payload);
      const [user, service, method, algo, blob] = fields;
      const signature = fields[5] ?? Buffer.alloc(0);
      expect([user, service, method, algo].map(String)).toEqual([
        'alice',
        'ssh-connection',
        'publickey',
        algorithm,
      ]);
      expect(blob?.equals(key.getPublicSSH())).toBe(true);
      expect(blob?.subarray(4, 4 + (blob?.readUInt32BE(0) ?? 0)).toString()).toBe(
        algorithm.replace(/^rsa-sha2-512/, 'ssh-rsa'),
      );

      // The signature blob: "string algorithm, string signature", the algorithm being the plain one.
      const sigName = signature.subarray(4, 4 + signature.readUInt32BE(0)).toString();
      expect(sigName).toBe(sigAlgorithm);
      let raw = signature.subarray(8 + sigName.length);
      // It verifies with the plain public key over session id + request, as sshd checks it.
      const signed = Buffer.concat([
        Buffer.from([0, 0, 0, sessionID.length]),
        sessionID,
        payload.subarray(0, signedLength),
      ]);
      if (name.startsWith('ecdsa')) {
        const size = { ecdsa256: 32, ecdsa384: 48, ecdsa521: 66 }[name] ?? 0;
        const r = readMpint(raw, 0);
        const s = readMpint(raw, 4 + raw.readUInt32BE(0));
        raw = Buffer.concat([pad(r, size), pad(s, size)]);
      }
      const publicKey = createPublicKey(plain.getPublicPEM());
      const hash = signatureHash(certificateAlgorithm(parseCertificate(key.getPublicSSH(), name)));
      expect(verify(hash, signed, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
    },
  );

  it('leaves plain keys as ssh2 sends them (the signature keeps the key algorithm)', () => {
    const file = join(dir, 'plain');
    keygen('-q', '-t', 'ed25519', '-N', '', '-f', file);
    const plain = ssh2.utils.parseKey(readFileSync(file)) as ParsedKey;
    const { fields } = readRequest(userauthPacket(plain, Buffer.alloc(32, 1)));
    const signature = fields[5] ?? Buffer.alloc(0);
    expect(String(fields[3])).toBe('ssh-ed25519');
    expect(signature.subarray(4, 4 + signature.readUInt32BE(0)).toString()).toBe('ssh-ed25519');
  });
});

function readMpint(buffer: Buffer, offset: number): Buffer {
  return buffer.subarray(offset + 4, offset + 4 + buffer.readUInt32BE(offset));
}

function pad(value: Buffer, size: number): Buffer {
  const trimmed = value[0] === 0 ? value.subarray(1) : value;
  return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
}
