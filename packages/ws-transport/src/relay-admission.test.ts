import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { bearerSubprotocol } from './protocol.js';
import { type AdmissionRequest, admissionPolicy, admit } from './relay-admission.js';
import { tokenVerifier } from './relay-auth.js';

const TOKEN = 'admission-token-0123456789';
const policy = admissionPolicy(tokenVerifier([TOKEN]), [
  { host: 'Login', port: 22 },
  { host: '::1', port: 2222 },
]);

function upgrade(url: string, headers: IncomingHttpHeaders = {}): AdmissionRequest {
  return {
    method: 'GET',
    url,
    headers: {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      authorization: `Bearer ${TOKEN}`,
      ...headers,
    },
  };
}

function status(request: AdmissionRequest): number | string {
  const decision = admit(request, policy);
  return 'refusal' in decision ? decision.refusal.status : `${decision.target.host}:${decision.target.port}`;
}

describe('relay admission', () => {
  it('sends a request without ?target= to the first allowed host, and others where they ask', () => {
    expect(admit(upgrade('/ssh'), policy)).toEqual({ target: { host: 'login', port: 22 } });
    expect(status(upgrade('/ssh?target=LOGIN:22'))).toBe('login:22');
    expect(status(upgrade('/ssh?target=%5B%3A%3A1%5D%3A2222'))).toBe('::1:2222');
  });

  it('refuses what is not a websocket handshake with 400, before looking at the token', () => {
    const noToken = { authorization: undefined };
    expect(status({ ...upgrade('/ssh', noToken), method: 'POST' })).toBe(400);
    expect(status(upgrade('/ssh', { ...noToken, upgrade: 'h2c' }))).toBe(400);
    expect(status(upgrade('/ssh', { ...noToken, 'sec-websocket-key': 'short' }))).toBe(400);
    expect(status(upgrade('/ssh', { ...noToken, 'sec-websocket-version': '12' }))).toBe(400);
    expect(status(upgrade('/ssh', { 'sec-websocket-version': '8' }))).toBe('login:22');
  });

  it('refuses a missing, wrong or non-Bearer token with 401 and a Bearer challenge, before any target check', () => {
    const missing = admit(upgrade('/ssh?target=elsewhere:22', { authorization: undefined }), policy);
    expect(missing).toEqual({
      refusal: {
        status: 401,
        reason: 'missing or invalid relay token',
        headers: { 'WWW-Authenticate': 'Bearer realm="fwd-relay"' },
      },
    });
    expect(status(upgrade('/ssh', { authorization: `Bearer ${TOKEN}x` }))).toBe(401);
    expect(status(upgrade('/ssh', { authorization: `Basic ${TOKEN}` }))).toBe(401);
    const viaSubprotocol = {
      authorization: undefined,
      'sec-websocket-protocol': `fwd.v1, ${bearerSubprotocol(TOKEN)}`,
    };
    expect(status(upgrade('/ssh', viaSubprotocol))).toBe('login:22');
  });

  it('refuses targets off the allowlist with 403 and malformed ones with 400, quoting at most 100 characters', () => {
    expect(admit(upgrade('/ssh?target=login:2222'), policy)).toEqual({
      refusal: { status: 403, reason: 'target login:2222 is not allowed by this relay' },
    });
    // Names are compared literally: another name for the same machine is another target.
    expect(status(upgrade('/ssh?target=127.0.0.1:22'))).toBe(403);
    expect(status(upgrade('/ssh?target=nonsense'))).toBe(400);
    const long = admit(upgrade(`/ssh?target=${'x'.repeat(500)}`), policy);
    expect('refusal' in long && long.refusal.reason.length).toBeLessThan(150);
    expect(admit(upgrade('http://[/ssh'), policy)).toEqual({
      refusal: { status: 400, reason: 'malformed request URL' },
    });
  });

  it('never quotes the token in a refusal', () => {
    const requests = [
      upgrade('/ssh?target=elsewhere:22', { authorization: `Bearer ${TOKEN}-wrong` }),
      upgrade('/ssh', { authorization: `Bearer ${TOKEN}-wrong` }),
      { ...upgrade('/ssh'), method: 'PUT' },
    ];
    for (const request of requests) expect(JSON.stringify(admit(request, policy))).not.toContain(TOKEN);
  });

  it('needs at least one allowed target, and always allows an explicit default target', () => {
    expect(() => admissionPolicy(tokenVerifier([TOKEN]), [])).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    const withDefault = admissionPolicy(tokenVerifier([TOKEN]), [], { host: 'gate', port: 22 });
    expect(admit(upgrade('/ssh?target=gate:22'), withDefault)).toEqual({
      target: { host: 'gate', port: 22 },
    });
  });
});
