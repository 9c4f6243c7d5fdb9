import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Refusal } from './relay-admission.js';
import { writeRefusal } from './relay-http.js';

export interface AcceptOptions {
  /** Client connections (handshaking or tunnelling) beyond which new ones are refused at once. */
  readonly maxConnections: number;
  /** From TCP accept to a complete upgrade request, TLS handshake included. */
  readonly handshakeTimeoutMs: number;
  /** Serve TLS with this context (wss://); without it, plain HTTP. */
  readonly tls?: SecureContext | undefined;
  /** A connection refused at accept (capacity) or cut (handshake timeout). */
  readonly onRefused: (remote: string, refusal: Refusal) => void;
  /** A TLS handshake failed (wrong protocol, bad certificate, ...). */
  readonly onTlsError: (remote: string, code: string) => void;
}

/**
 * Every client TCP connection from accept to close. It counts against `maxConnections` from the
 * moment it is accepted, not from its upgrade, and must complete its upgrade request within
 * `handshakeTimeoutMs`: a client that opens connections and sends half a request head (slowloris)
 * holds a slot for seconds, not for Node's 60 s header timeout, and never more than the limit.
 */
export class AcceptedConnections {
  readonly #http: Server;
  readonly #options: AcceptOptions;
  readonly #open = new Set<Socket>();
  /** Connections still handshaking, by the socket the HTTP server sees, with their deadline. */
  readonly #handshaking = new Map<Duplex, { readonly raw: Socket; readonly timer: NodeJS.Timeout }>();

  constructor(http: Server, options: AcceptOptions) {
    this.#http = http;
    this.#options = options;
  }

  /** Client connections open right now, handshaking or tunnelling. */
  get open(): number {
    return this.#open.size;
  }

  /** Connections that have not yet completed an upgrade request. */
  get handshaking(): number {
    return this.#handshaking.size;
  }

  /** The net.Server 'connection' listener: count, bound the handshake, hand over to HTTP. */
  readonly accept = (raw: Socket): void => {
    const remote = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    raw.on('error', () => raw.destroy());
    const { maxConnections, handshakeTimeoutMs, tls } = this.#options;
    if (this.#open.size >= maxConnections) {
      const refusal = { status: 503, reason: `relay is at its limit of ${maxConnections} connections` };
      this.#options.onRefused(remote, refusal);
      // Under TLS there is no way to say it before a handshake we do not want to pay for.
      if (tls) raw.destroy();
      else writeRefusal(raw, refusal);
      return;
    }
    this.#open.add(raw);
    const socket: Duplex = tls ? this.#tlsSocket(raw, tls, remote) : raw;
    const timer = setTimeout(() => {
      if (!this.#handshaking.delete(socket)) return;
      this.#options.onRefused(remote, {
        status: 408,
        reason: `no complete upgrade request within ${handshakeTimeoutMs} ms`,
      });
      raw.destroy();
    }, handshakeTimeoutMs);
    timer.unref();
    this.#handshaking.set(socket, { raw, timer });
    raw.once('close', () => {
      this.#open.delete(raw);
      this.settle(socket);
    });
    this.#http.emit('connection', socket);
  };

  /** `socket` (as the HTTP server's 'upgrade' gave it) has sent its request: its deadline stops. */
  settle(socket: Duplex): void {
    const entry = this.#handshaking.get(socket);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#handshaking.delete(socket);
  }

  /** Drops every connection that has not upgraded (shutdown: no new tunnels). */
  destroyHandshaking(): void {
    for (const [, entry] of this.#handshaking) {
      clearTimeout(entry.timer);
      entry.raw.destroy();
    }
    this.#handshaking.clear();
  }

  /** Drops every connection. */
  destroyAll(): void {
    this.destroyHandshaking();
    for (const raw of this.#open) raw.destroy();
  }

  #tlsSocket(raw: Socket, context: SecureContext, remote: string): TLSSocket {
    const socket = new TLSSocket(raw, { isServer: true, secureContext: context });
    let handshaking = true;
    socket.once('secure', () => {
      handshaking = false;
    });
    // The HTTP server handles the error itself (closes the socket); this only says why, once.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!handshaking) return;
      handshaking = false;
      this.#options.onTlsError(remote, err.code ?? 'unknown');
    });
    return socket;
  }
}
