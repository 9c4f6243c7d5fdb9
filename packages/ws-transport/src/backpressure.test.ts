import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from './relay-options.js';
import { startRelay } from './relay-server.js';
import { websocketTransport } from './ws-transport.js';

// A slow reader on either end must stall the writer on the other end, with the relay and the
// transport each holding no more than their high-water marks, instead of buffering everything.

const TOKEN = 'backpressure-token-0123456789';
const MiB = 1024 * 1024;
/** Far more than every buffer on the path together. */
const LIMIT = 512 * MiB;
/** What may be in flight when the writer stalls: mostly kernel socket buffers on two TCP legs (~10 MiB seen). */
const IN_FLIGHT = 64 * MiB;
/** What the relay and the transport may hold: high-water marks plus a message or two. */
const BOUNDED = 1 * MiB;
const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

/** Writes until `limit` or until the writer has had no 'drain' for `stallMs` (it is being held back). */
async function writeUntilStalled(writer: Writable, limit: number, stallMs = 500): Promise<number> {
  let written = 0;
  while (written < limit) {
    written += CHUNK.length;
    if (writer.write(CHUNK)) continue;
    const giveUp = new AbortController();
    const drained = await Promise.race([
      once(writer, 'drain', { signal: giveUp.signal }).then(
        () => true,
        () => false,
      ),
      delay(stallMs, false, { signal: giveUp.signal }).catch(() => false),
    ]);
    giveUp.abort();
    if (!drained) return written;
  }
  return written;
}

function countUntilEnd(stream: Duplex | Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0;
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
    });
    stream.once('end', () => resolve(total));
    stream.once('error', reject);
  });
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(onTarget: (socket: Socket) => void): Promise<{ relay: Relay; stream: Duplex }> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    onTarget(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sockets = new Set<Socket>();
  server.on('connection', (s) => sockets.add(s));
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const relay = await startRelay({
    listen: { port: 0 },
    allow: [{ host: '127.0.0.1', port }],
    tokens: [TOKEN],
  });
  cleanup.push(() => relay.close({ drainMs: 0 }));
  const stream = await websocketTransport({
    url: `ws://127.0.0.1:${relay.address.port}/`,
    token: TOKEN,
    agent: false,
  }).connect(AbortSignal.timeout(5_000));
  cleanup.push(async () => stream.destroy());
  return { relay, stream };
}

describe('backpressure through the relay', () => {
  it('a client that does not read stops the SSH host from sending, with bounded buffers', async () => {
    let stalledAt!: (n: number) => void;
    const stalled = new Promise<number>((resolve) => {
      stalledAt = resolve;
    });
    const { relay, stream } = await setup((socket) => {
      void writeUntilStalled(socket, LIMIT).then((written) => {
        stalledAt(written);
        socket.end();
      });
    });
    const written = await stalled;
    expect(written).toBeLessThan(IN_FLIGHT);
    expect(relay.stats.bytesQueued).toBeLessThan(BOUNDED);
    expect(stream.readableLength).toBeLessThan(BOUNDED);

    const received = await countUntilEnd(stream);
    expect(received).toBe(written);
  });

  it('an SSH host that does not read stops the client from sending, with bounded buffers', async () => {
    let onTarget!: (socket: Socket) => void;
    const targetReady = new Promise<Socket>((resolve) => {
      onTarget = resolve;
    });
    const { relay, stream } = await setup((socket) => {
      socket.pause();
      onTarget(socket);
    });
    const target = await targetReady;
    const written = await writeUntilStalled(stream, LIMIT);
    expect(written).toBeLessThan(IN_FLIGHT);
    expect(relay.stats.bytesQueued).toBeLessThan(BOUNDED);
    expect(stream.writableLength).toBeLessThan(BOUNDED);

    const received = new Promise<number>((resolve) => {
      let total = 0;
      target.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total === written) resolve(total);
      });
    });
    target.resume();
    expect(await received).toBe(written);
    expect(relay.stats.bytesToTargets).toBe(written);
  });
});
