import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { HostConnection, type HostStatus } from './host-connection.js';

/** A TCP server whose connections are handled by `answer`; closed with the test. */
async function server(answer: (socket: Socket, index: number) => void): Promise<Server & AsyncDisposable> {
  let count = 0;
  const sockets = new Set<Socket>();
  const s = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    answer(socket, count++);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return Object.assign(s, {
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => s.close(resolve));
    },
  });
}

function host(port: number, connectTimeoutMs: number): HostConnection {
  return new HostConnection(
    {
      name: 'h',
      address: { host: '127.0.0.1', port },
      session: { username: 'alice', connectTimeoutMs },
      reconnect: { initialMs: 60_000, maxMs: 60_000 },
    },
    undefined,
  );
}

function firstFailure(connection: HostConnection): Promise<HostStatus> {
  return new Promise((resolve) => {
    const check = (s: HostStatus): void => {
      if (!s.lastError) return;
      connection.off('status', check);
      resolve(s);
    };
    connection.on('status', check);
  });
}

describe('HostConnection against a half-alive server', () => {
  it('gives up on a port that accepts but never speaks SSH after ConnectTimeout, even with the GC running', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    await using silent = await server(() => undefined);
    const connection = host((silent.address() as AddressInfo).port, 300);
    const collect = setInterval(gc, 5);
    try {
      connection.start();
      const failed = await firstFailure(connection);
      expect(failed.lastError).toMatchObject({
        code: 'CONNECT_TIMEOUT',
        message: expect.stringContaining('did not complete the SSH handshake'),
      });
      expect(failed.state).toBe('connecting');
    } finally {
      clearInterval(collect);
      await connection.close();
    }
  });

  it('abandons an attempt stuck on a silent accept as soon as a fresh connection gets a banner, and retries at once', async () => {
    // The first connection lands on a dead accept (docker-proxy during a restart); later ones get sshd's banner.
    await using flaky = await server((socket, index) => {
      if (index > 0) socket.end('SSH-2.0-OpenSSH_9.2\r\n');
    });
    const connection = host((flaky.address() as AddressInfo).port, 10 * 60_000);
    try {
      connection.start();
      const failed = await firstFailure(connection);
      expect(failed.lastError).toMatchObject({
        code: 'CONNECT_TIMEOUT',
        message: expect.stringContaining('this attempt hung while sshd answered a new connection'),
      });
      // Retried at once, not after the 60 s backoff.
      expect(failed.retryAt).toBeLessThanOrEqual(Date.now());
    } finally {
      await connection.close();
    }
  });
});
