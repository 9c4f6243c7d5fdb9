import { createPrivateKey, sign } from 'node:crypto';
import type { ParsedKey } from 'ssh2';
import type { OpenSshCertificate } from './openssh-certificate.js';
import { ssh2 } from './ssh2-adapter.js';

// ssh2 authenticates with a "parsed key": it sends `type` as the algorithm, `getPublicSSH()` as
// the key blob and `sign()`'s bytes as the signature. A certificate login is the same with the
// certificate blob and a certificate algorithm, so a key object that answers those three calls
// for a certificate is all ssh2 needs; the rest of the object is the real key (by prototype).
// What ssh2 itself gets wrong is the signature's algorithm name (patches/ssh2+*+user-certificates).

/**
 * The algorithm a certificate logs in with. RSA certificates sign with SHA-512
 * (`rsa-sha2-512-cert-v01@openssh.com`, OpenSSH's first choice): the SHA-1 `ssh-rsa` variant is
 * refused by OpenSSH ≥ 8.8.
 */
export function certificateAlgorithm(cert: OpenSshCertificate): string {
  return cert.type === 'ssh-rsa-cert-v01@openssh.com' ? 'rsa-sha2-512-cert-v01@openssh.com' : cert.type;
}

/** The hash behind a certificate's signature algorithm; null for Ed25519 (no separate hash). */
export function signatureHash(algorithm: string): string | null {
  if (algorithm.startsWith('ssh-ed25519')) return null;
  if (algorithm.startsWith('rsa-sha2-256') || algorithm.includes('nistp256')) return 'sha256';
  if (algorithm.includes('nistp384')) return 'sha384';
  return 'sha512';
}

const CERTIFIED = new WeakMap<object, OpenSshCertificate>();

/** The certificate behind a key object made here, if it is one. */
export function certificateOf(key: object): OpenSshCertificate | undefined {
  return CERTIFIED.get(key);
}

function certified(
  base: ParsedKey,
  cert: OpenSshCertificate,
  signWith?: (data: Buffer) => Buffer,
): ParsedKey {
  const algorithm = certificateAlgorithm(cert);
  const key = Object.create(base, {
    type: { value: algorithm, enumerable: true },
    comment: { value: cert.keyId, enumerable: true },
    getPublicSSH: { value: () => cert.blob },
    ...(signWith ? { sign: { value: (data: Buffer) => signWith(data) } } : {}),
  }) as ParsedKey;
  CERTIFIED.set(key, cert);
  return key;
}

/**
 * A private key presented with its certificate, for ssh2's publickey method. `privateKey` must
 * be the certificate's key (see `matchesCertificate`).
 */
export function certifiedPrivateKey(privateKey: ParsedKey, cert: OpenSshCertificate): ParsedKey {
  const pem = createPrivateKey(privateKey.getPrivatePEM());
  const hash = signatureHash(certificateAlgorithm(cert));
  return certified(privateKey, cert, (data) => {
    if (!cert.keyType.startsWith('ecdsa-')) return sign(hash, data, pem);
    // SSH wants ECDSA's r and s as two mpints (RFC 5656 3.1.2), not DER.
    const rs = sign(hash, data, { key: pem, dsaEncoding: 'ieee-p1363' });
    const half = rs.length / 2;
    return Buffer.concat([mpint(rs.subarray(0, half)), mpint(rs.subarray(half))]);
  });
}

/** A certificate whose private key lives elsewhere (ssh-agent): for listing, not signing. */
export function certifiedPublicKey(cert: OpenSshCertificate): ParsedKey {
  const base = ssh2.utils.parseKey(cert.publicKey);
  if (base instanceof Error) throw base;
  return certified(Array.isArray(base) ? (base[0] as ParsedKey) : base, cert);
}

function mpint(unsigned: Buffer): Buffer {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  let body = unsigned.subarray(start);
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}

/**
 * The public half of a private key file without decrypting it: OpenSSH's own format keeps it in
 * the clear (PROTOCOL.key); other formats are parsed, which works when they are not encrypted.
 * Undefined when it cannot be known without a passphrase.
 */
export function publicKeyOfPrivateKey(data: string | Buffer): Buffer | undefined {
  const text = data.toString('utf8');
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(
    text,
  )?.[1];
  if (body !== undefined) {
    const raw = Buffer.from(body.replace(/\s+/g, ''), 'base64');
    const magic = 'openssh-key-v1\0';
    if (raw.subarray(0, magic.length).toString('latin1') === magic) {
      let offset = magic.length;
      const skipString = (): number => {
        const length = raw.readUInt32BE(offset);
        offset += 4 + length;
        return length;
      };
      try {
        skipString(); // cipher
        skipString(); // kdf
        skipString(); // kdf options
        offset += 4; // number of keys (always 1)
        const length = raw.readUInt32BE(offset);
        return Buffer.from(raw.subarray(offset + 4, offset + 4 + length));
      } catch {
        return undefined;
      }
    }
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) return undefined;
  return (Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed).getPublicSSH();
}

/** True when `publicKey` (SSH wire format) is the key `cert` certifies. */
export function matchesCertificate(publicKey: Buffer | undefined, cert: OpenSshCertificate): boolean {
  return publicKey?.equals(cert.publicKey) === true;
}
