import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  abortError,
  FwdError,
  formatEndpoint,
  isLoopbackHost,
  type TcpAddress,
  type Transport,
} from '@fwd/core';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import WebSocket from 'ws';
import { bearerSubprotocol, FWD_SUBPROTOCOL, TARGET_PARAM } from './protocol.js';
import { redactUrl } from './redact-url.js';
import { WebsocketDuplex } from './websocket-duplex.js';
import { handshakeError, proxyRefusedError, responseError } from './ws-errors.js';

export interface WebsocketTransportOptions {
  /** The relay's websocket URL, `ws://` or `wss://`. */
  url: string | URL;
  /** Sent as `Authorization: Bearer <token>`; never appears in messages or descriptions. */
  token?: string;
  /**
   * Also offer the token as subprotocols `fwd.v1, bearer.<base64url(token)>`, for proxies that
   * strip `Authorization`. The relay selects `fwd.v1` and never echoes the token. Default false
   * (so plain websocket-to-TCP bridges, which select no subprotocol, keep working).
   */
  tokenInSubprotocol?: boolean;
  /** Extra handshake headers (e.g. for an authenticating reverse proxy). */
  headers?: Record<string, string>;
  /** The SSH host the relay should connect to, sent as `?target=host:port`; must be on its allowlist. */
  target?: { host: string; port?: number };
  /**
   * The HTTP agent for the handshake. Default: `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` with
   * `NO_PROXY` honoured (an HTTP CONNECT proxy); `false` = connect directly whatever the environment says.
   */
  agent?: Agent | false;
  /** Default true. Prefer `ca` to turning this off. */
  rejectUnauthorized?: boolean;
  /** Trusted CA certificates (PEM) for a relay with a private CA or a self-signed certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The SSH host as known_hosts names it, when it is not `target` (e.g. the relay's default target). */
  endpoint?: TcpAddress;
  /** Websocket ping interval; a relay that misses a whole interval fails the stream (KEEPALIVE_TIMEOUT). Default 15 s; 0 = off. */
  pingIntervalMs?: number;
  /** Largest message accepted from the relay. Default 1 MiB. */
  maxPayload?: number;
  /**
   * Told once, before the first handshake, when the token would cross the network in plain text
   * (`ws://` to a host other than loopback). The CLI shows it as a warning note.
   */
  warn?: (message: string) => void;
}

/**
 * SSH over a websocket, through `fwd relay` or any websocket-to-TCP bridge (websockify framing:
 * raw bytes, one binary message per chunk). SSH stays end to end; the relay sees ciphertext.
 *
 * @example
 * await using ssh = await connect({
 *   transport: websocketTransport({ url: 'wss://relay.example.edu/ssh', token, target: { host: 'login', port: 22 } }),
 *   username: 'alice', agent: process.env.SSH_AUTH_SOCK,
 * });
 */
export function websocketTransport(options: WebsocketTransportOptions): Transport {
  const url = relayUrl(options);
  const shown = redactUrl(options.url);
  const target = options.target ? { host: options.target.host, port: options.target.port ?? 22 } : undefined;
  const endpoint = options.endpoint ?? target;
  let warned = options.warn === undefined || !sendsTokenInClear(url, options);
  return {
    description: target ? `ws ${shown} → ${formatEndpoint(target)}` : `ws ${shown}`,
    ...(endpoint ? { endpoint: { host: endpoint.host, port: endpoint.port } } : {}),
    connect: (signal: AbortSignal) => {
      if (!warned) {
        warned = true;
        options.warn?.(
          `relay ${shown}: the relay token is sent in plain text (ws:// to ${url.hostname}); anyone on the path can read and reuse it: use wss://`,
        );
      }
      return openWebsocket(url, options, `relay ${shown}`, signal);
    },
  };
}

/** A token over ws:// to anything but this machine: readable on every network it crosses. */
function sendsTokenInClear(url: URL, options: WebsocketTransportOptions): boolean {
  return url.protocol === 'ws:' && options.token !== undefined && !isLoopbackHost(url.hostname);
}

function relayUrl(options: WebsocketTransportOptions): URL {
  let url: URL;
  try {
    url = new URL(String(options.url));
  } catch {
    throw new FwdError(
      'CONFIG_INVALID',
      'websocket transport: url is not a valid URL (expected wss://host/path)',
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new FwdError(
      'CONFIG_INVALID',
      `websocket transport: url must start with ws:// or wss://, not ${url.protocol}//`,
    );
  }
  if (options.target) {
    url.searchParams.set(
      TARGET_PARAM,
      formatEndpoint({ host: options.target.host, port: options.target.port ?? 22 }),
    );
  }
  return url;
}

interface ProxyRoute {
  readonly agent: HttpsProxyAgent<string>;
  /** The proxy without credentials. */
  readonly shown: string;
}

function proxyFromEnvironment(url: URL): ProxyRoute | undefined {
  // proxy-from-env looks up <scheme>_proxy; a websocket handshake is HTTP(S).
  const asHttp = new URL(url.href);
  asHttp.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  const proxy = getProxyForUrl(asHttp.href);
  if (!proxy) return undefined;
  const parsed = new URL(proxy);
  return { agent: new HttpsProxyAgent(parsed), shown: `${parsed.protocol}//${parsed.host}` };
}

const MAX_BODY = 512;

/**
 * The masking key of every frame we send: zero, which ws on both ends recognises and skips (no
 * copy of each payload into a masked buffer here, no XOR pass in the relay). Masking (RFC 6455
 * §10.3) keeps script-chosen bytes from looking like HTTP to a broken proxy; ours are SSH
 * ciphertext after the key exchange, and before it the version line and KEXINIT that fwd writes,
 * never bytes anyone else chose. Measured on upload: see bench/README.md, "Websocket row".
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

function openWebsocket(
  url: URL,
  options: WebsocketTransportOptions,
  where: string,
  signal: AbortSignal,
): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal, `connect to ${where}`));
    const proxy = options.agent === undefined ? proxyFromEnvironment(url) : undefined;
    const agent = options.agent === undefined ? proxy?.agent : options.agent || undefined;
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token;
    const protocols =
      token !== undefined && options.tokenInSubprotocol ? [FWD_SUBPROTOCOL, bearerSubprotocol(token)] : [];
    // ws turns a URL's user:password@ into Authorization: Basic unless a lower-case `authorization`
    // header is set (a capitalised one would be overwritten): the Bearer token must win, unless it
    // travels as a subprotocol, which leaves Basic to a proxy in front of the relay.
    const basicForProxy = protocols.length > 0 && (url.username !== '' || url.password !== '');
    if (token !== undefined && !basicForProxy) {
      for (const name of Object.keys(headers))
        if (name.toLowerCase() === 'authorization') delete headers[name];
      headers.authorization = `Bearer ${token}`;
    }

    const ws = new WebSocket(url, protocols, {
      headers,
      perMessageDeflate: false,
      maxPayload: options.maxPayload ?? 1024 * 1024,
      followRedirects: false,
      skipUTF8Validation: true,
      generateMask: zeroMask,
      ...(agent ? { agent } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
    });
    let settled = false;
    let socket: Duplex | undefined;
    let proxyStatus: number | undefined;
    const onProxyConnect = (response: { statusCode: number }): void => {
      proxyStatus = response.statusCode;
    };
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      proxy?.agent.off('proxyConnect', onProxyConnect);
      return true;
    };
    const fail = (err: FwdError): void => {
      if (!settle()) return;
      ws.terminate();
      reject(err);
    };
    const onAbort = (): void => fail(abortError(signal, `connect to ${where}`));
    signal.addEventListener('abort', onAbort, { once: true });
    proxy?.agent.on('proxyConnect', onProxyConnect);

    // Stays attached: ws may report a late error for a handshake this promise already settled.
    ws.on('error', (err: Error) => {
      fail(handshakeError(err, where, proxy && proxyStatus === undefined ? proxy.shown : undefined));
    });
    ws.once('upgrade', (response: IncomingMessage) => {
      socket = response.socket;
    });
    ws.once('unexpected-response', (request: ClientRequest, response: IncomingMessage) => {
      if (proxy && proxyStatus !== undefined && proxyStatus !== 200) {
        request.destroy();
        return fail(proxyRefusedError(proxyStatus, proxy.shown, where));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        request.destroy();
        fail(
          responseError(
            response.statusCode ?? 0,
            Buffer.concat(chunks).toString('utf8'),
            where,
            token !== undefined,
          ),
        );
      };
      response.on('data', (chunk: Buffer) => {
        if (size >= MAX_BODY) return;
        chunks.push(chunk.subarray(0, MAX_BODY - size));
        size += chunk.length;
        if (size >= MAX_BODY) done();
      });
      response.once('end', done);
      response.once('error', done);
    });
    ws.once('open', () => {
      if (!settle()) return;
      if (!socket) {
        ws.terminate();
        return reject(new FwdError('RELAY_FAILED', `${where}: websocket opened without a socket`));
      }
      resolve(new WebsocketDuplex(ws, { socket, where, pingIntervalMs: options.pingIntervalMs ?? 15_000 }));
    });
  });
}
