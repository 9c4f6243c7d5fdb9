import { describe, expect, it } from 'vitest';
import { type ForwardFlag, parseForward } from './forward-spec.js';

type Row = [flag: ForwardFlag, spec: string | number, expected: object];

const ok: Row[] = [
  // -L [bind_address:]port:host:hostport
  [
    'local',
    '8888:localhost:8888',
    { kind: 'local', bind: { port: 8888 }, target: { host: 'localhost', port: 8888 } },
  ],
  [
    'local',
    '127.0.0.1:8888:db:5432',
    { bind: { host: '127.0.0.1', port: 8888 }, target: { host: 'db', port: 5432 } },
  ],
  ['local', '*:8080:web:80', { bind: { host: '*', port: 8080 }, target: { host: 'web', port: 80 } }],
  ['local', '0.0.0.0:8080:web:80', { bind: { host: '0.0.0.0', port: 8080 } }],
  ['local', ':8080:web:80', { bind: { port: 8080 }, target: { host: 'web', port: 80 } }],
  ['local', '0:localhost:80', { bind: { port: 0 } }],
  [
    'local',
    '[::1]:8080:[fe80::1]:80',
    { bind: { host: '::1', port: 8080 }, target: { host: 'fe80::1', port: 80 } },
  ],
  ['local', '8080:[2001:db8::1]:443', { bind: { port: 8080 }, target: { host: '2001:db8::1', port: 443 } }],
  // [bind_address:]port:remote_socket
  [
    'local',
    '8889:/home/alice/.jupyter/nb.sock',
    { bind: { port: 8889 }, target: { path: '/home/alice/.jupyter/nb.sock' } },
  ],
  [
    'local',
    'localhost:8889:/run/nb.sock',
    { bind: { host: 'localhost', port: 8889 }, target: { path: '/run/nb.sock' } },
  ],
  // local_socket:host:hostport and local_socket:remote_socket
  ['local', '/tmp/l.sock:db:5432', { bind: { path: '/tmp/l.sock' }, target: { host: 'db', port: 5432 } }],
  ['local', '/tmp/l.sock:/run/r.sock', { bind: { path: '/tmp/l.sock' }, target: { path: '/run/r.sock' } }],
  // placeholders are plain text
  ['local', '8888:{node}:8888', { target: { host: '{node}', port: 8888 } }],
  ['local', '8889:/home/{user}/nb-{job}.sock', { target: { path: '/home/{user}/nb-{job}.sock' } }],
  // backslash escapes a colon, as in OpenSSH
  ['local', '8080:/tmp/a\\:b.sock', { target: { path: '/tmp/a:b.sock' } }],
  [
    'local',
    '  8888:localhost:8888 ',
    { bind: { port: 8888 }, target: { host: 'localhost', port: 8888 }, spec: '8888:localhost:8888' },
  ],
  // -R
  [
    'remote',
    '0:localhost:3000',
    { kind: 'remote', bind: { port: 0 }, target: { host: 'localhost', port: 3000 } },
  ],
  ['remote', '*:9000:localhost:3000', { kind: 'remote', bind: { host: '*', port: 9000 } }],
  [
    'remote',
    '9000:/run/app.sock',
    { kind: 'remote', bind: { port: 9000 }, target: { path: '/run/app.sock' } },
  ],
  ['remote', '/tmp/r.sock:localhost:3000', { kind: 'remote', bind: { path: '/tmp/r.sock' } }],
  [
    'remote',
    '/tmp/r.sock:/tmp/l.sock',
    { kind: 'remote', bind: { path: '/tmp/r.sock' }, target: { path: '/tmp/l.sock' } },
  ],
  ['remote', '1080', { kind: 'remote-dynamic', bind: { port: 1080 } }],
  ['remote', 'localhost:1080', { kind: 'remote-dynamic', bind: { host: 'localhost', port: 1080 } }],
  // -D
  ['dynamic', 1080, { kind: 'dynamic', bind: { port: 1080 }, spec: '1080' }],
  ['dynamic', '1080', { kind: 'dynamic', bind: { port: 1080 } }],
  ['dynamic', '127.0.0.1:1080', { kind: 'dynamic', bind: { host: '127.0.0.1', port: 1080 } }],
  ['dynamic', '[::1]:1080', { kind: 'dynamic', bind: { host: '::1', port: 1080 } }],
  ['dynamic', '0', { kind: 'dynamic', bind: { port: 0 } }],
];

const bad: [ForwardFlag, string, string][] = [
  ['local', '88x8:localhost:8888', 'port must be a number 0-65535'],
  ['local', '65536:localhost:80', 'port must be a number 0-65535'],
  ['local', '-1:localhost:80', 'port must be a number 0-65535'],
  ['local', '8080:localhost:0', 'target port must be a number 1-65535'],
  ['local', '8080:localhost:http', 'target port must be a number 1-65535'],
  ['local', '8080:localhost:', 'target port must be a number 1-65535'],
  ['local', '8080::80', 'target host is empty'],
  ['local', '8080', 'one number alone is not a forward'],
  ['local', '8080:localhost', 'expected [bind_address:]port:host:hostport'],
  ['local', 'a:b:c:d:e', 'expected [bind_address:]port:host:hostport'],
  ['local', '[::1:8080:h:80', 'unbalanced'],
  ['local', '[::1]x:8080:h:80', 'unbalanced'],
  ['local', '8080:h:80\\', 'trailing'],
  ['local', '', 'forward is empty'],
  ['remote', '9000:localhost:99999', 'target port must be a number 1-65535'],
  ['remote', 'x:y:z', 'port must be a number 0-65535'],
  ['dynamic', '/tmp/socks.sock', 'not a socket path'],
  ['dynamic', 'a:b:c', 'expected [bind_address:]port'],
  ['dynamic', 'localhost:http', 'port must be a number 0-65535'],
];

describe('parseForward', () => {
  it.each(ok)('%s %j', (flag, spec, expected) => {
    const result = parseForward(flag, spec);
    expect(result).toMatchObject({ ok: true, value: expected });
  });

  it.each(bad)('%s %j is rejected: %s', (flag, spec, message) => {
    const result = parseForward(flag, spec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(message);
  });

  it('leaves the bind host unset when the spec names none (the loader applies defaults.bind)', () => {
    const result = parseForward('local', '8888:localhost:8888');
    expect(result.ok && 'port' in result.value.bind && 'host' in result.value.bind).toBe(false);
  });

  it('keeps the exact target text, including placeholders, for Slurm to fill later', () => {
    const result = parseForward('local', '6006:{node}:6006');
    expect(result).toEqual({
      ok: true,
      value: {
        kind: 'local',
        bind: { port: 6006 },
        target: { host: '{node}', port: 6006 },
        spec: '6006:{node}:6006',
      },
    });
  });
});
