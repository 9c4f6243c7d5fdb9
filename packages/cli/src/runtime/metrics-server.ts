import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FwdError, formatEndpoint, type HostStatus, type TunnelStatus } from '@fwd/core';
import { prometheusText } from '../render/prometheus.js';

export interface MetricsSource {
  tunnels(): TunnelStatus[];
  hosts(): HostStatus[];
}

export interface MetricsServer extends AsyncDisposable {
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text) and `/healthz` (200 when no tunnel has failed, else 503,
 * with every tunnel's state as JSON). Off unless asked; loopback unless told otherwise.
 */
export async function startMetricsServer(
  listen: { host: string; port: number },
  source: MetricsSource,
): Promise<MetricsServer> {
  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    // A plain Content-Length (no chunking) keeps the answer readable by the simplest scrapers.
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(body);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET' }).end();
    } else if (path === '/metrics') {
      send(
        res,
        200,
        'text/plain; version=0.0.4; charset=utf-8',
        prometheusText(source.tunnels(), source.hosts()),
      );
    } else if (path === '/healthz') {
      const tunnels = source.tunnels();
      const healthy = tunnels.every((t) => t.state !== 'failed');
      const body = { ok: healthy, tunnels: tunnels.map((t) => ({ tunnel: t.name, state: t.state })) };
      send(res, healthy ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
    } else {
      send(res, 404, 'text/plain', 'fwd serves /metrics and /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new FwdError(
          err.code === 'EADDRINUSE' ? 'BIND_IN_USE' : 'BIND_DENIED',
          `metrics: cannot listen on ${formatEndpoint(listen)}: ${err.message}`,
          { cause: err },
        ),
      ),
    );
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { address: { host: bound.address, port: bound.port }, close, [Symbol.asyncDispose]: close };
}
