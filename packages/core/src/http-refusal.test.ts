import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FwdError } from './errors.js';
import { listenForward } from './forward-listener.js';

// A `-L` listener whose tunnel refuses every connection once the client has sent something, as a
// tunnel does when the job it held connections for fails: over real loopback sockets.

const clients: Socket[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

const REASON = new FwdError('CONNECT_TIMEOUT', 'not ready after 30 s (job 12 pending: Resources)');

async function refusingForward(opened: { count: number }) {
  return listenForward(
    { kind: 'local', bind: { host: '127.0.0.1', port: 0 }, target: { host: 'localhost', port: 8888 } },
    async () => {
      opened.count++;
      throw new Error('never opened');
    },
    {
      // Refuses only after the client's bytes (if any) are in: what a held connection meets.
      admit: async (socket) => {
        await once(socket, 'readable').catch(() => undefined);
        throw REASON;
      },
    },
  );
}

/** Sends `bytes` (unless empty), then everything the server sends until it closes, and how. */
async function exchange(port: number, bytes: string): Promise<{ reply: string; how: string }> {
  const client = connect({ host: '127.0.0.1', port });
  clients.push(client);
  await once(client, 'connect');
  const chunks: Buffer[] = [];
  client.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<string>((resolve) => {
    client.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    client.once('end', () => resolve('end'));
  });
  if (bytes) client.write(bytes);
  const how = await closed;
  return { reply: Buffer.concat(chunks).toString(), how };
}

describe('a refused -L connection', () => {
  it('answers an HTTP request with a 503 that says why, and closes cleanly', async () => {
    const opened = { count: 0 };
    await using forward = await refusingForward(opened);
    const { port } = forward.address as { port: number };
    const { reply, how } = await exchange(port, 'GET /lab HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(how).toBe('end');
    const [head, body] = reply.split('\r\n\r\n');
    expect(head?.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable');
    expect(head).toContain('Connection: close');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body ?? '')}`);
    expect(body).toBe(`fwd: ${REASON.message} (CONNECT_TIMEOUT)\n`);
    expect(opened.count).toBe(0);
    expect(forward.stats).toMatchObject({ connectionErrors: 1 });
  });

  it('answers HEAD without a body', async () => {
    await using forward = await refusingForward({ count: 0 });
    const { port } = forward.address as { port: number };
    const { reply } = await exchange(port, 'HEAD / HTTP/1.0\r\n\r\n');
    expect(reply.startsWith('HTTP/1.1 503 ')).toBe(true);
    expect(reply.endsWith('\r\n\r\n')).toBe(true);
  });

  it('resets a client that speaks anything else (TLS here), as before', async () => {
    await using forward = await refusingForward({ count: 0 });
    const { port } = forward.address as { port: number };
    const tlsHello = String.fromCharCode(0x16, 0x03, 0x01, 0x02, 0x00, 0x01);
    expect(await exchange(port, tlsHello)).toEqual({ reply: '', how: 'ECONNRESET' });
  });
});
