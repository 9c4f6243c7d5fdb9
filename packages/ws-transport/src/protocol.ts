import type { TcpAddress } from '@fwd/core';

// The wire contract between a fwd client and a relay, beyond "raw SSH bytes in binary messages".

/** Subprotocol a fwd client offers (and the relay selects) when it sends its token as a subprotocol. */
export const FWD_SUBPROTOCOL = 'fwd.v1';

/** websockify's name for the same framing; the relay selects it for standard bridge clients. */
export const BINARY_SUBPROTOCOL = 'binary';

const BEARER_PREFIX = 'bearer.';

/** The query parameter that names the SSH host the client wants: `?target=login:22`. */
export const TARGET_PARAM = 'target';

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

/** True when two targets name the same host and port (names compared literally, never resolved). */
export function sameHostPort(a: TcpAddress, b: TcpAddress): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}
