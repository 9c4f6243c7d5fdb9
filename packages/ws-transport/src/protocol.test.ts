import { describe, expect, it } from 'vitest';
import {
  bearerSubprotocol,
  sameHostPort,
  tokenFromAuthorization,
  tokenFromSubprotocols,
} from './protocol.js';

describe('relay wire protocol', () => {
  it('round-trips a token through a subprotocol made only of token characters', () => {
    const token = 'tök€n/with+odd=chars and spaces';
    const protocol = bearerSubprotocol(token);
    expect(protocol).toMatch(/^bearer\.[A-Za-z0-9_-]+$/);
    expect(tokenFromSubprotocols(['fwd.v1', protocol])).toBe(token);
    expect(tokenFromSubprotocols(['fwd.v1', 'binary'])).toBeUndefined();
  });

  it('reads Bearer tokens case-insensitively and nothing else', () => {
    expect(tokenFromAuthorization('Bearer abc')).toBe('abc');
    expect(tokenFromAuthorization('bearer   abc  ')).toBe('abc');
    expect(tokenFromAuthorization('Basic abc')).toBeUndefined();
    expect(tokenFromAuthorization('Bearer')).toBeUndefined();
    expect(tokenFromAuthorization(undefined)).toBeUndefined();
  });

  it('compares targets by name and port, case-insensitively, without resolving', () => {
    expect(sameHostPort({ host: 'Login', port: 22 }, { host: 'login', port: 22 })).toBe(true);
    expect(sameHostPort({ host: 'login', port: 22 }, { host: 'login', port: 23 })).toBe(false);
    expect(sameHostPort({ host: 'localhost', port: 22 }, { host: '127.0.0.1', port: 22 })).toBe(false);
  });
});
