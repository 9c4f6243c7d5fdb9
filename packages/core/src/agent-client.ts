import { connect as netConnect } from 'node:net';
import type { ParsedKey } from 'ssh2';
import { certificateOf, certifiedPublicKey } from './certified-key.js';
import { certificateProblem, type OpenSshCertificate, parseCertificate } from './openssh-certificate.js';
import { ssh2 } from './ssh2-adapter.js';

// ssh2's own agent client drops every certificate an agent holds (it cannot parse them), so fwd
// speaks the agent protocol (PROTOCOL.agent, draft-miller-ssh-agent) itself: two requests.

const SSH_AGENTC_REQUEST_IDENTITIES = 11;
const SSH_AGENT_IDENTITIES_ANSWER = 12;
const SSH_AGENTC_SIGN_REQUEST = 13;
const SSH_AGENT_SIGN_RESPONSE = 14;
const SSH_AGENT_RSA_SHA2_256 = 2;
const SSH_AGENT_RSA_SHA2_512 = 4;
/** Replies larger than this are not an agent's (OpenSSH caps messages at 256 KiB). */
const MAX_REPLY = 256 * 1024;

export interface AgentIdentity {
  /** The key or certificate blob as the agent lists it. */
  readonly blob: Buffer;
  readonly comment: string;
}

type SignCallback = (err: Error | undefined, signature?: Buffer) => void;

/** An agent message: type, SSH strings, then an optional uint32 (the sign request's flags). */
function frame(type: number, fields: Buffer[] = [], flags?: number): Buffer {
  const parts: Buffer[] = [Buffer.from([type])];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(field.length, 0);
    parts.push(length, field);
  }
  if (flags !== undefined) {
    const raw = Buffer.alloc(4);
    raw.writeUInt32BE(flags, 0);
    parts.push(raw);
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** One request on a fresh connection, as OpenSSH's client does; resolves with the reply body. */
function request(socketPath: string, message: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(socketPath);
    let received = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(new Error(`ssh-agent at ${socketPath}: ${err.message}`));
    };
    socket.on('error', fail);
    socket.on('connect', () => socket.write(message));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const length = received.readUInt32BE(0);
      if (length > MAX_REPLY) return fail(new Error('reply too large'));
      if (received.length < 4 + length) return;
      socket.destroy();
      resolve(received.subarray(4, 4 + length));
    });
    socket.on('end', () => fail(new Error('closed before replying')));
  });
}

function readString(buffer: Buffer, offset: number): [Buffer, number] {
  const length = buffer.readUInt32BE(offset);
  if (offset + 4 + length > buffer.length) throw new RangeError('truncated agent reply');
  return [buffer.subarray(offset + 4, offset + 4 + length), offset + 4 + length];
}

/** The keys and certificates an agent holds, in its order. */
export async function listAgentIdentities(socketPath: string): Promise<AgentIdentity[]> {
  const reply = await request(socketPath, frame(SSH_AGENTC_REQUEST_IDENTITIES));
  if (reply[0] !== SSH_AGENT_IDENTITIES_ANSWER)
    throw new Error(`ssh-agent at ${socketPath} refused to list keys`);
  const count = reply.readUInt32BE(1);
  const out: AgentIdentity[] = [];
  let offset = 5;
  for (let i = 0; i < count; i++) {
    const [blob, next] = readString(reply, offset);
    const [comment, after] = readString(reply, next);
    out.push({ blob: Buffer.from(blob), comment: comment.toString('utf8') });
    offset = after;
  }
  return out;
}

/** Agent flags for an RSA signature hash; 0 (the key's own algorithm) for everything else. */
function rsaFlags(algorithm: string, hash: string | undefined): number {
  if (algorithm.startsWith('rsa-sha2-512') || (algorithm === 'ssh-rsa' && hash === 'sha512'))
    return SSH_AGENT_RSA_SHA2_512;
  if (algorithm.startsWith('rsa-sha2-256') || (algorithm === 'ssh-rsa' && hash === 'sha256'))
    return SSH_AGENT_RSA_SHA2_256;
  return 0;
}

export interface CertificateAgentOptions {
  /** Certificates given by the user (CertificateFile) whose private key may be in the agent. */
  certificates?: readonly OpenSshCertificate[];
  /** Told about each certificate left out (expired, not yet valid, a host certificate). */
  onSkip?: (what: string, why: string) => void;
  /** Clock for validity checks (tests). */
  now?: () => number;
  /**
   * OpenSSH's IdentitiesOnly: offer only the agent's identities whose key is one of these public
   * key blobs (the user's identity and certificate files), not every key the agent holds.
   */
  only?: readonly Buffer[];
}

/**
 * An ssh2 agent for an OpenSSH-protocol socket that also offers certificates: the ones the agent
 * holds, and the user's certificates whose plain key the agent holds (signed with that key, as
 * OpenSSH does). Certificates out of their validity window are left out and reported.
 */
export class CertificateAgent extends ssh2.BaseAgent<ParsedKey> {
  readonly #socketPath: string;
  readonly #options: CertificateAgentOptions;
  /** For certificates made from a user's file: the agent signs with the plain key's blob. */
  readonly #signAs = new WeakMap<object, Buffer>();

  constructor(socketPath: string, options: CertificateAgentOptions = {}) {
    super();
    this.#socketPath = socketPath;
    this.#options = options;
  }

  override getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    listAgentIdentities(this.#socketPath).then(
      (identities) => cb(undefined, this.#usable(identities)),
      (err: Error) => cb(err),
    );
  }

  #usable(identities: readonly AgentIdentity[]): ParsedKey[] {
    const now = this.#options.now?.() ?? Date.now();
    const fromFiles: ParsedKey[] = [];
    for (const cert of this.#options.certificates ?? []) {
      const plain = identities.find((id) => id.blob.equals(cert.publicKey));
      if (!plain || certificateProblem(cert, now) !== undefined) continue;
      const key = certifiedPublicKey(cert);
      this.#signAs.set(key, plain.blob);
      fromFiles.push(key);
    }
    const held: ParsedKey[] = [];
    for (const { blob, comment } of identities) {
      const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1');
      if (type.endsWith('-cert-v01@openssh.com')) {
        let cert: OpenSshCertificate;
        try {
          cert = parseCertificate(blob, `agent certificate ${comment}`);
        } catch (err) {
          this.#options.onSkip?.(`agent certificate ${comment}`, (err as Error).message);
          continue;
        }
        if (!this.#allowed(cert.publicKey)) continue;
        const problem = certificateProblem(cert, now);
        if (problem !== undefined) this.#options.onSkip?.(`agent certificate ${comment}`, problem);
        else held.push(certifiedPublicKey(cert));
        continue;
      }
      if (!this.#allowed(blob)) continue;
      const parsed = ssh2.utils.parseKey(blob);
      // Key types ssh2 cannot use (e.g. security keys) are skipped, as ssh2's own client does.
      if (parsed instanceof Error) continue;
      const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
      key.comment ||= comment;
      held.push(key);
    }
    // OpenSSH tries the user's certificates first, then the agent's keys in the agent's order.
    return [...fromFiles, ...held];
  }

  #allowed(publicKey: Buffer): boolean {
    const only = this.#options.only;
    return only === undefined || only.some((allowed) => allowed.equals(publicKey));
  }

  override sign(
    key: ParsedKey,
    data: Buffer,
    options: { hash?: string } | SignCallback,
    callback?: SignCallback,
  ): void {
    const cb = (typeof options === 'function' ? options : callback) as SignCallback;
    const hash = typeof options === 'function' ? undefined : options?.hash;
    const blob = this.#signAs.get(key) ?? key.getPublicSSH();
    const algorithm = String(key.type);
    request(this.#socketPath, frame(SSH_AGENTC_SIGN_REQUEST, [blob, data], rsaFlags(algorithm, hash))).then(
      (reply) => {
        // SSH_AGENT_FAILURE: a locked agent, a key removed since listing, a refused confirmation.
        if (reply[0] !== SSH_AGENT_SIGN_RESPONSE) {
          const what = certificateOf(key) ? `certificate ${key.comment}` : `key ${key.comment}`;
          return cb(new Error(`ssh-agent refused to sign with ${what}`));
        }
        try {
          // The reply is "string algorithm, string signature"; ssh2 wants the bare signature.
          const [inner] = readString(reply, 1);
          const [, next] = readString(inner, 0);
          const [signature] = readString(inner, next);
          cb(undefined, Buffer.from(signature));
        } catch (err) {
          cb(err as Error);
        }
      },
      (err: Error) => cb(err),
    );
  }
}
