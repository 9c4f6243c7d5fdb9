import type { Duplex } from 'node:stream';
import { DEFAULTS } from './defaults.js';

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

/** Where a forward listens: TCP (port 0 = let the system pick; no host = the default) or a unix socket. */
export type BindAddress = { readonly host?: string; readonly port: number } | SocketPath;

/** Opens a channel to `target` through whatever session is current; rejects with a FwdError. */
export type ChannelOpener = (
  target: ForwardTarget,
  origin: TcpAddress,
  signal?: AbortSignal,
) => Promise<Duplex>;

export function isSocketPath(
  value: ForwardTarget | BindAddress | { readonly path?: string },
): value is SocketPath {
  return 'path' in value;
}

/**
 * "localhost:8888", "[::1]:8888", "/run/app.sock": how messages and tables show an endpoint. A
 * bind address without a host shows `defaultHost` (the local default bind host).
 */
export function formatEndpoint(
  value: ForwardTarget | BindAddress,
  defaultHost: string = DEFAULTS.bindHost,
): string {
  if (isSocketPath(value)) return value.path;
  const host = value.host ?? defaultHost;
  return host.includes(':') ? `[${host}]:${value.port}` : `${host}:${value.port}`;
}

/** A bind address with the default host filled in: private to this machine unless it names one. */
export function withDefaultHost(bind: BindAddress, defaultHost: string = DEFAULTS.bindHost): BindAddress {
  return isSocketPath(bind) || bind.host !== undefined ? bind : { host: defaultHost, port: bind.port };
}

// host:port, [v6]:port, a bare host or a bare port: the parsers below decide which they accept.
const HOST_PORT = /^(?:(\d{1,5})|:(\d{1,5})|(?:\[([^\]]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?)$/;

/**
 * A target `host:port` or `[v6]:port`; with `defaultPort`, a bare host too. Undefined when it
 * is not one (ports 1-65535).
 *
 * @example parseHostPort('[::1]:22') // { host: '::1', port: 22 }
 */
export function parseHostPort(text: string, defaultPort?: number): TcpAddress | undefined {
  const m = HOST_PORT.exec(text.trim());
  const host = m?.[3] ?? m?.[4];
  if (!m || host === undefined) return undefined;
  const port = m[5] === undefined ? defaultPort : Number(m[5]);
  return port !== undefined && port >= 1 && port <= 65_535 ? { host, port } : undefined;
}

/**
 * A listen address: `9464` (the default host, loopback), `:9464` (every interface), `host:9464`
 * or `[::1]:9464`. Undefined when it is not one (ports 0-65535).
 *
 * @example parseListenAddress('8080') // { host: '127.0.0.1', port: 8080 }
 */
export function parseListenAddress(
  text: string,
  defaultHost: string = DEFAULTS.bindHost,
): TcpAddress | undefined {
  const m = HOST_PORT.exec(text.trim());
  if (!m) return undefined;
  const host = m[3] ?? m[4] ?? (m[2] !== undefined ? '0.0.0.0' : defaultHost);
  const portText = m[1] ?? m[2] ?? m[5];
  if (portText === undefined) return undefined;
  const port = Number(portText);
  return port <= 65_535 ? { host, port } : undefined;
}

/** Addresses that every machine on the network can reach (0.0.0.0, ::, *): worth a warning. */
export function isWildcardHost(host: string | undefined): boolean {
  return host === '0.0.0.0' || host === '::' || host === '*' || host === '';
}

/**
 * True when `host` names this machine's loopback interface: `localhost`, 127.0.0.0/8, `::1`
 * (with or without brackets, or IPv4-mapped). Names are not resolved: anything else counts as
 * reachable from the network, which is what the plain-text warnings need.
 *
 * @example isLoopbackHost('[::1]') // true;  isLoopbackHost('0.0.0.0') // false
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  const v4 = bare.replace(/^::ffff:/, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
