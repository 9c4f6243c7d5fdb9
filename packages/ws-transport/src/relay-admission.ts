import type { IncomingHttpHeaders } from 'node:http';
import { FwdError, formatEndpoint, parseHostPort, type TcpAddress } from '@fwd/core';
import { sameHostPort, TARGET_PARAM } from './protocol.js';
import { presentedToken, type TokenVerifier } from './relay-auth.js';

/** What admission looks at of an upgrade request: plain data, so it is tested without sockets. */
export interface AdmissionRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** Who may reach what. Capacity is not here: the relay counts connections when it accepts them. */
export interface AdmissionPolicy {
  readonly tokens: TokenVerifier;
  /** The only SSH hosts clients may reach; names lower-cased, compared literally, never resolved. */
  readonly allow: readonly TcpAddress[];
  /** Where a request without `?target=` goes; always allowed. */
  readonly defaultTarget: TcpAddress;
}

/** An HTTP answer instead of an upgrade; `reason` is the body and the log's reason, never a token. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Admission = { readonly target: TcpAddress } | { readonly refusal: Refusal };

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * The policy for an allowlist: targets lower-cased, the default target the first entry unless
 * given. Throws CONFIG_INVALID for an empty allowlist.
 */
export function admissionPolicy(
  tokens: TokenVerifier,
  allow: readonly TcpAddress[],
  defaultTarget?: TcpAddress,
): AdmissionPolicy {
  const lowered = allow.map((t) => ({ host: t.host.toLowerCase(), port: t.port }));
  const fallback = defaultTarget ?? lowered[0];
  if (!fallback) throw new FwdError('CONFIG_INVALID', 'the relay needs at least one allowed target');
  return { tokens, allow: lowered, defaultTarget: fallback };
}

/**
 * Decides an upgrade request before the relay touches any SSH host: a well-formed websocket
 * handshake (else 400), a valid token (401), a target on the allowlist (403, or 400 when it is
 * not host:port). Checked in that order, so an unauthenticated client learns nothing about targets.
 *
 * @example
 * const decision = admit({ method: 'GET', url: '/ssh?target=login:22', headers }, policy);
 * if ('refusal' in decision) reply(decision.refusal.status); else connectTo(decision.target);
 */
export function admit(request: AdmissionRequest, policy: AdmissionPolicy): Admission {
  if (!isWebsocketHandshake(request)) return refuse(400, 'not a valid websocket handshake');
  if (!policy.tokens.verify(presentedToken(request.headers))) {
    return refuse(401, 'missing or invalid relay token', { 'WWW-Authenticate': 'Bearer realm="fwd-relay"' });
  }
  const asked = targetParam(request.url);
  if (asked === undefined) return refuse(400, 'malformed request URL');
  if (asked === null) return { target: policy.defaultTarget };
  const target = parseHostPort(asked);
  if (!target) return refuse(400, `target must be host:port, got ${JSON.stringify(asked.slice(0, 100))}`);
  // The allowlist's spelling of the target is the one the relay connects to.
  const allowed = [policy.defaultTarget, ...policy.allow].find((a) => sameHostPort(a, target));
  if (!allowed) return refuse(403, `target ${formatEndpoint(target)} is not allowed by this relay`);
  return { target: allowed };
}

function refuse(status: number, reason: string, headers?: Record<string, string>): Admission {
  return { refusal: headers ? { status, reason, headers } : { status, reason } };
}

function isWebsocketHandshake(request: AdmissionRequest): boolean {
  const { headers } = request;
  const version = headers['sec-websocket-version'];
  return (
    request.method === 'GET' &&
    headers.upgrade?.toLowerCase() === 'websocket' &&
    WEBSOCKET_KEY.test(headers['sec-websocket-key'] ?? '') &&
    (version === '13' || version === '8')
  );
}

/** The `?target=` of a request URL: null when absent, undefined when the URL cannot be parsed. */
function targetParam(url: string | undefined): string | null | undefined {
  try {
    return new URL(url ?? '/', 'http://relay').searchParams.get(TARGET_PARAM);
  } catch {
    return undefined;
  }
}
