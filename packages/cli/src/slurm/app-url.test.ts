import type { ForwardSpec, ForwardStatus } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { findTokenUrl, listenFor, pointUrlAt } from './app-url.js';

// What jupyter lab 4 prints a few seconds after it starts (token shortened).
const JUPYTER_LOG = `[I 2024-05-01 10:00:01.123 ServerApp] jupyter_lsp | extension was successfully loaded.
[I 2024-05-01 10:00:01.456 ServerApp] Serving notebooks from local directory: /home/alice
[I 2024-05-01 10:00:01.456 ServerApp] Jupyter Server 2.14.0 is running at:
[I 2024-05-01 10:00:01.456 ServerApp] http://node1:8888/lab?token=9f1c2e
[I 2024-05-01 10:00:01.456 ServerApp]     http://127.0.0.1:8888/lab?token=9f1c2e
[C 2024-05-01 10:00:01.460 ServerApp]
    To access the server, open this file in a browser:
        file:///home/alice/.local/share/jupyter/runtime/jpserver-4242-open.html
    Or copy and paste one of these URLs:
        http://node1:8888/lab?token=9f1c2e
`;

describe('findTokenUrl', () => {
  it("finds Jupyter's first ?token= URL and nothing in text without one", () => {
    expect(findTokenUrl(JUPYTER_LOG)).toBe('http://node1:8888/lab?token=9f1c2e');
    expect(findTokenUrl('started on http://node1:8888/ (no token)\n')).toBeUndefined();
    expect(findTokenUrl('')).toBeUndefined();
  });

  it('skips URLs without a token and drops trailing punctuation', () => {
    expect(findTokenUrl('see http://docs.example/x, then (https://n:9/tree?a=1&token=t1).')).toBe(
      'https://n:9/tree?a=1&token=t1',
    );
  });
});

describe('pointUrlAt', () => {
  it('keeps path and query, swaps host and port', () => {
    expect(pointUrlAt('http://node1:8888/lab?token=abc123', '127.0.0.1:45123')).toBe(
      'http://127.0.0.1:45123/lab?token=abc123',
    );
    expect(pointUrlAt('http://node1:8888/?token=a#x', '[::1]:9000')).toBe('http://[::1]:9000/?token=a#x');
    expect(pointUrlAt('http://node1/lab?token=a', '0.0.0.0:8888')).toBe('http://localhost:8888/lab?token=a');
  });

  it('turns the http+unix URL of jupyter lab --sock into an http one', () => {
    const printed = '[I ServerApp] http+unix://%2Fhome%2Falice%2F.jupyter%2Fnb-7.sock/lab?token=abc\n';
    const url = findTokenUrl(printed) ?? '';
    expect(url).toBe('http+unix://%2Fhome%2Falice%2F.jupyter%2Fnb-7.sock/lab?token=abc');
    expect(pointUrlAt(url, '127.0.0.1:8889')).toBe('http://127.0.0.1:8889/lab?token=abc');
  });
});

describe('listenFor', () => {
  const forwards: ForwardSpec[] = [
    { kind: 'local', bind: { port: 0 }, target: { host: 'node1', port: 6006 } },
    { kind: 'local', bind: { port: 0 }, target: { host: 'node1', port: 8888 } },
    { kind: 'local', bind: { path: '/tmp/x.sock' }, target: { host: 'node1', port: 9999 } },
  ];
  const statuses: ForwardStatus[] = [
    { kind: 'local', listen: '127.0.0.1:40001', target: 'node1:6006' },
    { kind: 'local', listen: '127.0.0.1:40002', target: 'node1:8888' },
    { kind: 'local', listen: '/tmp/x.sock', target: 'node1:9999' },
  ];
  it("picks the forward to the URL's port, else the first TCP listener", () => {
    expect(listenFor('http://node1:8888/lab?token=a', forwards, statuses)).toBe('127.0.0.1:40002');
    expect(listenFor('http://node1:7777/lab?token=a', forwards, statuses)).toBe('127.0.0.1:40001');
    expect(listenFor('http://node1:9999/?token=a', forwards.slice(2), statuses.slice(2))).toBeUndefined();
    const socket: ForwardSpec = {
      kind: 'local',
      bind: { port: 0 },
      target: { path: '/home/alice/nb-7.sock' },
    };
    const socketStatus: ForwardStatus = {
      kind: 'local',
      listen: '127.0.0.1:40009',
      target: '/home/alice/nb-7.sock',
    };
    expect(
      listenFor(
        'http+unix://%2Fhome%2Falice%2Fnb-7.sock/lab?token=a',
        [...forwards, socket],
        [...statuses, socketStatus],
      ),
    ).toBe('127.0.0.1:40009');
  });
});
