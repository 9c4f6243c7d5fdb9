import { describe, expect, it } from 'vitest';
import {
  bearerSubprotocol,
  formatHostPort,
  parseHostPort,
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

  it('parses and formats host:port, IPv6 in brackets', () => {
    expect(parseHostPort('login:22')).toEqual({ host: 'login', port: 22 });
    expect(parseHostPort('LOGIN.Example.edu:2222')).toEqual({ host: 'login.example.edu', port: 2222 });
    expect(parseHostPort('[::1]:22')).toEqual({ host: '::1', port: 22 });
    expect(parseHostPort('login', 22)).toEqual({ host: 'login', port: 22 });
    for (const bad of ['login', 'login:0', 'login:65536', ':22', '::1:22', 'a b:22', 'login:22:33', '']) {
      expect(parseHostPort(bad), bad).toBeUndefined();
    }
    expect(formatHostPort({ host: '::1', port: 22 })).toBe('[::1]:22');
    expect(formatHostPort({ host: 'login', port: 22 })).toBe('login:22');
  });

  it('compares targets by name and port, case-insensitively, without resolving', () => {
    expect(sameHostPort({ host: 'Login', port: 22 }, { host: 'login', port: 22 })).toBe(true);
    expect(sameHostPort({ host: 'login', port: 22 }, { host: 'login', port: 23 })).toBe(false);
    expect(sameHostPort({ host: 'localhost', port: 22 }, { host: '127.0.0.1', port: 22 })).toBe(false);
  });
});
