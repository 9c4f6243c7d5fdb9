import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { Client } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  describeRemoteRefusal,
  fromBindError,
  fromChannelOpenError,
  fromSocketError,
  fromSshError,
} from './error-translation.js';
import { FwdError, type FwdErrorCode } from './errors.js';

// Errors as Node and ssh2 make them: real ones over loopback where that is cheap, otherwise the
// exact shapes ssh2 1.17 builds (client.js, protocol/utils.js, utils.js), never message text of ours.

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function errno(code: string, message = `${code} (test)`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** An ssh2 error: `level` set as ssh2 sets it, `code` for a DISCONNECT reason. */
function sshError(message: string, fields: { level?: string | undefined; code?: unknown }): Error {
  return Object.assign(new Error(message), fields);
}

function expectTranslated(error: FwdError, code: FwdErrorCode, cause: unknown, ...phrases: string[]): void {
  expect(error).toBeInstanceOf(FwdError);
  expect(error.code).toBe(code);
  expect(error.cause).toBe(cause);
  for (const phrase of phrases) expect(error.message).toContain(phrase);
}

async function listen(server: Server, host = '127.0.0.1', port = 0): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A loopback port nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((r) => server.close(r));
  servers.splice(servers.indexOf(server), 1);
  return port;
}

function connectError(port: number): Promise<Error> {
  return new Promise((resolve) => connect(port, '127.0.0.1').once('error', resolve));
}

function listenError(host: string, port: number): Promise<Error> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', resolve);
    server.listen(port, host);
  });
}

describe('fromSocketError', () => {
  it('says nothing listens for a real ECONNREFUSED', async () => {
    const err = await connectError(await closedPort());
    expectTranslated(fromSocketError(err, 'login:22'), 'CONNECT_FAILED', err, 'login:22', 'refused');
  });

  it('says the name does not resolve for ENOTFOUND, EAI_AGAIN and EAI_NONAME', () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME']) {
      const err = errno(code);
      expectTranslated(fromSocketError(err, 'nosuch:22'), 'CONNECT_FAILED', err, 'cannot resolve nosuch:22');
    }
  });

  it('is CONNECT_TIMEOUT for ETIMEDOUT', () => {
    const err = errno('ETIMEDOUT');
    expectTranslated(fromSocketError(err, 'login:22'), 'CONNECT_TIMEOUT', err, 'login:22', 'timed out');
  });

  it('names the errno of an unreachable host or network', () => {
    for (const code of ['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']) {
      const err = errno(code);
      expectTranslated(
        fromSocketError(err, 'node7:22'),
        'CONNECT_FAILED',
        err,
        'node7:22',
        'unreachable',
        code,
      );
    }
  });

  it('is TRANSPORT_CLOSED for a reset: ECONNRESET (real), EPIPE, ECONNABORTED', async () => {
    const port = await listen(createServer((socket) => socket.resetAndDestroy()));
    const reset = await new Promise<Error>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', resolve);
      socket.resume();
    });
    expect((reset as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    for (const err of [reset, errno('EPIPE'), errno('ECONNABORTED')]) {
      expectTranslated(fromSocketError(err, 'login:22'), 'TRANSPORT_CLOSED', err, 'login:22', 'reset');
    }
  });

  it('keeps the message of anything else, and of things that are not errors', () => {
    const odd = errno('EPROTO', 'protocol wrong');
    expectTranslated(fromSocketError(odd, 'relay:443'), 'CONNECT_FAILED', odd, 'relay:443', 'protocol wrong');
    expectTranslated(
      fromSocketError('plain text', 'relay:443'),
      'CONNECT_FAILED',
      'plain text',
      'plain text',
    );
    expectTranslated(fromSocketError(undefined, 'relay:443'), 'CONNECT_FAILED', undefined, 'relay:443');
  });

  it('passes a FwdError through unchanged', () => {
    const ours = new FwdError('PROXY_FAILED', 'the proxy said no');
    expect(fromSocketError(ours, 'login:22')).toBe(ours);
  });
});

describe('fromBindError', () => {
  it('is BIND_IN_USE for a real EADDRINUSE, telling what to do', async () => {
    const port = await listen(createServer());
    const err = await listenError('127.0.0.1', port);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    const error = fromBindError(err, `127.0.0.1:${port}`);
    expectTranslated(error, 'BIND_IN_USE', err, `127.0.0.1:${port}`, 'already in use', 'pick another port');
    expect(error.fatal).toBe(false);
  });

  it('is a fatal BIND_DENIED for EACCES and EPERM (privileged ports)', () => {
    for (const code of ['EACCES', 'EPERM']) {
      const err = errno(code);
      const error = fromBindError(err, '127.0.0.1:80');
      expectTranslated(error, 'BIND_DENIED', err, '127.0.0.1:80', 'below 1024', 'port ≥1024');
      expect(error.fatal).toBe(true);
    }
  });

  it('says the address is not on this machine for a real EADDRNOTAVAIL', async () => {
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface here: bind fails without any traffic.
    const err = await listenError('192.0.2.1', 0);
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRNOTAVAIL');
    expectTranslated(fromBindError(err, '192.0.2.1:0'), 'BIND_DENIED', err, '192.0.2.1:0', 'no such address');
  });

  it('keeps the message of any other failure; passes a FwdError through', () => {
    const err = errno('ENOENT', 'no such directory');
    expectTranslated(
      fromBindError(err, '/run/x/app.sock'),
      'BIND_DENIED',
      err,
      '/run/x/app.sock',
      'no such directory',
    );
    const ours = new FwdError('BIND_IN_USE', 'a socket is there');
    expect(fromBindError(ours, '/run/app.sock')).toBe(ours);
  });
});

describe('fromSshError', () => {
  const where = 'alice@login:22';

  it('translates client-socket errors as socket errors', () => {
    const err = Object.assign(errno('ECONNREFUSED'), { level: 'client-socket' });
    expectTranslated(fromSshError(err, where), 'CONNECT_FAILED', err, where, 'refused');
    const reset = Object.assign(errno('ECONNRESET'), { level: 'client-socket' });
    expectTranslated(fromSshError(reset, where), 'TRANSPORT_CLOSED', reset, 'reset');
  });

  it('is a fatal AUTH_FAILED for client-authentication, with ssh2 words kept', () => {
    const err = sshError('All configured authentication methods failed', { level: 'client-authentication' });
    const error = fromSshError(err, where);
    expectTranslated(error, 'AUTH_FAILED', err, where, 'All configured authentication methods failed');
    expect(error.fatal).toBe(true);
  });

  it('is KEEPALIVE_TIMEOUT for a keepalive timeout, CONNECT_TIMEOUT for the handshake timeout', () => {
    const keepalive = sshError('Keepalive timeout', { level: 'client-timeout' });
    const k = fromSshError(keepalive, where);
    expectTranslated(k, 'KEEPALIVE_TIMEOUT', keepalive, where, 'keepalives');
    expect(k.fatal).toBe(false);
    const handshake = sshError('Timed out while waiting for handshake', { level: 'client-timeout' });
    expectTranslated(
      fromSshError(handshake, where),
      'CONNECT_TIMEOUT',
      handshake,
      where,
      'handshake in time',
    );
  });

  it('is AUTH_FAILED for DISCONNECT 14 and for a DISCONNECT that speaks of authentication', () => {
    // ssh2 names the reason when the server sends no description.
    const noMethods = sshError('NO_MORE_AUTH_METHODS_AVAILABLE', { code: 14 });
    expectTranslated(
      fromSshError(noMethods, where),
      'AUTH_FAILED',
      noMethods,
      `${where} ended authentication`,
    );
    // OpenSSH ends a client after MaxAuthTries with PROTOCOL_ERROR (2) and these words.
    const tooMany = sshError('Too many authentication failures', { code: 2 });
    expectTranslated(
      fromSshError(tooMany, where),
      'AUTH_FAILED',
      tooMany,
      'Too many authentication failures',
    );
  });

  it('is TRANSPORT_CLOSED for any other DISCONNECT reason, with its description', () => {
    for (const [code, description] of [
      [2, 'Protocol error'],
      [3, 'Key exchange failed'],
      [10, 'Connection lost'],
      [12, 'Too many connections'],
      [99, 'Unexpected disconnection reason: 99'],
    ] as const) {
      const err = sshError(description, { code });
      expectTranslated(
        fromSshError(err, where),
        'TRANSPORT_CLOSED',
        err,
        `${where} disconnected: ${description}`,
      );
    }
  });

  it('says the server hung up before the handshake (ssh2 level protocol), for a real one too', async () => {
    const made = sshError('Connection lost before handshake', { level: 'protocol' });
    expectTranslated(fromSshError(made, where), 'CONNECT_FAILED', made, 'before the SSH handshake');
    // A listener that accepts and closes at once, as a firewall or a wrong port does.
    const port = await listen(createServer((socket) => socket.destroy()));
    const client = new Client();
    const real = await new Promise<Error>((resolve) => {
      client.once('error', resolve);
      client.connect({ host: '127.0.0.1', port, username: 'alice', readyTimeout: 60_000 });
    });
    client.destroy();
    expectTranslated(fromSshError(real, where), 'CONNECT_FAILED', real, 'before the SSH handshake');
  });

  it('is PROTOCOL_ERROR for handshake and protocol level errors', () => {
    for (const level of ['handshake', 'protocol']) {
      const err = sshError('Handshake failed: no matching key exchange algorithm', { level });
      expectTranslated(fromSshError(err, where), 'PROTOCOL_ERROR', err, where, 'no matching key exchange');
    }
  });

  it('is TRANSPORT_CLOSED for anything else (agent, dns, unknown), and keeps a FwdError', () => {
    for (const level of ['agent', 'client-dns', undefined]) {
      const err = sshError('something broke', { level });
      expectTranslated(
        fromSshError(err, where),
        'TRANSPORT_CLOSED',
        err,
        `session to ${where} failed: something broke`,
      );
    }
    const ours = new FwdError('HOST_KEY_CHANGED', 'the key changed');
    expect(fromSshError(ours, where)).toBe(ours);
  });
});

describe('fromChannelOpenError', () => {
  const where = 'alice@login:22';

  /** As ssh2's onChannelOpenFailure builds it from CHANNEL_OPEN_FAILURE. */
  function openFailure(reason: number, description: string): Error {
    return Object.assign(new Error(`(SSH) Channel open failure: ${description}`), { reason });
  }

  it('names each RFC 4254 reason and what it means', () => {
    for (const [reason, meaning] of [
      [1, 'administratively prohibited'],
      [2, 'connect failed'],
      [3, 'unknown channel type'],
      [4, 'resource shortage'],
    ] as const) {
      const err = openFailure(reason, 'open failed');
      expectTranslated(
        fromChannelOpenError(err, 'localhost:8888', where),
        'CHANNEL_REFUSED',
        err,
        `${where} refused to open localhost:8888: ${meaning}`,
      );
    }
  });

  it('gives the number of a reason it does not know', () => {
    const err = openFailure(77, 'odd');
    expectTranslated(fromChannelOpenError(err, '/run/app.sock', where), 'CHANNEL_REFUSED', err, 'reason 77');
  });

  it('is TRANSPORT_CLOSED when the session went away during the open', () => {
    // ssh2 fails pending opens with 'No response from server' when its socket closes.
    for (const message of ['No response from server', 'Not connected']) {
      const err = new Error(message);
      expectTranslated(
        fromChannelOpenError(err, 'localhost:8888', where),
        'TRANSPORT_CLOSED',
        err,
        `session to ${where} closed while opening localhost:8888`,
      );
    }
  });

  it('is CHANNEL_REFUSED when the server answers the open with a close (the session lives on)', () => {
    // ssh2's words for CHANNEL_CLOSE in reply to CHANNEL_OPEN, with reason '' (not a number).
    const err = Object.assign(new Error('(SSH) Channel open failure: server closed channel unexpectedly'), {
      reason: '',
    });
    expectTranslated(
      fromChannelOpenError(err, 'localhost:8888', where),
      'CHANNEL_REFUSED',
      err,
      `${where} closed the channel to localhost:8888 instead of opening it`,
    );
  });

  it('is CHANNEL_REFUSED with the message otherwise, and keeps a FwdError', () => {
    const err = new Error('channel type forbidden');
    expectTranslated(
      fromChannelOpenError(err, 'a command channel', where),
      'CHANNEL_REFUSED',
      err,
      'channel type forbidden',
    );
    const ours = new FwdError('CHANNEL_OPEN_TIMEOUT', 'no answer');
    expect(fromChannelOpenError(ours, 'localhost:8888', where)).toBe(ours);
  });
});

describe('describeRemoteRefusal', () => {
  it('names the refused address (TCP, IPv6, socket path) and the server settings to check', () => {
    const cause = new Error('Unable to bind to 127.0.0.1:8888');
    for (const [binding, shown] of [
      [{ host: '127.0.0.1', port: 8888 }, '127.0.0.1:8888'],
      [{ host: '::1', port: 8888 }, '[::1]:8888'],
      [{ path: '/tmp/app.sock' }, '/tmp/app.sock'],
    ] as const) {
      const error = describeRemoteRefusal(binding, 'alice@login:22', cause);
      expectTranslated(
        error,
        'REMOTE_BIND_REFUSED',
        cause,
        `alice@login:22 refused to listen on ${shown}`,
        'AllowTcpForwarding',
        'GatewayPorts',
      );
      expect(error.fatal).toBe(false);
    }
  });
});
