import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { SocksClient } from 'socks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ForwardTarget } from './endpoints.js';
import { fromChannelOpenError } from './error-translation.js';
import { FwdError } from './errors.js';
import { ListeningForward } from './listening-forward.js';
import { socksNegotiator } from './socks-negotiator.js';

// The server side of SOCKS5 (RFC 1928) and SOCKS4/4a over real loopback sockets: a client
// writes the bytes the RFCs define, the negotiator reads them from an accepted socket set up
// as ListeningForward sets it up (paused, half-open allowed).

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A connected pair: `client` speaks SOCKS, `accepted` is what the negotiator reads. */
async function pair(): Promise<{ client: Socket; accepted: Socket; replies: Replies }> {
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({
    port: (server.address() as AddressInfo).port,
    host: '127.0.0.1',
    allowHalfOpen: true,
  });
  sockets.push(client);
  const [socket] = await accepted;
  sockets.push(socket);
  return { client, accepted: socket, replies: new Replies(client) };
}

/** Everything the client receives, read by exact counts, and whether the server ended. */
class Replies {
  #bytes = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(client: Socket) {
    client.on('data', (chunk: Buffer) => {
      this.#bytes = Buffer.concat([this.#bytes, chunk]);
      this.#wake?.();
    });
    client.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    client.on('error', () => undefined);
  }

  /** The next `n` bytes; fails if the server ends first. */
  async take(n: number): Promise<number[]> {
    while (this.#bytes.length < n && !this.#ended) await new Promise<void>((r) => (this.#wake = r));
    expect(this.#bytes.length, `waiting for ${n} bytes`).toBeGreaterThanOrEqual(n);
    const out = [...this.#bytes.subarray(0, n)];
    this.#bytes = this.#bytes.subarray(n);
    return out;
  }

  /** Resolves with the bytes still unread once the server has ended its side. */
  async end(): Promise<number[]> {
    while (!this.#ended) await new Promise<void>((r) => (this.#wake = r));
    return [...this.#bytes];
  }
}

const port8888 = [0x22, 0xb8];
const GREETING = [5, 1, 0]; // VER, NMETHODS, NO AUTHENTICATION REQUIRED
const SOCKS5_OK = [5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
const socks5Reply = (rep: number): number[] => [5, rep, 0, 1, 0, 0, 0, 0, 0, 0];
const SOCKS4_GRANTED = [0, 0x5a, 0, 0, 0, 0, 0, 0];
const SOCKS4_REJECTED = [0, 0x5b, 0, 0, 0, 0, 0, 0];

/** A SOCKS5 CONNECT request (RFC 1928 §4) for an address of type `atyp`. */
function connectRequest(atyp: number, address: number[], cmd = 1): number[] {
  return [5, cmd, 0, atyp, ...address, ...port8888];
}

const domain = (name: string): number[] => [name.length, ...Buffer.from(name, 'latin1')];

/** Negotiates a SOCKS5 CONNECT; resolves with the target the negotiator learned. */
async function socks5(request: number[]) {
  const { client, accepted, replies } = await pair();
  const negotiator = socksNegotiator();
  const target = negotiator.target(accepted);
  client.write(Buffer.from(GREETING));
  expect(await replies.take(2)).toEqual([5, 0]);
  client.write(Buffer.from(request));
  return { client, accepted, replies, negotiator, target: await target };
}

describe('socksNegotiator, SOCKS5 (RFC 1928)', () => {
  it('learns an IPv4 CONNECT target and answers success once opened', async () => {
    const { replies, negotiator, accepted, target } = await socks5(connectRequest(1, [10, 0, 0, 7]));
    expect(target).toEqual({ host: '10.0.0.7', port: 8888 });
    negotiator.opened?.(accepted);
    expect(await replies.take(10)).toEqual(SOCKS5_OK);
  });

  it('learns IPv6 targets in RFC 5952 text form (zeros compressed, as logs show them)', async () => {
    const learned = async (bytes: number[]) => (await socks5(connectRequest(4, bytes))).target;
    expect(await learned([...Array(15).fill(0), 1])).toEqual({ host: '::1', port: 8888 });
    // RFC 5952 section 4's own examples: the longest zero run goes, a single zero group stays.
    const doc = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a];
    expect(await learned(doc)).toEqual({ host: '2001:db8::8:800:200c:417a', port: 8888 });
    const oneZero = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1];
    expect(await learned(oneZero)).toEqual({ host: '2001:db8:0:1:1:1:1:1', port: 8888 });
    const twoRuns = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
    expect(await learned(twoRuns)).toEqual({ host: '2001:db8::1:0:0:1', port: 8888 });
  });

  it('learns a domain name target unresolved (the server resolves it)', async () => {
    const { target } = await socks5(connectRequest(3, domain('node7.cluster')));
    expect(target).toEqual({ host: 'node7.cluster', port: 8888 });
  });

  it('picks no-auth among several offered methods', async () => {
    const { client, accepted, replies } = await pair();
    const target = socksNegotiator().target(accepted);
    client.write(Buffer.from([5, 3, 2, 1, 0])); // user/pass, GSSAPI, none
    expect(await replies.take(2)).toEqual([5, 0]);
    client.write(Buffer.from(connectRequest(1, [127, 0, 0, 1])));
    expect(await target).toEqual({ host: '127.0.0.1', port: 8888 });
  });

  it('reads a handshake sent one byte per packet, and one sent in one write with data after it', async () => {
    const { client, accepted, replies } = await pair();
    const target = socksNegotiator().target(accepted);
    for (const byte of [...GREETING, ...connectRequest(1, [10, 0, 0, 7])]) {
      client.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    expect(await replies.take(2)).toEqual([5, 0]);
    expect(await target).toEqual({ host: '10.0.0.7', port: 8888 });

    // Optimistic data (sent before the reply) stays in the socket for the target.
    const eager = await pair();
    const eagerTarget = socksNegotiator().target(eager.accepted);
    eager.client.write(
      Buffer.from([...GREETING, ...connectRequest(3, domain('node7')), ...Buffer.from('GET /')]),
    );
    expect(await eagerTarget).toEqual({ host: 'node7', port: 8888 });
    expect(eager.accepted.isPaused()).toBe(true);
    eager.accepted.resume();
    const [data] = (await once(eager.accepted, 'data')) as [Buffer];
    expect(data.toString()).toBe('GET /');
  });

  it('answers NO ACCEPTABLE METHODS (0xFF) when no-auth is not offered', async () => {
    const { client, accepted, replies } = await pair();
    const target = socksNegotiator().target(accepted);
    client.write(Buffer.from([5, 1, 2])); // username/password only
    expect(await target).toBeUndefined();
    expect(await replies.end()).toEqual([5, 0xff]);
  });

  it('answers COMMAND NOT SUPPORTED (7) to BIND and UDP ASSOCIATE, after the whole request', async () => {
    for (const cmd of [2, 3]) {
      const { target, replies } = await socks5(connectRequest(3, domain('node7'), cmd));
      expect(target).toBeUndefined();
      expect(await replies.end()).toEqual(socks5Reply(7));
    }
  });

  it('answers ADDRESS TYPE NOT SUPPORTED (8) to an unknown address type', async () => {
    const { target, replies } = await socks5([5, 1, 0, 2, 1, 2, 3, 4, ...port8888]);
    expect(target).toBeUndefined();
    expect(await replies.end()).toEqual(socks5Reply(8));
  });

  it('answers HOST UNREACHABLE (4) to an empty domain name instead of opening a channel to ""', async () => {
    const { target, replies } = await socks5(connectRequest(3, domain('')));
    expect(target).toBeUndefined();
    expect(await replies.end()).toEqual(socks5Reply(4));
  });

  it('gives up without a reply on a request that is not SOCKS5', async () => {
    const { target, replies, accepted } = await socks5([4, 1, 0, 1, 10, 0, 0, 7, ...port8888]);
    expect(target).toBeUndefined();
    accepted.destroy(); // what ListeningForward does with an undefined target
    expect(await replies.end()).toEqual([]);
  });
});

describe('socksNegotiator, SOCKS4 and SOCKS4a', () => {
  async function socks4(request: number[]) {
    const { client, accepted, replies } = await pair();
    const negotiator = socksNegotiator();
    const target = negotiator.target(accepted);
    client.write(Buffer.from(request));
    return { client, accepted, replies, negotiator, target: await target };
  }
  const user = (name: string): number[] => [...Buffer.from(name), 0];

  it('learns a SOCKS4 CONNECT target (user id ignored) and answers granted (0x5A) once opened', async () => {
    const { target, negotiator, accepted, replies } = await socks4([
      4,
      1,
      ...port8888,
      10,
      0,
      0,
      7,
      ...user('alice'),
    ]);
    expect(target).toEqual({ host: '10.0.0.7', port: 8888 });
    negotiator.opened?.(accepted);
    expect(await replies.take(8)).toEqual(SOCKS4_GRANTED);
  });

  it('learns a SOCKS4a name (address 0.0.0.x) and answers rejected (0x5B) when the open fails', async () => {
    const { target, negotiator, accepted, replies } = await socks4([
      4,
      1,
      ...port8888,
      0,
      0,
      0,
      1,
      ...user(''),
      ...user('node7.cluster'),
    ]);
    expect(target).toEqual({ host: 'node7.cluster', port: 8888 });
    negotiator.failed?.(accepted, new FwdError('CHANNEL_REFUSED', 'no'));
    expect(await replies.end()).toEqual(SOCKS4_REJECTED);
  });

  it('takes 0.0.0.0 as an address, not as a SOCKS4a marker (x must be nonzero)', async () => {
    const { target } = await socks4([4, 1, ...port8888, 0, 0, 0, 0, ...user('alice')]);
    expect(target).toEqual({ host: '0.0.0.0', port: 8888 });
  });

  it('rejects BIND (command 2) with 0x5B', async () => {
    const { target, replies } = await socks4([4, 2, ...port8888, 10, 0, 0, 7, ...user('alice')]);
    expect(target).toBeUndefined();
    expect(await replies.end()).toEqual(SOCKS4_REJECTED);
  });

  it('gives up on a user id longer than 255 bytes without its NUL', async () => {
    const { target } = await socks4([4, 1, ...port8888, 10, 0, 0, 7, ...Buffer.alloc(300, 0x61)]);
    expect(target).toBeUndefined();
  });
});

describe('socksNegotiator, clients that do not finish', () => {
  const stops: Array<[string, number[]]> = [
    ['before the first byte', []],
    ['after the greeting', GREETING],
    ['inside the SOCKS5 address', [...GREETING, 5, 1, 0, 3, 20, ...Buffer.from('node')]],
    ['before the SOCKS5 port', [...GREETING, 5, 1, 0, 1, 10, 0, 0, 7]],
    ['inside the SOCKS4 user id', [4, 1, ...port8888, 10, 0, 0, 7, 0x61]],
    ['inside the SOCKS4a name', [4, 1, ...port8888, 0, 0, 0, 1, 0, 0x6e]],
  ];

  it.each(stops)('resolves undefined when the client ends %s', async (_, bytes) => {
    const { client, accepted } = await pair();
    const target = socksNegotiator().target(accepted);
    client.end(Buffer.from(bytes));
    expect(await target).toBeUndefined();
  });

  it('resolves undefined when the client resets mid-handshake', async () => {
    const { client, accepted, replies } = await pair();
    accepted.on('error', () => undefined);
    const target = socksNegotiator().target(accepted);
    client.write(Buffer.from([...GREETING, 5, 1]));
    expect(await replies.take(2)).toEqual([5, 0]);
    client.resetAndDestroy();
    expect(await target).toBeUndefined();
  });

  it('resolves undefined, nothing written, for a first byte that is no SOCKS version', async () => {
    const { client, accepted, replies } = await pair();
    const target = socksNegotiator().target(accepted);
    client.write('GET / HTTP/1.1\r\n\r\n');
    expect(await target).toBeUndefined();
    accepted.destroy();
    expect(await replies.end()).toEqual([]);
  });

  it('closes a client that stays silent for the 10 s handshake bound, not before', async () => {
    const { accepted } = await pair();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const target = socksNegotiator().target(accepted);
    vi.advanceTimersByTime(9_999);
    expect(accepted.destroyed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(accepted.destroyed).toBe(true);
    expect(await target).toBeUndefined();
  });

  it('drops the bound once the handshake completes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { accepted, target } = await socks5(connectRequest(1, [10, 0, 0, 7]));
    expect(target).toBeDefined();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(accepted.destroyed).toBe(false);
  });
});

describe('socksNegotiator.failed, SOCKS5 reply codes', () => {
  const where = 'alice@login:22';
  const openFailure = (reason: number) =>
    fromChannelOpenError(
      Object.assign(new Error('(SSH) Channel open failure: x'), { reason }),
      'node7:8888',
      where,
    );

  it.each([
    ['administratively prohibited → not allowed by ruleset (2)', openFailure(1), 2],
    ['connect failed → connection refused (5)', openFailure(2), 5],
    ['another refusal → host unreachable (4)', openFailure(4), 4],
    ['a lost session → general failure (1)', new FwdError('TRANSPORT_CLOSED', 'gone'), 1],
  ])('%s', async (_, error, rep) => {
    const { negotiator, accepted, replies } = await socks5(connectRequest(3, domain('node7')));
    negotiator.failed?.(accepted, error);
    expect(await replies.end()).toEqual(socks5Reply(rep));
  });

  it('writes nothing to a socket already destroyed', async () => {
    const { negotiator, accepted } = await socks5(connectRequest(3, domain('node7')));
    accepted.destroy();
    const errors: Error[] = [];
    accepted.on('error', (e) => errors.push(e));
    negotiator.failed?.(accepted, openFailure(2));
    await new Promise((r) => setImmediate(r));
    expect(errors).toEqual([]);
  });
});

describe('socksNegotiator behind a ListeningForward, with the socks npm client', () => {
  async function echoOpener(seen: ForwardTarget[]) {
    const echo = createServer((s) => s.pipe(s));
    servers.push(echo);
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const port = (echo.address() as AddressInfo).port;
    return async (target: ForwardTarget) => {
      seen.push(target);
      if ('host' in target && target.host === 'refused.example') throw openFailureError();
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      await once(socket, 'connect');
      return socket;
    };
  }
  const openFailureError = () =>
    fromChannelOpenError(
      Object.assign(new Error('open failed'), { reason: 2 }),
      'refused.example:80',
      'login',
    );

  it('carries SOCKS5, SOCKS4 and SOCKS4a clients, and reports a refused open as connection refused', async () => {
    const seen: ForwardTarget[] = [];
    await using forward = await ListeningForward.listen(await echoOpener(seen), socksNegotiator(), {
      bind: { host: '127.0.0.1', port: 0 },
    });
    const proxy = { host: '127.0.0.1', port: (forward.address as { port: number }).port };
    for (const [type, host] of [
      [5, 'node7.cluster'],
      [4, '10.0.0.7'],
      [4, 'node7.cluster'],
    ] as const) {
      const { socket } = await SocksClient.createConnection({
        proxy: { ...proxy, type },
        command: 'connect',
        destination: { host, port: 8888 },
      });
      sockets.push(socket);
      socket.write(`hello ${type}`);
      const [echoed] = (await once(socket, 'data')) as [Buffer];
      expect(echoed.toString()).toBe(`hello ${type}`);
    }
    expect(seen).toEqual([
      { host: 'node7.cluster', port: 8888 },
      { host: '10.0.0.7', port: 8888 },
      { host: 'node7.cluster', port: 8888 },
    ]);
    await expect(
      SocksClient.createConnection({
        proxy: { ...proxy, type: 5 },
        command: 'connect',
        destination: { host: 'refused.example', port: 80 },
      }),
    ).rejects.toThrow(/ConnectionRefused/);
  });
});
