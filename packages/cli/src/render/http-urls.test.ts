import type { TunnelStatus } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { tunnelStatus } from '../../../../test/support/tunnel-status.js';
import { type ForwardFlag, type ParsedForward, type Plan, parseForward } from '../config/index.js';
import { httpUrls, openUrl, urlOf } from './http-urls.js';

const forward = (flag: ForwardFlag, spec: string): ParsedForward => {
  const parsed = parseForward(flag, spec);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

const status = (name: string, listens: string[]): TunnelStatus =>
  tunnelStatus({ name, forwards: listens.map((listen) => ({ kind: 'local', listen, target: 'x' })) });

describe('openUrl', () => {
  it('turns a listen address into the URL to open on this machine', () => {
    expect(openUrl('127.0.0.1:8888')).toBe('http://127.0.0.1:8888/');
    expect(openUrl('0.0.0.0:8080')).toBe('http://127.0.0.1:8080/');
    expect(openUrl('[::1]:6006')).toBe('http://[::1]:6006/');
    expect(openUrl('[::]:6006')).toBe('http://[::1]:6006/');
    expect(openUrl('127.0.0.1:80')).toBe('http://127.0.0.1/');
    expect(openUrl('127.0.0.1:8443', 'https')).toBe('https://127.0.0.1:8443/');
    expect(openUrl('127.0.0.1:0')).toBeUndefined();
    expect(openUrl('/tmp/nb.sock')).toBeUndefined();
  });
});

describe('httpUrls', () => {
  const plan: Plan = {
    hosts: [],
    tunnels: [
      {
        name: 'nb',
        host: 'cluster',
        forwards: [forward('local', '0:localhost:8888'), forward('local', '0:localhost:7001')],
      },
      {
        name: 'app',
        host: 'cluster',
        forwards: [forward('local', '0:localhost:7001')],
        ready: { kind: 'http', path: '/api' },
      },
      { name: 'tls', host: 'cluster', forwards: [forward('local', '8443:localhost:443')] },
      { name: 'db', host: 'cluster', forwards: [forward('local', '5432:localhost:5432')] },
    ],
  };
  const decorate = httpUrls(plan);

  it('adds the URL to web-app forwards only: well-known target ports, or a ready http check', () => {
    const nb = decorate(status('nb', ['127.0.0.1:40001', '127.0.0.1:40002']));
    expect(nb.forwards.map(urlOf)).toEqual(['http://127.0.0.1:40001/', undefined]);
    expect(decorate(status('app', ['127.0.0.1:40003'])).forwards.map(urlOf)).toEqual([
      'http://127.0.0.1:40003/',
    ]);
    expect(decorate(status('tls', ['127.0.0.1:8443'])).forwards.map(urlOf)).toEqual([
      'https://127.0.0.1:8443/',
    ]);
    const db = status('db', ['127.0.0.1:5432']);
    expect(decorate(db)).toBe(db);
  });

  it('serializes the URL with the forward, as NDJSON and fwd ps --json carry it', () => {
    const json = JSON.parse(JSON.stringify(decorate(status('nb', ['127.0.0.1:40001', '127.0.0.1:40002']))));
    expect(json.forwards[0]).toEqual({
      kind: 'local',
      listen: '127.0.0.1:40001',
      target: 'x',
      url: 'http://127.0.0.1:40001/',
    });
    expect(json.forwards[1].url).toBeUndefined();
  });
});
