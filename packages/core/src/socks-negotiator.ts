import type { Socket } from 'node:net';
import type { ForwardTarget } from './endpoints.js';
import type { FwdError } from './errors.js';
import type { Negotiator } from './listening-forward.js';

// SOCKS5 (RFC 1928, no authentication, CONNECT only) and SOCKS4/4a, server side. Hand-written:
// the npm SOCKS servers own their listener, and ours must keep allowHalfOpen and our bind errors.

const HANDSHAKE_TIMEOUT_MS = 10_000;

const SOCKS5_REPLY = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

/** Reads exact byte counts from a paused socket; leftovers go back with unshift. */
class ByteReader {
  readonly #socket: Socket;
  #buffered: Buffer = Buffer.alloc(0);

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  async read(n: number): Promise<Buffer | undefined> {
    while (this.#buffered.length < n) {
      const chunk = await nextChunk(this.#socket);
      if (chunk === undefined) return undefined;
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
    }
    const out = this.#buffered.subarray(0, n);
    this.#buffered = this.#buffered.subarray(n);
    return out;
  }

  async readUntilNul(max: number): Promise<Buffer | undefined> {
    for (;;) {
      const at = this.#buffered.indexOf(0);
      if (at !== -1) {
        const out = this.#buffered.subarray(0, at);
        this.#buffered = this.#buffered.subarray(at + 1);
        return out;
      }
      if (this.#buffered.length > max) return undefined;
      const chunk = await nextChunk(this.#socket);
      if (chunk === undefined) return undefined;
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
    }
  }

  /** Bytes the client sent after its request ("optimistic data") must reach the target. */
  giveBack(): void {
    this.#socket.pause();
    if (this.#buffered.length > 0) this.#socket.unshift(this.#buffered);
  }
}

function nextChunk(socket: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      cleanup();
      socket.pause();
      resolve(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}

interface Pending {
  version: 4 | 5;
}

/**
 * The negotiator for dynamic (`-D`) forwards: speaks SOCKS to learn each connection's target,
 * answers success once the SSH channel is open, or the matching SOCKS error when it is refused.
 */
export function socksNegotiator(): Negotiator {
  const pending = new WeakMap<Socket, Pending>();
  return {
    async target(socket) {
      const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
      try {
        const reader = new ByteReader(socket);
        const head = await reader.read(1);
        let target: ForwardTarget | undefined;
        if (head?.[0] === 5) target = await socks5Request(socket, reader);
        else if (head?.[0] === 4) target = await socks4Request(socket, reader);
        if (target === undefined) return undefined;
        pending.set(socket, { version: head?.[0] === 4 ? 4 : 5 });
        reader.giveBack();
        return target;
      } finally {
        clearTimeout(timer);
      }
    },
    opened(socket) {
      if (pending.get(socket)?.version === 4) socket.write(Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]));
      else socket.write(Buffer.from([5, SOCKS5_REPLY.succeeded, 0, 1, 0, 0, 0, 0, 0, 0]));
    },
    failed(socket, error) {
      if (socket.destroyed) return false;
      if (pending.get(socket)?.version === 4) socket.end(Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]));
      else socket.end(Buffer.from([5, socks5ReplyFor(error), 0, 1, 0, 0, 0, 0, 0, 0]));
      return false;
    },
  };
}

async function socks5Request(socket: Socket, reader: ByteReader): Promise<ForwardTarget | undefined> {
  const count = await reader.read(1);
  if (count === undefined) return undefined;
  const methods = await reader.read(count[0] ?? 0);
  if (methods === undefined) return undefined;
  if (!methods.includes(0)) {
    socket.end(Buffer.from([5, 0xff]));
    return undefined;
  }
  socket.write(Buffer.from([5, 0]));
  const request = await reader.read(4);
  if (request === undefined || request[0] !== 5) return undefined;
  const [, command, , addressType] = request;
  let host: string | undefined;
  if (addressType === 1) {
    const ip = await reader.read(4);
    host = ip && [...ip].join('.');
  } else if (addressType === 3) {
    const len = await reader.read(1);
    const name = len && (await reader.read(len[0] ?? 0));
    host = name?.toString('latin1');
  } else if (addressType === 4) {
    const ip = await reader.read(16);
    host = ip && formatIPv6(ip);
  } else {
    socket.end(Buffer.from([5, SOCKS5_REPLY.addressTypeNotSupported, 0, 1, 0, 0, 0, 0, 0, 0]));
    return undefined;
  }
  const portBytes = await reader.read(2);
  if (host === undefined || portBytes === undefined) return undefined;
  if (command !== 1) {
    socket.end(Buffer.from([5, SOCKS5_REPLY.commandNotSupported, 0, 1, 0, 0, 0, 0, 0, 0]));
    return undefined;
  }
  // An empty name would become a channel to "" (sshd then resolves nothing): refuse it here.
  if (host === '') {
    socket.end(Buffer.from([5, SOCKS5_REPLY.hostUnreachable, 0, 1, 0, 0, 0, 0, 0, 0]));
    return undefined;
  }
  return { host, port: portBytes.readUInt16BE(0) };
}

async function socks4Request(socket: Socket, reader: ByteReader): Promise<ForwardTarget | undefined> {
  const request = await reader.read(7);
  if (request === undefined) return undefined;
  const command = request[0];
  const port = request.readUInt16BE(1);
  const ip = [...request.subarray(3, 7)];
  const user = await reader.readUntilNul(255);
  if (user === undefined) return undefined;
  let host = ip.join('.');
  // SOCKS4a: 0.0.0.x (x ≠ 0) means "the name follows".
  if (ip[0] === 0 && ip[1] === 0 && ip[2] === 0 && ip[3] !== 0) {
    const name = await reader.readUntilNul(255);
    if (name === undefined) return undefined;
    host = name.toString('latin1');
  }
  if (command !== 1) {
    socket.end(Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]));
    return undefined;
  }
  return { host, port };
}

/** RFC 5952's text form ("::1", "2001:db8::8:800:200c:417a"), as logs and `ss` show it. */
function formatIPv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // The WHATWG URL serializer compresses the longest run of zero groups, as RFC 5952 asks.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function socks5ReplyFor(error: FwdError): number {
  const reason = (error.cause as { reason?: unknown } | undefined)?.reason;
  if (reason === 1) return SOCKS5_REPLY.notAllowed;
  if (reason === 2) return SOCKS5_REPLY.connectionRefused;
  if (error.code === 'CHANNEL_REFUSED') return SOCKS5_REPLY.hostUnreachable;
  return SOCKS5_REPLY.generalFailure;
}
