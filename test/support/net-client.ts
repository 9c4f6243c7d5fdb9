import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export type Endpoint = { host?: string; port: number } | { path: string };

function open(endpoint: Endpoint): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket =
      'path' in endpoint
        ? connect({ path: endpoint.path, allowHalfOpen: true })
        : connect({ host: endpoint.host ?? '127.0.0.1', port: endpoint.port, allowHalfOpen: true });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Reads everything until EOF; rejects on error (e.g. a reset). */
export function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/**
 * Uploads `bytes` to the sink target, half-closes, and returns the sink's reply ("<n> <sha256>"):
 * proof that every byte arrived AND that the reply still flows after our EOF.
 */
export async function uploadToSink(
  endpoint: Endpoint,
  bytes: number,
): Promise<{ sent: string; reply: string }> {
  const socket = await open(endpoint);
  const hash = createHash('sha256');
  const replyPromise = readAll(socket);
  const chunk = 256 * 1024;
  for (let sent = 0; sent < bytes; sent += chunk) {
    const data = randomBytes(Math.min(chunk, bytes - sent));
    hash.update(data);
    if (!socket.write(data)) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
  const reply = (await replyPromise).toString().trim();
  socket.destroy();
  return { sent: `${bytes} ${hash.digest('hex')}`, reply };
}

/** Asks the source target for `bytes` random bytes plus their sha256; true if they match. */
export async function downloadFromSource(
  endpoint: Endpoint,
  bytes: number,
): Promise<{ ok: boolean; received: number }> {
  const socket = await open(endpoint);
  const all = readAll(socket);
  socket.write(`${bytes}\n`);
  const data = await all;
  socket.destroy();
  const body = data.subarray(0, data.length - 32);
  const digest = data.subarray(data.length - 32);
  return { ok: createHash('sha256').update(body).digest().equals(digest), received: body.length };
}

/** Sends `payload` to an echo target, half-closes, and returns what came back. */
export async function echo(endpoint: Endpoint, payload: Buffer): Promise<Buffer> {
  const socket = await open(endpoint);
  const all = readAll(socket);
  socket.end(payload);
  const back = await all;
  socket.destroy();
  return back;
}

/**
 * `count` echo round trips of `bytes` random bytes each, all at once; resolves with the failures
 * (mismatches or errors), so a test can expect none.
 */
export async function parallelEchoes(endpoint: Endpoint, count: number, bytes: number): Promise<unknown[]> {
  const results = await Promise.allSettled(
    Array.from({ length: count }, async () => {
      const payload = randomBytes(bytes);
      const back = await echo(endpoint, payload);
      if (!back.equals(payload)) throw new Error(`echo mismatch: ${back.length} bytes back`);
    }),
  );
  return results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
}

/** A plain HTTP/1.1 GET; resolves with status and body text. */
export async function httpGet(endpoint: Endpoint, path: string): Promise<{ status: number; body: string }> {
  const socket = await open(endpoint);
  const all = readAll(socket);
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  const text = (await all).toString();
  socket.destroy();
  const status = Number(text.slice(9, 12));
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

export { open as openSocket };
