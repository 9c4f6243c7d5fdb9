import { describe, expect, it } from 'vitest';
import { parseListenAddress } from './metrics-server.js';

describe('parseListenAddress', () => {
  it('defaults to loopback and accepts explicit hosts, IPv6 in brackets', () => {
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parseListenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseListenAddress('x:99999')).toBeUndefined();
    expect(parseListenAddress('nope')).toBeUndefined();
  });
});
