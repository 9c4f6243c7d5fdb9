import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './endpoints.js';

describe('isLoopbackHost', () => {
  it('knows loopback names and addresses, with or without brackets', () => {
    for (const host of [
      'localhost',
      'LOCALHOST',
      'app.localhost',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
  });

  it('counts every other host as reachable from the network, without resolving it', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '[::]',
      '10.0.0.1',
      'relay.example',
      'localhost.example',
      '128.0.0.1',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});
