// The wire contract between a fwd client and a relay, beyond "raw SSH bytes in binary messages".

/** Subprotocol a fwd client offers (and the relay selects) when it sends its token as a subprotocol. */
export const FWD_SUBPROTOCOL = 'fwd.v1';

/** websockify's name for the same framing; the relay selects it for standard bridge clients. */
export const BINARY_SUBPROTOCOL = 'binary';

const BEARER_PREFIX = 'bearer.';

/** The query parameter that names the SSH host the client wants: `?target=login:22`. */
export const TARGET_PARAM = 'target';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * The token as a subprotocol, for proxies and browsers that cannot send `Authorization`:
 * `bearer.` + base64url(UTF-8 token). Base64url only uses characters a subprotocol token allows.
 *
 * @example bearerSubprotocol('s3cret') // 'bearer.czNjcmV0'
 */
export function bearerSubprotocol(token: string): string {
  return BEARER_PREFIX + Buffer.from(token, 'utf8').toString('base64url');
}

/** The token carried by a `bearer.<base64url>` subprotocol, if one was offered. */
export function tokenFromSubprotocols(protocols: Iterable<string>): string | undefined {
  for (const protocol of protocols) {
    if (protocol.startsWith(BEARER_PREFIX)) {
      return Buffer.from(protocol.slice(BEARER_PREFIX.length), 'base64url').toString('utf8');
    }
  }
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** `host:port`, with IPv6 literals in brackets: `[::1]:22`. */
export function formatHostPort(target: HostPort): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/**
 * Parses `host:port` or `[v6]:port`; undefined when it is not one. With `defaultPort`, a bare
 * host is accepted too.
 *
 * @example parseHostPort('[::1]:22') // { host: '::1', port: 22 }
 */
export function parseHostPort(text: string, defaultPort?: number): HostPort | undefined {
  const trimmed = text.trim();
  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(trimmed);
  if (!match) return undefined;
  const host = (match[1] ?? match[2] ?? '').toLowerCase();
  const portText = match[3];
  const port = portText === undefined ? defaultPort : Number(portText);
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65_535 || host === '')
    return undefined;
  return { host, port };
}

/** True when two targets name the same host and port (names compared literally, never resolved). */
export function sameHostPort(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}
