import { errorCode, errorMessage, FwdError, fromSocketError } from '@fwd/core';

// The one place where websocket, TLS, proxy and socket failures become FwdErrors. Messages name
// the relay by its URL without credentials or query, and never quote a token.

const TLS_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in a self-signed (private) CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is issued by a CA this machine does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'its certificate is issued by a CA this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate cannot be verified against a trusted CA',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet (check the clocks)',
  CERT_REVOKED: 'its certificate was revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate is for another host name',
};

const SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const CA_HINT = 'if the relay uses a private CA or a self-signed certificate, pass that certificate as `ca`';

/** True for errors raised by TLS itself (certificate checks, handshake, protocol mismatch). */
export function isTlsError(err: unknown): boolean {
  const code = errorCode(err) ?? '';
  return code in TLS_CODES || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO';
}

/** A failure before the websocket opened: TLS, a proxy, the network, or a non-websocket answer. */
export function handshakeError(err: unknown, where: string, via: string | undefined): FwdError {
  if (err instanceof FwdError) return err;
  const code = errorCode(err);
  if (code !== undefined && code in TLS_CODES) {
    const why =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `${TLS_CODES[code]} (${(err as { reason?: string }).reason ?? errorMessage(err)})`
        : TLS_CODES[code];
    const hint =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'use the host name the certificate names in the URL'
        : CA_HINT;
    return new FwdError('TLS_FAILED', `TLS to ${where} failed: ${why} (${code}); ${hint}`, { cause: err });
  }
  if (isTlsError(err)) {
    const plain = /wrong version number|packet length too long|http request/i.test(errorMessage(err));
    return new FwdError(
      'TLS_FAILED',
      plain
        ? `TLS to ${where} failed: the server does not speak TLS there; use ws:// or the relay's wss port`
        : `TLS to ${where} failed: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (via !== undefined) {
    return new FwdError('PROXY_FAILED', `cannot reach ${where} through proxy ${via}: ${socketReason(err)}`, {
      cause: err,
    });
  }
  // Refused, unresolvable, unreachable, timed out: worded like any other socket failure.
  if (code !== undefined && SOCKET_CODES.has(code)) return fromSocketError(err, where);
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return new FwdError('RELAY_FAILED', `${where} reset the connection during the websocket handshake`, {
        cause: err,
      });
    default:
      return new FwdError('RELAY_FAILED', `websocket handshake with ${where} failed: ${errorMessage(err)}`, {
        cause: err,
      });
  }
}

function socketReason(err: unknown): string {
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return 'the proxy refused the connection (is it running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'cannot resolve the proxy host';
  return code ?? errorMessage(err);
}

/** An HTTP answer instead of a websocket upgrade. `body` is the start of the relay's explanation. */
export function responseError(status: number, body: string, where: string, token: boolean): FwdError {
  const said = sanitize(body);
  const detail = said ? `: ${said}` : '';
  switch (status) {
    case 401:
      return new FwdError(
        'RELAY_UNAUTHORIZED',
        token
          ? `${where} refused the token (401); check the relay token configured for this host`
          : `${where} requires a token (401); set \`token\` for this transport`,
      );
    case 403:
      return new FwdError('RELAY_TARGET_DENIED', `${where} refused the target (403)${detail}`);
    case 407:
      return new FwdError(
        'PROXY_FAILED',
        `a proxy in front of ${where} requires authentication (407); put credentials in HTTPS_PROXY (http://user:pass@proxy:port)`,
      );
    case 502:
    case 504:
      return new FwdError('RELAY_FAILED', `${where} cannot reach the SSH host (${status})${detail}`);
    case 503:
      return new FwdError('RELAY_FAILED', `${where} is unavailable (503)${detail}`);
    default:
      if (status >= 300 && status < 400) {
        return new FwdError('RELAY_FAILED', `${where} redirects (${status}); use the final URL of the relay`);
      }
      return new FwdError(
        'RELAY_FAILED',
        `${where} answered HTTP ${status} instead of a websocket upgrade${detail}; is this the relay's websocket URL?`,
      );
  }
}

/** The proxy itself answered the CONNECT with something other than 200. */
export function proxyRefusedError(status: number, via: string, where: string): FwdError {
  const hint =
    status === 407
      ? '; put credentials in HTTPS_PROXY (http://user:pass@proxy:port)'
      : '; check NO_PROXY or the proxy';
  return new FwdError('PROXY_FAILED', `proxy ${via} refused to connect to ${where} (${status})${hint}`);
}

/** An open websocket that closed abnormally (anything but 1000/1005). */
export function closedError(code: number, reason: string, where: string, cause: Error | undefined): FwdError {
  const said = sanitize(reason);
  const options = cause ? { cause } : {};
  switch (code) {
    case 1006:
      return new FwdError(
        'TRANSPORT_CLOSED',
        `connection to ${where} was lost without a close: the relay stopped or the network dropped`,
        options,
      );
    case 1001:
      return new FwdError('TRANSPORT_CLOSED', `${where} is going away${said ? `: ${said}` : ''}`, options);
    case 1002:
    case 1003:
    case 1007:
    case 1009:
      return new FwdError(
        'PROTOCOL_ERROR',
        `${where} closed the tunnel (${code})${said ? `: ${said}` : ''}`,
        options,
      );
    default:
      return new FwdError(
        'TRANSPORT_CLOSED',
        `${where} closed the tunnel (${code})${said ? `: ${said}` : ''}`,
        options,
      );
  }
}

/** Printable, single-line, short: what a remote server said is data, not markup. */
function sanitize(text: string): string {
  return text
    .replace(/\p{Cc}+/gu, ' ')
    .trim()
    .slice(0, 200);
}
