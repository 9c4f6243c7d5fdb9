import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContext } from 'node:tls';
import { FwdError } from '@fwd/core';
import type { Refusal } from './relay-admission.js';

// The relay's plain-HTTP face: /healthz, 426 for anything else, and refusals written onto an
// upgrade's raw socket (the HTTP server has handed it over, so the answer is written by hand).

const NOT_WEBSOCKET =
  'this is an fwd relay: connect with a websocket client (fwd); GET /healthz for status\n';

/** The relay's TLS context (wss://); CONFIG_INVALID when the certificate or key cannot be used. */
export function relayTlsContext(tls: { cert: string | Buffer; key: string | Buffer }): SecureContext {
  try {
    return createSecureContext({ cert: tls.cert, key: tls.key });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new FwdError('CONFIG_INVALID', `cannot use the TLS certificate and key: ${why}`, { cause: err });
  }
}

/**
 * Answers a request that is not an upgrade: `GET|HEAD /healthz` with the stats as JSON (200, or
 * 503 unless `healthy`), anything else with 426 and a line saying what this server is.
 */
export function answerPlainRequest(
  req: IncomingMessage,
  res: ServerResponse,
  health: () => { readonly healthy: boolean; readonly body: unknown },
): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
    const { healthy, body } = health();
    const json = JSON.stringify(body);
    res.writeHead(healthy ? 200 : 503, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(json),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : json);
    return;
  }
  res.writeHead(426, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(NOT_WEBSOCKET),
    Upgrade: 'websocket',
    Connection: 'close',
  });
  res.end(NOT_WEBSOCKET);
}

/** Writes `refusal` as a complete HTTP response on a raw socket, then closes it. */
export function writeRefusal(socket: Duplex, refusal: Refusal): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const body = `${refusal.reason}\n`;
  const lines = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(refusal.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
