import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { failure } from '../../../test/support/failure.js';
import { websocketTransport } from './ws-transport.js';

const TOKEN = 'transport-test-token-0123456789';
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A bare websocket server standing in for a relay; `onConnection` plays its part. */
async function fakeRelay(
  onConnection: (ws: WebSocket) => void,
  options: { autoPong?: boolean } = {},
): Promise<{ url: string; messages: Buffer[]; headers: Array<Record<string, unknown>> }> {
  const messages: Buffer[] = [];
  const headers: Array<Record<string, unknown>> = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong: options.autoPong ?? true });
  await once(wss, 'listening');
  wss.on('connection', (ws, req) => {
    headers.push({ ...req.headers });
    ws.on('message', (data: Buffer) => messages.push(data));
    onConnection(ws);
  });
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/ssh`, messages, headers };
}

/** Completes websocket upgrades by hand and keeps the raw bytes the client sends afterwards. */
async function rawUpgrade(): Promise<{ url: string; received: Buffer[] }> {
  const received: Buffer[] = [];
  const server: Server = createHttpServer();
  const sockets = new Set<Duplex>();
  server.on('upgrade', (req, socket: Duplex) => {
    sockets.add(socket);
    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}/ssh`, received };
}

/** An HTTP server that answers every request (upgrade or not) with `status`. */
async function httpAnswering(status: number, body = '', extra: Record<string, string> = {}): Promise<string> {
  const server: Server = createHttpServer((_req, res) => res.writeHead(status, extra).end(body));
  server.on('upgrade', (_req, socket: Socket) => {
    socket.end(
      `HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n${Object.entries(extra)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n${body}`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `ws://127.0.0.1:${(server.address() as { port: number }).port}/ssh`;
}

function connect(
  url: string,
  extra: Parameters<typeof websocketTransport>[0] | object = {},
): Promise<Duplex> {
  return websocketTransport({ url, token: TOKEN, agent: false, ...extra }).connect(
    AbortSignal.timeout(5_000),
  );
}

function outcome(stream: Duplex): Promise<Error | 'end'> {
  return new Promise((resolve) => {
    stream.once('error', resolve);
    stream.once('end', () => resolve('end'));
    stream.resume();
  });
}

describe('websocketTransport', () => {
  it('describes the relay with credentials and token-like parameters masked, and names the SSH host for host keys', () => {
    const t = websocketTransport({
      url: `wss://user:pw@relay.example/ssh?token=${TOKEN}`,
      token: TOKEN,
      target: { host: 'login' },
    });
    expect(t.description).toBe('ws wss://***@relay.example/ssh?token=*** → login:22');
    expect(t.endpoint).toEqual({ host: 'login', port: 22 });
    expect(t.description).not.toContain(TOKEN);
    const explicit = websocketTransport({ url: 'ws://relay/', endpoint: { host: 'login', port: 2222 } });
    expect(explicit.description).toBe('ws ws://relay/');
    expect(explicit.endpoint).toEqual({ host: 'login', port: 2222 });
    expect(websocketTransport({ url: 'ws://relay/' }).endpoint).toBeUndefined();
  });

  it('warns once, before the first handshake, when the token would go out in plain text', async () => {
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    const attempt = (url: string, extra: object = {}): Promise<unknown> => {
      // An aborted signal: the warning comes first, and nothing leaves this machine.
      const transport = websocketTransport({ url, token: TOKEN, warn, agent: false, ...extra });
      return Promise.allSettled([
        transport.connect(AbortSignal.abort()),
        transport.connect(AbortSignal.abort()),
      ]);
    };
    await attempt(`ws://user:pw@relay.example:8080/ssh?token=${TOKEN}`);
    expect(warnings).toEqual([
      'relay ws://***@relay.example:8080/ssh?token=***: the relay token is sent in plain text (ws:// to relay.example); anyone on the path can read and reuse it: use wss://',
    ]);
    await attempt('wss://relay.example/ssh');
    await attempt('ws://127.0.0.1:8080/ssh');
    await attempt('ws://[::1]:8080/ssh');
    await attempt('ws://localhost:8080/ssh');
    await attempt('ws://relay.example/ssh', { token: undefined });
    expect(warnings).toHaveLength(1);
  });

  it('sends the Bearer token even when the URL carries user:password (which ws would send as Basic)', async () => {
    const relay = await fakeRelay(() => {});
    const withUser = relay.url.replace('ws://', 'ws://alice:pw@');
    const stream = await connect(withUser, { headers: { Authorization: 'Basic c3RhbGU=' } });
    expect(relay.headers[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    stream.destroy();
    const viaSubprotocol = await connect(withUser, { tokenInSubprotocol: true });
    expect(relay.headers[1]?.authorization).toBe(`Basic ${Buffer.from('alice:pw').toString('base64')}`);
    viaSubprotocol.destroy();
  });

  it("names the relay in error messages without the URL's password or token", async () => {
    const secret = 'url-secret-0123456789';
    for (const status of [401, 403, 502]) {
      const url = (await httpAnswering(status, 'no')).replace('ws://', `ws://alice:${secret}@`);
      const err = await failure(connect(`${url}?access_token=${secret}`));
      expect(err.message).toContain('relay ws://***@127.0.0.1:');
      expect(err.message).not.toContain(secret);
    }
  });

  it('refuses URLs that are not ws:// or wss:// as CONFIG_INVALID', () => {
    expect(() => websocketTransport({ url: 'https://relay/' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    expect(() => websocketTransport({ url: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });

  it('sends the token as Authorization: Bearer, the target as ?target=, and no compression', async () => {
    const relay = await fakeRelay(() => {});
    const stream = await connect(relay.url, {
      target: { host: 'login', port: 22 },
      headers: { 'X-Team': 'hpc' },
    });
    expect(relay.headers[0]).toMatchObject({ authorization: `Bearer ${TOKEN}`, 'x-team': 'hpc' });
    expect(relay.headers[0]?.['sec-websocket-extensions']).toBeUndefined();
    expect(relay.headers[0]?.['sec-websocket-protocol']).toBeUndefined();
    stream.destroy();
  });

  it('sends with a zero masking key (no copy, no XOR) and what one tick wrote as one socket write', async () => {
    const relay = await rawUpgrade();
    const stream = await connect(relay.url);
    const writev = vi.spyOn(Socket.prototype, '_writev');
    const write = vi.spyOn(Socket.prototype, '_write');
    // As core's coalesceWrites does for ssh2: every packet of a tick, corked.
    stream.cork();
    for (const text of ['one', 'two', 'three']) stream.write(Buffer.from(text));
    stream.uncork();
    expect(writev.mock.calls.length + write.mock.calls.length).toBe(1);
    writev.mockRestore();
    write.mockRestore();
    await expect.poll(() => Buffer.concat(relay.received).length).toBe(3 * 6 + 11);
    const wire = Buffer.concat(relay.received);
    const frames: Array<{ mask: string; payload: string }> = [];
    for (let at = 0; at < wire.length; ) {
      const length = (wire[at + 1] ?? 0) & 0x7f;
      expect([wire[at], (wire[at + 1] ?? 0) & 0x80]).toEqual([0x82, 0x80]); // FIN + binary, masked
      frames.push({
        mask: wire.subarray(at + 2, at + 6).toString('hex'),
        payload: wire.subarray(at + 6, at + 6 + length).toString(),
      });
      at += 6 + length;
    }
    expect(frames).toEqual([
      { mask: '00000000', payload: 'one' },
      { mask: '00000000', payload: 'two' },
      { mask: '00000000', payload: 'three' },
    ]);
    stream.destroy();
  });

  it('splits large writes into messages of at most 64 KiB, in order', async () => {
    const relay = await fakeRelay(() => {});
    const stream = await connect(relay.url);
    const payload = Buffer.alloc(200 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
    stream.write(payload);
    await expect.poll(() => relay.messages.reduce((n, m) => n + m.length, 0)).toBe(payload.length);
    expect(relay.messages.map((m) => m.length)).toEqual([65536, 65536, 65536, 8192]);
    expect(Buffer.concat(relay.messages).equals(payload)).toBe(true);
    stream.destroy();
  });

  it('reads a normal close from the relay as EOF', async () => {
    const relay = await fakeRelay((ws) => {
      ws.send(Buffer.from('bye'));
      ws.close(1000, 'target closed');
    });
    const stream = await connect(relay.url);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    expect(await outcome(stream)).toBe('end');
    expect(Buffer.concat(chunks).toString()).toBe('bye');
  });

  it('fails the stream with TRANSPORT_CLOSED when the relay drops the connection', async () => {
    const relay = await fakeRelay((ws) => setImmediate(() => ws.terminate()));
    const stream = await connect(relay.url);
    expect(await outcome(stream)).toMatchObject({
      code: 'TRANSPORT_CLOSED',
      message: expect.stringMatching(/lost/),
    });
  });

  it('fails the stream with PROTOCOL_ERROR on a text message', async () => {
    const relay = await fakeRelay((ws) => ws.send('text'));
    const stream = await connect(relay.url);
    expect(await outcome(stream)).toMatchObject({ code: 'PROTOCOL_ERROR' });
  });

  it('fails the stream with KEEPALIVE_TIMEOUT when the relay stops answering pings', async () => {
    const relay = await fakeRelay(() => {}, { autoPong: false });
    const stream = await connect(relay.url, { pingIntervalMs: 50 });
    expect(await outcome(stream)).toMatchObject({ code: 'KEEPALIVE_TIMEOUT' });
  });

  it('keeps a quiet stream open while the relay answers pings', async () => {
    const relay = await fakeRelay(() => {});
    const stream = await connect(relay.url, { pingIntervalMs: 100 });
    const result = await Promise.race([outcome(stream), new Promise((r) => setTimeout(r, 450, 'alive'))]);
    expect(result).toBe('alive');
    stream.destroy();
  });

  it('translates HTTP answers: 401, 403, 407, 404, 302, 502', async () => {
    const cases: Array<[number, string, string | RegExp]> = [
      [401, 'RELAY_UNAUTHORIZED', /refused the token/],
      [403, 'RELAY_TARGET_DENIED', /not allowed here/],
      [407, 'PROXY_FAILED', /HTTPS_PROXY/],
      [404, 'RELAY_FAILED', /HTTP 404.*websocket URL/],
      [302, 'RELAY_FAILED', /redirects/],
      [502, 'RELAY_FAILED', /cannot reach the SSH host/],
    ];
    for (const [status, code, message] of cases) {
      const url = await httpAnswering(
        status,
        status === 403 ? 'not allowed here' : '',
        status === 302 ? { Location: '/x' } : {},
      );
      const err = await failure(connect(url));
      expect(err.code, String(status)).toBe(code);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain(TOKEN);
    }
    const anonymous = await failure(
      websocketTransport({ url: await httpAnswering(401), agent: false }).connect(AbortSignal.timeout(5_000)),
    );
    expect(anonymous.message).toMatch(/requires a token/);
  });

  it('translates refused connections, aborts and handshake timeouts', async () => {
    const accepted = new Set<Socket>();
    const silent = createServer((socket) => accepted.add(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    cleanup.push(() => {
      silent.close();
    });
    const timedOut = await failure(
      websocketTransport({ url: `ws://127.0.0.1:${port}/`, agent: false }).connect(AbortSignal.timeout(100)),
    );
    expect(timedOut.code).toBe('CONNECT_TIMEOUT');
    const controller = new AbortController();
    const pending = websocketTransport({ url: `ws://127.0.0.1:${port}/`, agent: false }).connect(
      controller.signal,
    );
    controller.abort();
    expect((await failure(pending)).code).toBe('ABORTED');
    silent.close();
    for (const socket of accepted) socket.destroy();
    await once(silent, 'close');
    const refused = await failure(connect(`ws://127.0.0.1:${port}/`));
    expect(refused.code).toBe('CONNECT_FAILED');
  });
});
