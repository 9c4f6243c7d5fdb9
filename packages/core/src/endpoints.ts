import type { Duplex } from 'node:stream';

/** A TCP address. `host` may be a name, an IPv4 or an IPv6 address (no brackets). */
export interface TcpAddress {
  readonly host: string;
  readonly port: number;
}

/** A unix-domain socket path. */
export interface SocketPath {
  readonly path: string;
}

/** Where forwarded connections go: a TCP address or a unix socket, seen from the far side. */
export type ForwardTarget = TcpAddress | SocketPath;

/** Where a forward listens: TCP (port 0 = let the system pick) or a unix socket. */
export type BindAddress = { readonly host?: string; readonly port: number } | SocketPath;

/** Opens a channel to `target` through whatever session is current; rejects with a FwdError. */
export type ChannelOpener = (
  target: ForwardTarget,
  origin: TcpAddress,
  signal?: AbortSignal,
) => Promise<Duplex>;

export function isSocketPath(value: ForwardTarget | BindAddress): value is SocketPath {
  return 'path' in value;
}

/** "localhost:8888", "[::1]:8888", "/run/app.sock": how messages and tables show an endpoint. */
export function formatEndpoint(value: ForwardTarget | BindAddress): string {
  if (isSocketPath(value)) return value.path;
  const host = value.host ?? '127.0.0.1';
  return host.includes(':') ? `[${host}]:${value.port}` : `${host}:${value.port}`;
}
