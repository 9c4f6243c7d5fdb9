import { connect as netConnect, type Socket } from 'node:net';
import { fromSocketError } from './error-translation.js';
import { abortError } from './errors.js';
import type { Transport } from './transport.js';

export interface TcpTransportOptions {
  host: string;
  port?: number;
  /** Keep the TCP connection's kernel keepalive on too (SSH keepalive does the real work). */
  tcpKeepAliveMs?: number;
}

/**
 * Plain TCP to an SSH server: the default transport.
 *
 * @example
 * await connect({ transport: tcpTransport({ host: 'login', port: 22 }), username: 'alice' });
 */
export function tcpTransport(options: TcpTransportOptions): Transport {
  const host = options.host;
  const port = options.port ?? 22;
  const where = port === 22 ? host : `${host}:${port}`;
  return {
    description: `tcp ${where}`,
    endpoint: { host, port },
    connect(signal: AbortSignal): Promise<Socket> {
      return new Promise<Socket>((resolve, reject) => {
        if (signal.aborted) return reject(abortError(signal, `connect to ${where}`));
        const socket = netConnect({ host, port, noDelay: true, allowHalfOpen: false });
        const onAbort = (): void => {
          socket.destroy();
          reject(abortError(signal, `connect to ${where}`));
        };
        const onError = (err: Error): void => {
          signal.removeEventListener('abort', onAbort);
          reject(fromSocketError(err, where));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('error', onError);
        socket.once('connect', () => {
          signal.removeEventListener('abort', onAbort);
          socket.off('error', onError);
          // ssh2 leaves Nagle on for its socket: every channel open would stall on delayed ACKs.
          socket.setNoDelay(true);
          socket.setKeepAlive(true, options.tcpKeepAliveMs ?? 30_000);
          resolve(socket);
        });
      });
    },
  };
}
