import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { connect } from './connect.js';
import type { HostKeyPolicy } from './host-keys.js';
import { tcpTransport } from './tcp-transport.js';

// An in-process ssh2 server: enough to reach host-key verification, nothing more.
async function sshServer(): Promise<AsyncDisposable & { port: number; clientGone: Promise<void> }> {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  let gone!: () => void;
  const clientGone = new Promise<void>((resolve) => {
    gone = resolve;
  });
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.reject(['password']));
    client.on('close', gone);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    clientGone,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A call whose answer the test gives, once it has seen the attempt end. */
function held<T>() {
  let asked!: () => void;
  const wasAsked = new Promise<void>((resolve) => {
    asked = resolve;
  });
  let settle!: { resolve: (value: T) => void; reject: (err: Error) => void };
  const ask = () =>
    new Promise<T>((resolve, reject) => {
      settle = { resolve, reject };
      asked();
    });
  return {
    ask,
    wasAsked,
    resolve: (value: T) => settle.resolve(value),
    reject: (err: Error) => settle.reject(err),
  };
}

const trusting: HostKeyPolicy = { knownKeyTypes: async () => [], verify: async () => undefined };

describe('connect', () => {
  for (const outcome of ['rejects', 'accepts'] as const) {
    it(`ignores a host-key answer (${outcome}) that comes after the attempt was aborted`, async () => {
      await using server = await sshServer();
      const verify = held<void>();
      const controller = new AbortController();
      const attempt = connect({
        transport: tcpTransport({ host: '127.0.0.1', port: server.port }),
        username: 'alice',
        hostKeys: { knownKeyTypes: async () => [], verify: verify.ask },
        signal: controller.signal,
      });
      await verify.wasAsked;
      controller.abort();
      await expect(attempt).rejects.toMatchObject({ code: 'ABORTED' });
      await server.clientGone; // our side of the socket has closed too: ssh2 tore its protocol down
      // Answered late (a slow known_hosts read on a busy machine): ssh2's protocol is torn down by
      // now, and answering it threw from a promise callback, an unhandled error that ended fwd.
      if (outcome === 'rejects') verify.reject(new Error('unknown host'));
      else verify.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    });
  }

  it('does not answer a password prompt that comes back after the attempt was aborted', async () => {
    await using server = await sshServer();
    const prompt = held<string | undefined>();
    const controller = new AbortController();
    const attempt = connect({
      transport: tcpTransport({ host: '127.0.0.1', port: server.port }),
      username: 'alice',
      password: prompt.ask,
      hostKeys: trusting,
      signal: controller.signal,
    });
    await prompt.wasAsked;
    controller.abort();
    await expect(attempt).rejects.toMatchObject({ code: 'ABORTED' });
    await server.clientGone;
    prompt.resolve('typed too late');
    await new Promise((resolve) => setImmediate(resolve));
  });
});
