import type { IncomingMessage } from 'node:http';
import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatEndpoint, type TcpAddress } from '@fwd/core';
import type { WebSocketServer } from 'ws';
import type { Refusal } from './relay-admission.js';
import { type RelayCounters, RelayTunnel } from './relay-tunnel.js';

export interface JoinOptions {
  readonly wss: WebSocketServer;
  /** Bound on connecting to the SSH host. */
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly totals: RelayCounters;
  /** False once the relay started draining while this client waited for its SSH host. */
  readonly accepting: () => boolean;
}

/** A tunnel, a refusal to write back (502, 503), or `gone` when the client left meanwhile. */
export type JoinOutcome = { readonly tunnel: RelayTunnel } | { readonly refusal: Refusal } | 'gone';

/**
 * Joins an admitted client to its SSH host: connects to `target` first, and only once that
 * worked completes the websocket upgrade, so a client never holds an open websocket to nowhere.
 */
export function joinTarget(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: TcpAddress,
  options: JoinOptions,
): Promise<JoinOutcome> {
  return new Promise<JoinOutcome>((resolve) => {
    // 256 KiB buffers: Node's 16 KiB is less than one SSH packet, so every message would pause the websocket.
    const tcp = netConnect({
      host: target.host,
      port: target.port,
      noDelay: true,
      highWaterMark: 256 * 1024,
    } as { host: string; port: number; noDelay: boolean });
    tcp.setTimeout(options.connectTimeoutMs, () =>
      tcp.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    );
    // A client that leaves while we connect takes its connection attempt with it.
    const onClientGone = (): void => {
      tcp.destroy();
    };
    const onTcpClosed = (): void => {
      socket.off('close', onClientGone);
      resolve('gone');
    };
    socket.once('close', onClientGone);
    tcp.once('close', onTcpClosed);
    tcp.once('error', (err: NodeJS.ErrnoException) => {
      socket.off('close', onClientGone);
      if (socket.destroyed) return resolve('gone');
      const why = err.code ?? err.message;
      resolve({ refusal: { status: 502, reason: `relay cannot reach ${formatEndpoint(target)} (${why})` } });
    });
    tcp.once('connect', () => {
      socket.off('close', onClientGone);
      tcp.off('close', onTcpClosed);
      tcp.setTimeout(0);
      tcp.removeAllListeners('error');
      if (!options.accepting() || socket.destroyed) {
        tcp.destroy();
        return resolve(
          socket.destroyed ? 'gone' : { refusal: { status: 503, reason: 'relay is shutting down' } },
        );
      }
      let tunnel: RelayTunnel | undefined;
      options.wss.handleUpgrade(req, socket, head, (ws) => {
        tunnel = new RelayTunnel(ws, socket, tcp, {
          idleTimeoutMs: options.idleTimeoutMs,
          totals: options.totals,
        });
      });
      // ws decides synchronously; a handshake it refuses after all must not leave the TCP connection behind.
      if (tunnel) return resolve({ tunnel });
      tcp.destroy();
      resolve('gone');
    });
  });
}
