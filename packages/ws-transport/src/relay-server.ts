import { createServer as createHttpServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { FwdError } from '@fwd/core';
import { WebSocketServer } from 'ws';
import {
  BINARY_SUBPROTOCOL,
  FWD_SUBPROTOCOL,
  formatHostPort,
  type HostPort,
  parseHostPort,
  sameHostPort,
  TARGET_PARAM,
} from './protocol.js';
import { presentedToken, type TokenVerifier, tokenVerifier } from './relay-auth.js';
import { CLOSE_CODES, type RelayCounters, RelayTunnel } from './relay-tunnel.js';

export interface RelayOptions {
  /** Where to listen; host defaults to 127.0.0.1 (behind a reverse proxy), port 0 picks one. */
  listen: { host?: string; port: number };
  /** The only SSH hosts clients may reach, compared by name and port (names are never resolved). */
  allow: readonly HostPort[];
  /** Where a client that names no target goes; default the first `allow` entry. Always allowed. */
  defaultTarget?: HostPort;
  /** Accepted bearer tokens (at least one, each ≥16 characters), or a prepared verifier. */
  tokens: readonly string[] | TokenVerifier;
  /** Serve wss:// directly; without it the relay speaks plain ws:// for a TLS-terminating proxy. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Tunnels (open plus connecting) beyond which new clients get 503. Default 2048. */
  maxConnections?: number;
  /** Close a tunnel after this long without a byte either way; 0 (default) = never. */
  idleTimeoutMs?: number;
  /** Ping interval to find dead clients; a client that misses one whole interval is dropped. Default 30 s; 0 = off. */
  pingIntervalMs?: number;
  /** Largest websocket message accepted; bigger ones close that tunnel (1009). Default 1 MiB. */
  maxPayload?: number;
  /** Bound on connecting to the SSH host. Default 10 s. */
  connectTimeoutMs?: number;
  /** One structured event per call, ready for `JSON.stringify`; never contains a token. */
  log?: (event: RelayLogEvent) => void;
  /** Aborting starts a graceful close (default drain). */
  signal?: AbortSignal;
}

export interface RelayLogEvent {
  readonly ts: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface RelayStats {
  readonly status: 'ok' | 'draining' | 'closed';
  readonly connectionsActive: number;
  readonly connectionsTotal: number;
  readonly rejected: number;
  readonly bytesToTargets: number;
  readonly bytesFromTargets: number;
  /** Bytes held in the relay's buffers right now (towards clients and towards SSH hosts). */
  readonly bytesQueued: number;
  readonly uptimeMs: number;
}

export interface RelayCloseOptions {
  /** How long open tunnels may go on before they are closed (1001). Default 10 s. */
  drainMs?: number;
}

/** A running relay. Closing it stops accepting, drains tunnels up to a deadline, then closes them. */
export interface Relay extends AsyncDisposable {
  readonly address: { readonly host: string; readonly port: number };
  readonly stats: RelayStats;
  /** Resolves once the relay has closed (after {@link close} or the signal). Never rejects. */
  readonly closed: Promise<void>;
  /** Idempotent. */
  close(options?: RelayCloseOptions): Promise<void>;
}

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;
const DEFAULT_DRAIN_MS = 10_000;
const NOT_WEBSOCKET =
  'this is an fwd relay: connect with a websocket client (fwd); GET /healthz for status\n';

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
  const allow = options.allow.map((t) => ({ host: t.host.toLowerCase(), port: t.port }));
  const defaultTarget = options.defaultTarget ?? allow[0];
  if (!defaultTarget) throw new FwdError('CONFIG_INVALID', 'the relay needs at least one allowed target');
  const isAllowed = (t: HostPort): boolean =>
    sameHostPort(t, defaultTarget) || allow.some((a) => sameHostPort(a, t));
  const maxConnections = options.maxConnections ?? 2048;
  const idleTimeoutMs = options.idleTimeoutMs ?? 0;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const emit = options.log ?? ((): void => {});
  const log = (event: string, fields: Record<string, unknown> = {}): void => {
    emit({ ts: new Date().toISOString(), event, ...fields });
  };

  const startedAt = Date.now();
  const totals: RelayCounters = { bytesToTarget: 0, bytesFromTarget: 0 };
  const tunnels = new Set<RelayTunnel>();
  let connecting = 0;
  let connectionsTotal = 0;
  let rejected = 0;
  let nextId = 0;
  let state: RelayStats['status'] = 'ok';

  const stats = (): RelayStats => ({
    status: state,
    connectionsActive: tunnels.size,
    connectionsTotal,
    rejected,
    bytesToTargets: totals.bytesToTarget,
    bytesFromTargets: totals.bytesFromTarget,
    bytesQueued: [...tunnels].reduce((sum, t) => sum + t.queuedBytes, 0),
    uptimeMs: Date.now() - startedAt,
  });

  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: false,
    maxPayload: options.maxPayload ?? 1024 * 1024,
    skipUTF8Validation: true,
    // Never echo a bearer.* subprotocol: select fwd.v1, or websockify's "binary" for bridge clients.
    handleProtocols: (offered: Set<string>) =>
      offered.has(FWD_SUBPROTOCOL)
        ? FWD_SUBPROTOCOL
        : offered.has(BINARY_SUBPROTOCOL)
          ? BINARY_SUBPROTOCOL
          : false,
  });

  const server = createServer(options.tls);

  server.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      const body = JSON.stringify(stats());
      res.writeHead(state === 'ok' ? 200 : 503, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(426, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(NOT_WEBSOCKET),
      Upgrade: 'websocket',
      Connection: 'close',
    });
    res.end(NOT_WEBSOCKET);
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    log('tls-error', { code: err.code ?? 'unknown' });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const id = ++nextId;
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const forwardedFor = req.headers['x-forwarded-for'];
    const who = {
      id,
      remote,
      ...(typeof forwardedFor === 'string' ? { forwardedFor: forwardedFor.slice(0, 200) } : {}),
    };
    const refuse = (status: number, message: string, extraHeaders: Record<string, string> = {}): void => {
      rejected++;
      log('rejected', { ...who, status, reason: message });
      writeHttpError(socket, status, message, extraHeaders);
    };

    if (state !== 'ok') return refuse(503, 'relay is shutting down');
    if (!isWebsocketHandshake(req)) return refuse(400, 'not a valid websocket handshake');
    if (!tokens.verify(presentedToken(req))) {
      return refuse(401, 'missing or invalid relay token', {
        'WWW-Authenticate': 'Bearer realm="fwd-relay"',
      });
    }
    const asked = targetParam(req.url);
    if (asked === undefined) return refuse(400, 'malformed request URL');
    let target = defaultTarget;
    if (asked !== null) {
      const parsed = parseHostPort(asked);
      if (!parsed) return refuse(400, `target must be host:port, got ${JSON.stringify(asked.slice(0, 100))}`);
      if (!isAllowed(parsed))
        return refuse(403, `target ${formatHostPort(parsed)} is not allowed by this relay`);
      target = parsed;
    }
    if (tunnels.size + connecting >= maxConnections) {
      return refuse(503, `relay is at its limit of ${maxConnections} connections`);
    }

    // Only now, with the client authorised, does the relay touch the SSH host.
    connecting++;
    const where = formatHostPort(target);
    // 256 KiB buffers: Node's 16 KiB is less than one SSH packet, so every message would pause the websocket.
    const tcp = netConnect({
      host: target.host,
      port: target.port,
      noDelay: true,
      highWaterMark: 256 * 1024,
    } as {
      host: string;
      port: number;
      noDelay: boolean;
    });
    tcp.setTimeout(connectTimeoutMs, () =>
      tcp.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    const onClientGone = (): void => {
      tcp.destroy();
    };
    socket.once('close', onClientGone);
    tcp.once('error', (err: NodeJS.ErrnoException) => {
      connecting--;
      socket.off('close', onClientGone);
      refuse(502, `relay cannot reach ${where} (${err.code ?? err.message})`);
    });
    tcp.once('connect', () => {
      connecting--;
      socket.off('close', onClientGone);
      tcp.setTimeout(0);
      tcp.removeAllListeners('error');
      if (state !== 'ok' || socket.destroyed) {
        tcp.destroy();
        if (!socket.destroyed) refuse(503, 'relay is shutting down');
        return;
      }
      let upgraded = false;
      wss.handleUpgrade(req, socket, head, (ws) => {
        upgraded = true;
        connectionsTotal++;
        const tunnel = new RelayTunnel(ws, socket, tcp, { idleTimeoutMs, totals });
        tunnels.add(tunnel);
        log('tunnel-open', { ...who, target: where, protocol: ws.protocol || undefined });
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
      // ws decides synchronously; a handshake it refuses after all must not leave the TCP connection behind.
      if (!upgraded) tcp.destroy();
    });
  });

  const pingIntervalMs = options.pingIntervalMs ?? 30_000;
  const heartbeat =
    pingIntervalMs > 0
      ? setInterval(() => {
          for (const tunnel of tunnels) {
            if (!tunnel.alive) {
              tunnel.terminate('client stopped answering pings');
              continue;
            }
            tunnel.alive = false;
            tunnel.ping();
          }
        }, pingIntervalMs)
      : undefined;
  heartbeat?.unref();

  const listenHost = options.listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (heartbeat) clearInterval(heartbeat);
      reject(bindError(err, formatHostPort({ host: listenHost, port: options.listen.port })));
    };
    server.once('error', onError);
    server.listen(options.listen.port, listenHost, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address();
  const address =
    bound && typeof bound === 'object'
      ? { host: bound.address, port: bound.port }
      : { host: listenHost, port: options.listen.port };
  log('listening', {
    address: formatHostPort(address),
    tls: options.tls !== undefined,
    allow: allow.map(formatHostPort),
    defaultTarget: formatHostPort(defaultTarget),
    tokens: tokens.size,
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = (closeOptions: RelayCloseOptions = {}): Promise<void> => {
    closing ??= (async () => {
      const drainMs = closeOptions.drainMs ?? DEFAULT_DRAIN_MS;
      state = 'draining';
      log('shutdown', { connectionsActive: tunnels.size, drainMs });
      if (heartbeat) clearInterval(heartbeat);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await settledWithin(allDone(tunnels), drainMs);
      for (const tunnel of tunnels) tunnel.close(CLOSE_CODES.goingAway, 'relay shutting down');
      await settledWithin(allDone(tunnels), 1_000);
      for (const tunnel of tunnels) tunnel.terminate('relay shut down');
      server.closeAllConnections();
      await serverClosed;
      state = 'closed';
      log('closed', { connectionsTotal, rejected });
      resolveClosed();
    })();
    return closing;
  };
  const signal = options.signal;
  if (signal) {
    if (signal.aborted) void close();
    else signal.addEventListener('abort', () => void close(), { once: true });
  }

  return {
    address,
    get stats(): RelayStats {
      return stats();
    },
    closed,
    close,
    [Symbol.asyncDispose]: () => close({ drainMs: 0 }),
  };
}

function createServer(tls: RelayOptions['tls']): Server {
  if (!tls) return createHttpServer();
  try {
    return createHttpsServer({ cert: tls.cert, key: tls.key });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new FwdError('CONFIG_INVALID', `cannot use the TLS certificate and key: ${why}`, { cause: err });
  }
}

/** The `?target=` of a request URL: null when absent, undefined when the URL cannot be parsed. */
function targetParam(url: string | undefined): string | null | undefined {
  try {
    return new URL(url ?? '/', 'http://relay').searchParams.get(TARGET_PARAM);
  } catch {
    return undefined;
  }
}

function isWebsocketHandshake(req: IncomingMessage): boolean {
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    WEBSOCKET_KEY.test(req.headers['sec-websocket-key'] ?? '') &&
    (version === '13' || version === '8')
  );
}

function writeHttpError(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string>,
): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const body = `${message}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function allDone(tunnels: Set<RelayTunnel>): Promise<unknown> {
  return Promise.all([...tunnels].map((t) => t.done));
}

async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function bindError(err: NodeJS.ErrnoException, address: string): FwdError {
  if (err.code === 'EADDRINUSE') {
    return new FwdError('BIND_IN_USE', `${address} is already in use: pick another --listen port`, {
      cause: err,
    });
  }
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new FwdError('BIND_DENIED', `not allowed to listen on ${address}: use a port ≥1024`, {
      cause: err,
    });
  }
  return new FwdError('BIND_DENIED', `cannot listen on ${address}: ${err.code ?? err.message}`, {
    cause: err,
  });
}
