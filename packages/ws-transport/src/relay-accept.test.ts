import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayLogEvent, RelayOptions } from './relay-options.js';
import { startRelay } from './relay-server.js';
import { websocketTransport } from './ws-transport.js';

// Slowloris: clients that open TCP connections and send half a request head, slowly or never.
// They must count against maxConnections from the moment they are accepted, and be cut after
// handshakeTimeoutMs, so they can neither crowd out real clients beyond the limit nor for long.

const TOKEN = 'accept-test-token-0123456789';
/** A request head that never ends: no blank line. */
const PARTIAL_HEAD = 'GET /ssh HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function relayWith(extra: Partial<RelayOptions>, logs: RelayLogEvent[] = []) {
  const target = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const targetSockets = new Set<Socket>();
  target.on('connection', (s) => targetSockets.add(s));
  cleanup.push(() => {
    for (const s of targetSockets) s.destroy();
    target.close();
  });
  const relay = await startRelay({
    listen: { port: 0 },
    allow: [{ host: '127.0.0.1', port: (target.address() as { port: number }).port }],
    tokens: [TOKEN],
    log: (event) => logs.push(event),
    ...extra,
  });
  cleanup.push(() => relay.close({ drainMs: 0 }));
  return relay;
}

/** A raw client that sends `head` and then nothing; collects whatever the relay answers. */
async function halfOpen(
  port: number,
  head = PARTIAL_HEAD,
): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  cleanup.push(() => socket.destroy());
  await once(socket, 'connect');
  if (head !== '') socket.write(head);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.once('close', () => resolve(text));
  });
  return { socket, answer };
}

/** A throwaway certificate and key from the openssl command line tool. */
function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fwd-accept-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...[
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
    ],
    { stdio: 'ignore' },
  );
  return {
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}

function open(port: number) {
  return websocketTransport({ url: `ws://127.0.0.1:${port}/ssh`, token: TOKEN, agent: false }).connect(
    AbortSignal.timeout(5_000),
  );
}

describe('relay accept: half-open upgrade requests', () => {
  it('counts them against maxConnections: 200 slowloris clients hold 5 slots, the rest and real clients get 503', async () => {
    // A deadline far beyond the test: here only the counting is under test.
    const relay = await relayWith({ maxConnections: 5, handshakeTimeoutMs: 600_000 });
    const port = relay.address.port;
    const clients = [];
    for (let i = 0; i < 200; i++) clients.push(await halfOpen(port));
    const held = clients.slice(0, 5);
    await expect.poll(() => relay.stats.handshakesPending).toBe(5);
    for (const { answer } of clients.slice(5)) {
      expect(await answer).toMatch(
        /^HTTP\/1\.1 503 [^\r]*\r\n[\s\S]*relay is at its limit of 5 connections\n$/,
      );
    }
    const refused = await open(port).then(
      () => undefined,
      (err: { code: string; message: string }) => err,
    );
    expect(refused).toMatchObject({
      code: 'RELAY_FAILED',
      message: expect.stringMatching(/503.*limit of 5/),
    });
    expect(relay.stats.handshakesPending).toBe(5);
    expect(relay.stats.rejected).toBe(196);

    // The slots come back as the half-open clients leave.
    for (const { socket } of held) socket.destroy();
    await expect.poll(() => relay.stats.handshakesPending).toBe(0);
    const stream = await open(port);
    stream.write('back');
    const [echoed] = (await once(stream, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('back');
    stream.destroy();
  });

  it('cuts a connection that has not completed its upgrade request within handshakeTimeoutMs, and logs it', async () => {
    const logs: RelayLogEvent[] = [];
    const relay = await relayWith({ maxConnections: 100, handshakeTimeoutMs: 200 }, logs);
    const port = relay.address.port;
    // A tunnel opened before them outlives their deadline: only the handshake is bounded.
    const stream = await open(port);
    const clients = await Promise.all([
      halfOpen(port),
      halfOpen(port, ''),
      ...Array.from({ length: 18 }, () => halfOpen(port)),
    ]);
    await Promise.all(clients.map(({ answer }) => answer));
    expect(relay.stats.handshakesPending).toBe(0);
    const cut = logs.filter((e) => e.event === 'rejected' && e.status === 408);
    expect(cut).toHaveLength(20);
    expect(cut[0]?.reason).toBe('no complete upgrade request within 200 ms');
    stream.write('still here');
    const [echoed] = (await once(stream, 'data')) as [Buffer];
    expect(echoed.toString()).toBe('still here');
    expect(relay.stats.connectionsActive).toBe(1);
    stream.destroy();
  });

  it('bounds the TLS handshake too: a client that never says hello is cut, one over the limit is closed at once', async () => {
    const relay = await relayWith({ maxConnections: 1, handshakeTimeoutMs: 200, tls: selfSigned() });
    const silent = await halfOpen(relay.address.port, '');
    await expect.poll(() => relay.stats.handshakesPending).toBe(1);
    const over = await halfOpen(relay.address.port, '');
    expect(await over.answer).toBe('');
    expect(await silent.answer).toBe('');
    expect(relay.stats).toMatchObject({ handshakesPending: 0, rejected: 2 });
  });
});
