import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatEndpoint, fromBindError, isLoopbackHost, type TcpAddress } from '@fwd/core';
import { WebSocketServer } from 'ws';
import { BINARY_SUBPROTOCOL, FWD_SUBPROTOCOL } from './protocol.js';
import { AcceptedConnections } from './relay-accept.js';
import { admissionPolicy, admit, type Refusal } from './relay-admission.js';
import { tokenVerifier } from './relay-auth.js';
import { answerPlainRequest, relayTlsContext, writeRefusal } from './relay-http.js';
import { type JoinOptions, joinTarget } from './relay-join.js';
import type { Relay, RelayCloseOptions, RelayOptions, RelayStats } from './relay-options.js';
import { CLOSE_CODES, type RelayCounters, type RelayTunnel } from './relay-tunnel.js';

const DEFAULT_DRAIN_MS = 10_000;

/**
 * Starts a websocket-to-TCP relay for SSH. Every handshake is checked — token (401), target
 * within the allowlist (403), capacity (503) — before any TCP connection to an SSH host is
 * opened; then bytes flow unchanged both ways, so SSH stays end to end.
 *
 * @example
 * await using relay = await startRelay({
 *   listen: { host: '0.0.0.0', port: 8080 },
 *   allow: [{ host: 'login', port: 22 }],
 *   tokens: await loadTokenFile('/etc/fwd/relay-tokens'),
 *   log: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
 * });
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const tokens = 'verify' in options.tokens ? options.tokens : tokenVerifier(options.tokens);
  let policy = admissionPolicy(tokens, options.allow, options.defaultTarget);
  const emit = options.log ?? ((): void => {});
  const log = (event: string, fields: Record<string, unknown> = {}): void => {
    emit({ ts: new Date().toISOString(), event, ...fields });
  };

  const startedAt = Date.now();
  const totals: RelayCounters = { bytesToTarget: 0, bytesFromTarget: 0 };
  const tunnels = new Set<RelayTunnel>();
  let connectionsTotal = 0;
  let rejected = 0;
  let nextId = 0;
  let state: RelayStats['status'] = 'ok';

  const stats = (): RelayStats => ({
    status: state,
    connectionsActive: tunnels.size,
    handshakesPending: accepted.handshaking,
    connectionsTotal,
    rejected,
    bytesToTargets: totals.bytesToTarget,
    bytesFromTargets: totals.bytesFromTarget,
    bytesQueued: [...tunnels].reduce((sum, t) => sum + t.queuedBytes, 0),
    uptimeMs: Date.now() - startedAt,
  });

  const join: JoinOptions = {
    wss: relayWebsocketServer(options.maxPayload ?? 1024 * 1024),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    totals,
    accepting: () => state === 'ok',
  };
  // The HTTP server never listens: the TCP server accepts, counts and times each connection first.
  const http = createHttpServer();
  const accepted = new AcceptedConnections(http, {
    maxConnections: options.maxConnections ?? 2048,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
    tls: options.tls ? relayTlsContext(options.tls) : undefined,
    onRefused: (remote, refusal) => {
      rejected++;
      log('rejected', { remote, status: refusal.status, reason: refusal.reason });
    },
    onTlsError: (remote, code) => log('tls-error', { remote, code }),
  });
  const server = createNetServer({ noDelay: true }, accepted.accept);
  http.on('request', (req, res) =>
    answerPlainRequest(req, res, () => ({ healthy: state === 'ok', body: stats() })),
  );

  http.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    accepted.settle(socket);
    socket.on('error', () => socket.destroy());
    const id = ++nextId;
    const forwardedFor = req.headers['x-forwarded-for'];
    const who = {
      id,
      remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
      ...(typeof forwardedFor === 'string' ? { forwardedFor: forwardedFor.slice(0, 200) } : {}),
    };
    const refuse = (refusal: Refusal): void => {
      rejected++;
      log('rejected', { ...who, status: refusal.status, reason: refusal.reason });
      writeRefusal(socket, refusal);
    };
    if (state !== 'ok') return refuse({ status: 503, reason: 'relay is shutting down' });
    const decision = admit(req, policy);
    if ('refusal' in decision) return refuse(decision.refusal);
    // Only now, with the client authorised, does the relay touch the SSH host.
    const outcome = await joinTarget(req, socket, head, decision.target, join);
    if (outcome === 'gone') return;
    if ('refusal' in outcome) return refuse(outcome.refusal);
    const { tunnel } = outcome;
    const where = formatEndpoint(decision.target);
    connectionsTotal++;
    tunnels.add(tunnel);
    log('tunnel-open', { ...who, target: where, protocol: tunnel.protocol || undefined });
    void tunnel.done.then((reason) => {
      tunnels.delete(tunnel);
      log('tunnel-close', {
        id,
        target: where,
        reason,
        durationMs: Date.now() - tunnel.openedAt,
        bytesToTarget: tunnel.counters.bytesToTarget,
        bytesFromTarget: tunnel.counters.bytesFromTarget,
      });
    });
  });

  const heartbeat = startHeartbeat(tunnels, options.pingIntervalMs ?? 30_000);
  const listenHost = options.listen.host ?? '127.0.0.1';
  const address = await listen(server, listenHost, options.listen.port).catch((err: unknown) => {
    if (heartbeat) clearInterval(heartbeat);
    throw err;
  });
  log('listening', {
    address: formatEndpoint(address),
    tls: options.tls !== undefined,
    allow: policy.allow.map((t) => formatEndpoint(t)),
    defaultTarget: formatEndpoint(policy.defaultTarget),
    tokens: tokens.size,
  });
  if (!options.tls && !isLoopbackHost(address.host)) {
    // Behind a TLS-terminating proxy on the same machine, listen on 127.0.0.1 and this goes away.
    log('warning', {
      warning: 'plain-ws',
      message: `serving plain ws:// on ${formatEndpoint(address)}: relay tokens cross the network in clear text; put a TLS-terminating proxy in front (listening on 127.0.0.1) or pass --tls-cert/--tls-key`,
    });
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = (closeOptions: RelayCloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      const drainMs = closeOptions.drainMs ?? DEFAULT_DRAIN_MS;
      state = 'draining';
      signal?.removeEventListener('abort', onAbort);
      log('shutdown', { connectionsActive: tunnels.size, drainMs });
      if (heartbeat) clearInterval(heartbeat);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      accepted.destroyHandshaking();
      await settledWithin(allDone(tunnels), drainMs);
      for (const tunnel of tunnels) tunnel.close(CLOSE_CODES.goingAway, 'relay shutting down');
      await settledWithin(allDone(tunnels), 1_000);
      for (const tunnel of tunnels) tunnel.terminate('relay shut down');
      accepted.destroyAll();
      await serverClosed;
      state = 'closed';
      log('closed', { connectionsTotal, rejected });
      resolveClosed();
    })();
    return closing;
  };
  const signal = options.signal;
  const onAbort = (): void => void close();
  if (signal?.aborted) void close();
  else signal?.addEventListener('abort', onAbort, { once: true });

  return {
    address,
    get stats(): RelayStats {
      return stats();
    },
    closed,
    close,
    setTokens(next) {
      const verifier = 'verify' in next ? next : tokenVerifier(next);
      policy = { ...policy, tokens: verifier };
      log('tokens-replaced', { tokens: verifier.size });
    },
    [Symbol.asyncDispose]: () => close({ drainMs: 0 }),
  };
}

function relayWebsocketServer(maxPayload: number): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload,
    skipUTF8Validation: true,
    // Never echo a bearer.* subprotocol: select fwd.v1, or websockify's "binary" for bridge clients.
    handleProtocols: (offered: Set<string>) =>
      offered.has(FWD_SUBPROTOCOL)
        ? FWD_SUBPROTOCOL
        : offered.has(BINARY_SUBPROTOCOL)
          ? BINARY_SUBPROTOCOL
          : false,
  });
}

/** Pings every tunnel each interval; one that did not answer the previous ping is dropped. */
function startHeartbeat(tunnels: Set<RelayTunnel>, intervalMs: number): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined;
  const timer = setInterval(() => {
    for (const tunnel of tunnels) {
      if (!tunnel.alive) {
        tunnel.terminate('client stopped answering pings');
        continue;
      }
      tunnel.alive = false;
      tunnel.ping();
    }
  }, intervalMs);
  timer.unref();
  return timer;
}

async function listen(server: Server, host: string, port: number): Promise<TcpAddress> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(fromBindError(err, formatEndpoint({ host, port })));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  return bound && typeof bound === 'object' ? { host: bound.address, port: bound.port } : { host, port };
}

function allDone(tunnels: Set<RelayTunnel>): Promise<unknown> {
  return Promise.all([...tunnels].map((t) => t.done));
}

async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
