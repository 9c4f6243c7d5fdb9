import { createHash, randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ByteCounters, bytesPiped, type Pipe, pipeBothWays } from './pipe.js';

// Real sockets on loopback: client ⇄ [local | pipe | remote] ⇄ target.

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    onConnection(s);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
    sockets.push(s);
    s.once('error', reject);
  });
}

/** Builds client → forwarder(pipe) → target, returning the client socket and the pipe. */
async function rig(target: (socket: Socket) => void) {
  const targetPort = await listen(target);
  const counters: ByteCounters = { bytesToRemote: 0, bytesFromRemote: 0 };
  const totals: ByteCounters = { bytesToRemote: 0, bytesFromRemote: 0 };
  let resolvePipe!: (pipe: Pipe) => void;
  const piped = new Promise<Pipe>((resolve) => {
    resolvePipe = resolve;
  });
  const proxyPort = await listen(async (local) => {
    local.pause();
    const remote = await dial(targetPort);
    resolvePipe(pipeBothWays(local, remote, counters, totals));
  });
  const client = await dial(proxyPort);
  return { client, piped, counters, totals };
}

function readAll(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

describe('pipeBothWays', () => {
  it('propagates half-close: the reply after our EOF still arrives, then EOF', async () => {
    const { client, piped, counters, totals } = await rig((target) => {
      const hash = createHash('sha256');
      let n = 0;
      target.on('data', (c: Buffer) => {
        hash.update(c);
        n += c.length;
      });
      target.on('end', () => target.end(`${n} ${hash.digest('hex')}`));
    });
    const data = randomBytes(3 * 1024 * 1024);
    const pipedBefore = bytesPiped();
    const replyPromise = readAll(client);
    client.end(data);
    const reply = await replyPromise;
    expect(reply.toString()).toBe(`${data.length} ${createHash('sha256').update(data).digest('hex')}`);
    const pipe = await piped;
    client.destroy();
    expect(await pipe.done).toBeUndefined();
    expect(counters.bytesToRemote).toBe(data.length);
    expect(counters.bytesFromRemote).toBe(reply.length);
    expect(totals).toEqual(counters);
    // the process-wide count (memory-return watches it) saw both directions; tests run one at a time
    expect(bytesPiped() - pipedBefore).toBe(data.length + reply.length);
  });

  it('keeps the upload direction open after the target half-closes', async () => {
    const { client, piped } = await rig((target) => {
      target.end('banner\n');
      const chunks: Buffer[] = [];
      target.on('data', (c: Buffer) => chunks.push(c));
      target.on('end', () => expect(Buffer.concat(chunks).toString()).toBe('late upload'));
    });
    const got = await readAll(client);
    expect(got.toString()).toBe('banner\n');
    client.end('late upload');
    expect(await (await piped).done).toBeUndefined();
  });

  it('applies backpressure: a client that does not read stops the target instead of filling memory', async () => {
    let targetSocket!: Socket;
    let written = 0;
    const blocked = new Promise<void>((resolve) => {
      void rig((target) => {
        targetSocket = target;
        const chunk = Buffer.alloc(1024 * 1024);
        const pump = (): void => {
          while (written < 256 * 1024 * 1024) {
            written += chunk.length;
            if (!target.write(chunk)) {
              target.once('drain', pump);
              // Blocked once the kernel buffers and the pipe's own buffers are full.
              setTimeout(() => {
                if (target.writableNeedDrain) resolve();
              }, 200);
              return;
            }
          }
        };
        pump();
      }).then(({ client }) => client.pause());
    });
    await blocked;
    expect(written).toBeLessThan(64 * 1024 * 1024);
    targetSocket.destroy();
  });

  it('tears both sides down when the target resets, and reports the error once', async () => {
    const { client, piped } = await rig((target) => target.once('data', () => target.resetAndDestroy()));
    client.write('trigger');
    const seen = await readAll(client).catch((e: Error) => e);
    expect(seen instanceof Error || (seen as Buffer).length === 0).toBe(true);
    const error = await (await piped).done;
    expect(error?.message).toMatch(/ECONNRESET/);
  });

  it('abort() closes both sides promptly and settles with the reason', async () => {
    const { client, piped } = await rig(() => undefined);
    const pipe = await piped;
    const clientDone = readAll(client).catch(() => Buffer.alloc(0));
    pipe.abort(new Error('session lost'));
    pipe.abort();
    expect((await pipe.done)?.message).toBe('session lost');
    await clientDone;
  });
});
