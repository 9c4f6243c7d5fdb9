import { FwdError } from './errors.js';

// OpenSSH certificates (PROTOCOL.certkeys, draft-miller-ssh-cert): a public key plus who may use
// it, for how long, signed by a CA. The client only reads them: the server checks the signature.

/** Certificate key types fwd can log in with, and the key type each one certifies. */
const CERTIFIED_TYPES: Record<string, string> = {
  'ssh-ed25519-cert-v01@openssh.com': 'ssh-ed25519',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': 'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': 'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': 'ecdsa-sha2-nistp521',
  'ssh-rsa-cert-v01@openssh.com': 'ssh-rsa',
};

/** Public-key fields after the nonce, per certified key type (each an SSH string or mpint). */
const KEY_FIELDS: Record<string, number> = {
  'ssh-ed25519': 1,
  'ecdsa-sha2-nistp256': 2,
  'ecdsa-sha2-nistp384': 2,
  'ecdsa-sha2-nistp521': 2,
  'ssh-rsa': 2,
};

const SSH_CERT_TYPE_USER = 1;
/** "valid before" of a certificate that never expires. */
const FOREVER = 0xffff_ffff_ffff_ffffn;

export interface OpenSshCertificate {
  /** The certificate's key type, e.g. `ssh-ed25519-cert-v01@openssh.com`. */
  readonly type: string;
  /** The certified key's type, e.g. `ssh-ed25519`. */
  readonly keyType: string;
  /** The whole certificate as sent to the server in place of a public key. */
  readonly blob: Buffer;
  /** The certified public key in plain SSH wire format (what the private key's public half is). */
  readonly publicKey: Buffer;
  readonly serial: bigint;
  readonly kind: 'user' | 'host';
  readonly keyId: string;
  /** Empty: valid for any user. */
  readonly principals: readonly string[];
  /** Seconds since the epoch; valid when `validAfter <= now < validBefore`. */
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: readonly string[];
  readonly extensions: readonly string[];
}

class Reader {
  readonly buffer: Buffer;
  #offset = 0;
  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }
  get offset(): number {
    return this.#offset;
  }
  take(length: number): Buffer {
    if (this.#offset + length > this.buffer.length) throw new RangeError('truncated');
    const out = this.buffer.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }
  uint32(): number {
    return this.take(4).readUInt32BE(0);
  }
  uint64(): bigint {
    return this.take(8).readBigUInt64BE(0);
  }
  string(): Buffer {
    return this.take(this.uint32());
  }
  text(): string {
    return this.string().toString('utf8');
  }
  /** A sequence of strings packed inside one string (principals). */
  strings(): string[] {
    const inner = new Reader(this.string());
    const out: string[] = [];
    while (inner.offset < inner.buffer.length) out.push(inner.text());
    return out;
  }
  /** Names of a name/data tuple list packed inside one string (options, extensions). */
  names(): string[] {
    const inner = new Reader(this.string());
    const out: string[] = [];
    while (inner.offset < inner.buffer.length) {
      out.push(inner.text());
      inner.string();
    }
    return out;
  }
}

function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}

/** True when `text` is a certificate line (`ssh-ed25519-cert-v01@openssh.com AAAA… comment`). */
export function looksLikeCertificate(text: string | Buffer): boolean {
  return /^\s*[a-z0-9-]+-cert-v01@openssh\.com\s/.test(text.toString('latin1').slice(0, 200));
}

/**
 * Parses an OpenSSH certificate: a `-cert.pub` file's contents or the binary blob (as an agent
 * lists it). Throws CONFIG_INVALID naming `label` when it is not a certificate fwd can use.
 *
 * @example parseCertificate(readFileSync('/home/alice/.ssh/id_ed25519-cert.pub'), '~/.ssh/id_ed25519-cert.pub')
 */
export function parseCertificate(data: string | Buffer, label: string): OpenSshCertificate {
  const blob = Buffer.isBuffer(data) && !looksLikeCertificate(data) ? data : textToBlob(data, label);
  try {
    const reader = new Reader(blob);
    const type = reader.text();
    const keyType = CERTIFIED_TYPES[type];
    if (keyType === undefined) {
      throw new FwdError(
        'CONFIG_INVALID',
        `${label}: certificate type ${JSON.stringify(type.slice(0, 60))} is not supported (ed25519, ECDSA and RSA certificates are)`,
      );
    }
    reader.string(); // nonce
    const keyStart = reader.offset;
    for (let i = 0; i < (KEY_FIELDS[keyType] ?? 0); i++) reader.string();
    const publicKey = Buffer.concat([sshString(keyType), blob.subarray(keyStart, reader.offset)]);
    const serial = reader.uint64();
    const kind = reader.uint32() === SSH_CERT_TYPE_USER ? 'user' : 'host';
    const keyId = reader.text();
    const principals = reader.strings();
    const validAfter = reader.uint64();
    const validBefore = reader.uint64();
    const criticalOptions = reader.names();
    const extensions = reader.names();
    reader.string(); // reserved
    reader.string(); // signature key
    reader.string(); // signature
    return {
      type,
      keyType,
      blob,
      publicKey,
      serial,
      kind,
      keyId,
      principals,
      validAfter,
      validBefore,
      criticalOptions,
      extensions,
    };
  } catch (err) {
    if (err instanceof FwdError) throw err;
    throw new FwdError('CONFIG_INVALID', `${label}: not a valid OpenSSH certificate (${String(err)})`, {
      cause: err,
    });
  }
}

function textToBlob(data: string | Buffer, label: string): Buffer {
  const [type, base64] = data.toString('utf8').trim().split(/\s+/);
  if (!type?.endsWith('-cert-v01@openssh.com') || !base64) {
    throw new FwdError(
      'CONFIG_INVALID',
      `${label}: not an OpenSSH certificate (expected a line like "ssh-ed25519-cert-v01@openssh.com AAAA…", as ssh-keygen -s writes)`,
    );
  }
  const blob = Buffer.from(base64, 'base64');
  if (!blob.subarray(4, 4 + type.length).equals(Buffer.from(type))) {
    throw new FwdError('CONFIG_INVALID', `${label}: the certificate's type does not match its data`);
  }
  return blob;
}

/** "2026-05-01 10:00:00 UTC": one unambiguous form for every message. */
function formatTime(seconds: bigint): string {
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The validity window as OpenSSH's `ssh-keygen -L` words it: "from X to Y", "forever", … */
export function describeValidity(cert: OpenSshCertificate): string {
  const always = cert.validAfter === 0n;
  const never = cert.validBefore === FOREVER;
  if (always && never) return 'forever';
  if (always) return `before ${formatTime(cert.validBefore)}`;
  if (never) return `after ${formatTime(cert.validAfter)}`;
  return `from ${formatTime(cert.validAfter)} to ${formatTime(cert.validBefore)}`;
}

/**
 * Why `cert` cannot be used at `nowMs`, or undefined when it can: not a user certificate,
 * expired, or not yet valid (with its window, so the user knows to renew or wait).
 */
export function certificateProblem(cert: OpenSshCertificate, nowMs: number): string | undefined {
  if (cert.kind !== 'user') return 'is a host certificate, not a user certificate';
  const now = BigInt(Math.floor(nowMs / 1000));
  if (now < cert.validAfter) return `is not valid yet (valid ${describeValidity(cert)})`;
  if (now >= cert.validBefore)
    return `expired at ${formatTime(cert.validBefore)} (valid ${describeValidity(cert)})`;
  return undefined;
}
