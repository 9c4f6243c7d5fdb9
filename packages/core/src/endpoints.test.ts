import { describe, expect, it } from 'vitest';
import {
  formatEndpoint,
  isWildcardHost,
  parseHostPort,
  parseListenAddress,
  withDefaultHost,
} from './endpoints.js';

describe('endpoints', () => {
  it('formats TCP (IPv6 bracketed, default host filled) and socket paths', () => {
    expect(formatEndpoint({ host: 'localhost', port: 8888 })).toBe('localhost:8888');
    expect(formatEndpoint({ host: '::1', port: 22 })).toBe('[::1]:22');
    expect(formatEndpoint({ port: 1080 })).toBe('127.0.0.1:1080');
    expect(formatEndpoint({ port: 1080 }, 'localhost')).toBe('localhost:1080');
    expect(formatEndpoint({ path: '/run/app.sock' })).toBe('/run/app.sock');
  });

  it('parses targets: host:port, [v6]:port, a bare host only with a default port', () => {
    expect(parseHostPort('login:22')).toEqual({ host: 'login', port: 22 });
    expect(parseHostPort(' [::1]:2222 ')).toEqual({ host: '::1', port: 2222 });
    expect(parseHostPort('login')).toBeUndefined();
    expect(parseHostPort('login', 22)).toEqual({ host: 'login', port: 22 });
    for (const bad of ['login:0', 'login:65536', '::1:22', ':22', '22', 'a b:22', ''])
      expect(parseHostPort(bad), bad).toBeUndefined();
  });

  it('parses listen addresses: a bare port is loopback, :port every interface', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress(':8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListenAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseListenAddress('localhost')).toBeUndefined();
    expect(parseListenAddress('x:99999')).toBeUndefined();
    expect(parseListenAddress('nope:')).toBeUndefined();
  });

  it('fills the default bind host only where none is given', () => {
    expect(withDefaultHost({ port: 1 })).toEqual({ host: '127.0.0.1', port: 1 });
    expect(withDefaultHost({ host: '::1', port: 1 })).toEqual({ host: '::1', port: 1 });
    expect(withDefaultHost({ path: '/s' })).toEqual({ path: '/s' });
    expect(['0.0.0.0', '::', '*', ''].every(isWildcardHost)).toBe(true);
    expect(isWildcardHost('127.0.0.1')).toBe(false);
  });
});
