import { randomBytes } from 'node:crypto';
import { getEventListeners, once } from 'node:events';
import { request } from 'node:http';
import { connect, createServer, type Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { failure } from '../../../test/support/failure.js';
import { bearerSubprotocol } from './protocol.js';
import type { Relay, RelayLogEvent, RelayOptions } from './relay-options.js';
import { startRelay } from './relay-server.js';
import { type WebsocketTransportOptions, websocketTransport } from './ws-transport.js';

const TOKEN = 'relay-test-token-0123456789';

interface Target extends AsyncDisposable {
  readonly port: number;
  /** TCP connections the target accepted: the proof that a refused client reached nothing. */
  accepted: number;
  readonly sockets: Set<Socket>;
}

/** A TCP echo server on 127.0.0.1 standing in for an SSH host. */
async function echoTarget(): Promise<Target> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    target.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target: Target = {
    port: (server.address() as { port: number }).port,
    accepted: 0,
    sockets,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return target;
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const logs: RelayLogEvent[] = [];
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  // Whatever happened in the test, no log line may carry a token.
  expect(JSON.stringify(logs)).not.toContain(TOKEN);
  logs.length = 0;
});

async function relayTo(targets: Target[], extra: Partial<RelayOptions> = {}): Promise<Relay> {
  const relay = await startRelay({
    listen: { port: 0 },
    allow: targets.map((t) => ({ host: '127.0.0.1', port: t.port })),
    tokens: [TOKEN],
    log: (event) => logs.push(event),
    ...extra,
  });
  cleanup.push(() => relay.close({ drainMs: 0 }));
  return relay;
}

function urlOf(relay: Relay): string {
  return `ws://127.0.0.1:${relay.address.port}/ssh`;
}

function open(relay: Relay, extra: Partial<WebsocketTransportOptions> = {}): Promise<Duplex> {
  const transport = websocketTransport({ url: urlOf(relay), token: TOKEN, agent: false, ...extra });
  return transport.connect(AbortSignal.timeout(5_000));
}

async function roundTrip(stream: Duplex, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= payload.length) resolve();
    });
    stream.once('error', reject);
  });
  stream.write(payload);
  await done;
  return Buffer.concat(chunks);
}

/** A hand-written, authorised upgrade request for `path`; resolves with the raw answer. */
async function rawHandshake(relay: Relay, path: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port: relay.address.port });
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
      `Authorization: Bearer ${TOKEN}\r\n\r\n`,
  );
  let answer = '';
  for await (const chunk of socket) answer += String(chunk);
  return answer;
}

function streamError(stream: Duplex): Promise<Error | undefined> {
  return new Promise((resolve) => {
    stream.once('error', resolve);
    stream.once('close', () => resolve(undefined));
  });
}

function wsClose(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));
}

async function httpStatus(
  relay: Relay,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string }> {
  const req = request({ host: '127.0.0.1', port: relay.address.port, path, method });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body };
}

describe('relay server', () => {
  it('carries bytes both ways to the default target and counts them', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const stream = await open(relay);
    const payload = randomBytes(3 * 1024 * 1024);
    expect((await roundTrip(stream, payload)).equals(payload)).toBe(true);
    stream.end();
    await once(stream, 'close');
    await expect.poll(() => relay.stats.connectionsActive).toBe(0);
    expect(relay.stats).toMatchObject({
      connectionsTotal: 1,
      bytesToTargets: payload.length,
      bytesFromTargets: payload.length,
    });
    const close = logs.find((e) => e.event === 'tunnel-close');
    expect(close).toMatchObject({ bytesToTarget: payload.length, reason: 'client closed' });
  });

  it('writes the messages that arrive in one read to the SSH host in one write', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const client = new WebSocket(urlOf(relay), { headers: { Authorization: `Bearer ${TOKEN}` } });
    await once(client, 'open');
    const toTarget = (socket: Socket): boolean => socket.remotePort === target.port;
    const writev = vi.spyOn(Socket.prototype, '_writev');
    const write = vi.spyOn(Socket.prototype, '_write');
    const echoed: Buffer[] = [];
    client.on('message', (data: Buffer) => echoed.push(data));
    // Three frames in one TCP segment: the relay parses them in one tick.
    const socket = (client as unknown as { _socket: Socket })._socket;
    socket.cork();
    for (const text of ['one', 'two', 'three']) client.send(Buffer.from(text));
    socket.uncork();
    await expect.poll(() => Buffer.concat(echoed).toString()).toBe('onetwothree');
    const calls = [...writev.mock.contexts, ...write.mock.contexts].filter((s) => toTarget(s as Socket));
    writev.mockRestore();
    write.mockRestore();
    expect(calls).toHaveLength(1);
    client.close();
  });

  it('lets the client pick any allowed target with ?target=, else uses the first', async () => {
    await using first = await echoTarget();
    await using second = await echoTarget();
    const relay = await relayTo([first, second]);
    const s1 = await open(relay);
    const s2 = await open(relay, { target: { host: '127.0.0.1', port: second.port } });
    await roundTrip(s1, Buffer.from('one'));
    await roundTrip(s2, Buffer.from('two'));
    expect([first.accepted, second.accepted]).toEqual([1, 1]);
    s1.destroy();
    s2.destroy();
  });

  it('accepts the token as a bearer subprotocol and selects fwd.v1 (or websockify\'s "binary")', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const viaProtocol = new WebSocket(urlOf(relay), ['fwd.v1', bearerSubprotocol(TOKEN)]);
    await once(viaProtocol, 'open');
    expect(viaProtocol.protocol).toBe('fwd.v1');
    viaProtocol.close();
    const bridge = new WebSocket(urlOf(relay), ['binary'], { headers: { Authorization: `Bearer ${TOKEN}` } });
    await once(bridge, 'open');
    expect(bridge.protocol).toBe('binary');
    bridge.close();

    const stream = await open(relay, { tokenInSubprotocol: true });
    expect((await roundTrip(stream, Buffer.from('hi'))).toString()).toBe('hi');
    stream.destroy();
  });

  it('refuses a missing, wrong or non-Bearer token with 401 before connecting anywhere', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const missing = await failure(open(relay, { token: undefined as unknown as string }));
    expect(missing.code).toBe('RELAY_UNAUTHORIZED');
    const wrong = await failure(open(relay, { token: `${TOKEN}-not` }));
    expect(wrong.code).toBe('RELAY_UNAUTHORIZED');
    expect(wrong.message).not.toContain(TOKEN);
    const basic = new WebSocket(urlOf(relay), { headers: { Authorization: `Basic ${TOKEN}` } });
    basic.on('error', () => {});
    const [, res] = (await once(basic, 'unexpected-response')) as [
      unknown,
      import('node:http').IncomingMessage,
    ];
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    basic.terminate();
    expect(target.accepted).toBe(0);
    expect(relay.stats.rejected).toBe(3);
  });

  it('refuses targets off the allowlist (403) and malformed ones (400) before connecting anywhere', async () => {
    await using target = await echoTarget();
    await using other = await echoTarget();
    const relay = await relayTo([target]);
    const denied = await failure(open(relay, { target: { host: '127.0.0.1', port: other.port } }));
    expect(denied.code).toBe('RELAY_TARGET_DENIED');
    expect(denied.message).toContain(`127.0.0.1:${other.port}`);
    const byName = await failure(open(relay, { target: { host: 'localhost', port: target.port } }));
    expect(byName.code).toBe('RELAY_TARGET_DENIED');
    const malformed = await failure(
      websocketTransport({ url: `${urlOf(relay)}?target=nonsense`, token: TOKEN, agent: false }).connect(
        AbortSignal.timeout(5_000),
      ),
    );
    expect(malformed.code).toBe('RELAY_FAILED');
    expect(malformed.message).toMatch(/400.*target must be host:port/);
    expect(await rawHandshake(relay, 'http://[/ssh')).toMatch(
      /^HTTP\/1\.1 400 .*\r\n[\s\S]*malformed request URL/,
    );
    expect(target.accepted + other.accepted).toBe(0);
    expect(denied.fatal).toBe(true);
  });

  it('answers 502 when the allowed SSH host cannot be reached', async () => {
    const port = await closedPort();
    const relay = await relayTo([], { allow: [{ host: '127.0.0.1', port }] });
    const err = await failure(open(relay));
    expect(err.code).toBe('RELAY_FAILED');
    expect(err.message).toMatch(/cannot reach the SSH host \(502\).*ECONNREFUSED/);
  });

  it('serves /healthz as JSON and answers other plain HTTP with 426', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const health = await httpStatus(relay, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', connectionsActive: 0, bytesQueued: 0 });
    expect((await httpStatus(relay, '/')).status).toBe(426);
    expect((await httpStatus(relay, '/ssh', 'POST')).status).toBe(426);
    expect((await httpStatus(relay, '/healthz', 'DELETE')).status).toBe(426);
  });

  it('closes a tunnel that sends text or oversized messages and keeps serving the others', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target], { maxPayload: 64 * 1024 });
    const good = await open(relay);
    const headers = { Authorization: `Bearer ${TOKEN}` };
    const text = new WebSocket(urlOf(relay), { headers });
    await once(text, 'open');
    const textClosed = wsClose(text);
    text.send('hello');
    expect(await textClosed).toBe(1003);
    const big = new WebSocket(urlOf(relay), { headers });
    await once(big, 'open');
    const bigClosed = wsClose(big);
    big.send(Buffer.alloc(65 * 1024));
    expect(await bigClosed).toBe(1009);
    const payload = randomBytes(1024 * 1024);
    expect((await roundTrip(good, payload)).equals(payload)).toBe(true);
    await expect.poll(() => relay.stats.connectionsActive).toBe(1);
    good.destroy();
  });

  it('answers 503 beyond maxConnections and accepts again once a tunnel ends', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target], { maxConnections: 1 });
    const first = await open(relay);
    const refused = await failure(open(relay));
    expect(refused.code).toBe('RELAY_FAILED');
    expect(refused.message).toMatch(/503.*limit of 1/);
    first.resume();
    first.end();
    await once(first, 'close');
    await expect.poll(() => relay.stats.connectionsActive).toBe(0);
    const again = await open(relay);
    again.destroy();
    expect(target.accepted).toBe(2);
  });

  it('closes idle tunnels after idleTimeoutMs', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target], { idleTimeoutMs: 100 });
    const stream = await open(relay);
    stream.resume();
    const err = await streamError(stream);
    expect(err).toMatchObject({
      code: 'TRANSPORT_CLOSED',
      message: expect.stringMatching(/4000.*idle timeout/),
    });
    await expect
      .poll(() => logs.find((e) => e.event === 'tunnel-close'))
      .toMatchObject({ reason: 'idle for 100 ms' });
  });

  it('drops a client that stops answering pings', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target], { pingIntervalMs: 50 });
    const mute = new WebSocket(urlOf(relay), {
      headers: { Authorization: `Bearer ${TOKEN}` },
      autoPong: false,
    });
    await once(mute, 'open');
    expect(await wsClose(mute)).toBe(1006);
    await expect.poll(() => target.sockets.size).toBe(0);
    await expect
      .poll(() => logs.find((e) => e.event === 'tunnel-close'))
      .toMatchObject({ reason: 'client stopped answering pings' });
  });

  it('shuts down gracefully: stops accepting, lets tunnels run until the deadline, then closes them (1001)', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const stream = await open(relay);
    const ended = streamError(stream);
    const closing = relay.close({ drainMs: 300 });
    expect(relay.stats.status).toBe('draining');
    const refused = await failure(open(relay));
    expect(refused.code).toBe('CONNECT_FAILED');
    const payload = randomBytes(64 * 1024);
    expect((await roundTrip(stream, payload)).equals(payload)).toBe(true);
    expect(await ended).toMatchObject({
      code: 'TRANSPORT_CLOSED',
      message: expect.stringMatching(/going away/),
    });
    await closing;
    await relay.closed;
    expect(relay.stats.status).toBe('closed');
    expect(logs.map((e) => e.event)).toEqual(expect.arrayContaining(['shutdown', 'tunnel-close', 'closed']));
  });

  it('finishes closing as soon as the last tunnel ends within the deadline', async () => {
    await using target = await echoTarget();
    const relay = await relayTo([target]);
    const stream = await open(relay);
    const started = Date.now();
    const closing = relay.close({ drainMs: 30_000 });
    stream.end();
    await closing;
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('closes when its signal aborts', async () => {
    await using target = await echoTarget();
    const controller = new AbortController();
    const relay = await relayTo([target], { signal: controller.signal });
    controller.abort();
    await relay.closed;
    expect(relay.stats.status).toBe('closed');
  });

  it('lets go of its signal when closed another way', async () => {
    await using target = await echoTarget();
    const controller = new AbortController();
    const relay = await relayTo([target], { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await relay.close({ drainMs: 0 });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('warns when it serves plain ws:// beyond loopback, and not on loopback', async () => {
    await using target = await echoTarget();
    const open = await relayTo([target], { listen: { host: '0.0.0.0', port: 0 } });
    const warning = logs.find((e) => e.event === 'warning');
    expect(warning).toMatchObject({
      warning: 'plain-ws',
      message: expect.stringMatching(
        new RegExp(
          `^serving plain ws:// on 0\\.0\\.0\\.0:${open.address.port}: relay tokens cross the network`,
        ),
      ),
    });
    await open.close({ drainMs: 0 });
    logs.length = 0;
    await relayTo([target]);
    expect(logs.filter((e) => e.event === 'warning')).toEqual([]);
  });

  it('rejects bad configuration and busy ports with FwdErrors', async () => {
    const base = { listen: { port: 0 }, allow: [{ host: '127.0.0.1', port: 22 }], tokens: [TOKEN] };
    await expect(startRelay({ ...base, tokens: [] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startRelay({ ...base, tokens: ['short'] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(startRelay({ ...base, allow: [] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startRelay({ ...base, tls: { cert: 'nope', key: 'nope' } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    const relay = await relayTo([], { allow: base.allow });
    await expect(startRelay({ ...base, listen: { port: relay.address.port } })).rejects.toMatchObject({
      code: 'BIND_IN_USE',
    });
  });
});
