// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about literal ${VAR} text
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { formatProblem } from './problems.js';

const env = { FWD_RELAY_TOKEN: 'tok-SECRET-123', SSH_PORT: '2222' };

/** Loads YAML and returns the formatted problems, one string each. */
function problems(text: string, options: Parameters<typeof loadConfig>[3] = {}): string[] {
  return loadConfig(text, 'tunnels.yaml', env, options).problems.map(formatProblem);
}

const designExample = `version: 1
defaults:
  keepalive: 15s
  reconnect: { initial: 250ms, max: 30s }
  hostKeys: strict
  bind: 127.0.0.1

hosts:
  cluster:
    host: login.hpc.example.edu
    user: alice
    port: 22
    identityFile: ~/.ssh/id_ed25519
    jump: bastion
  bastion:
    host: bastion.example.edu
  behind-firewall:
    host: 10.1.2.3
    transport:
      type: websocket
      url: wss://relay.example.edu/ssh
      token: \${FWD_RELAY_TOKEN}

tunnels:
  notebook:
    host: cluster
    local: 8888:localhost:8888
  private-notebook:
    host: cluster
    local: 8889:/home/alice/.jupyter/nb.sock
  share-dev-server:
    host: cluster
    remote: 0:localhost:3000
  socks:
    host: cluster
    dynamic: 1080
  job-notebook:
    host: cluster
    slurm:
      job: 4242
      timeout: 10m
    local: [7888:{node}:8888, 6006:{node}:6006]
    ready: { http: /api }
`;

describe('loadConfig: valid files', () => {
  it('loads the design example into a normalised config', () => {
    const { config, problems } = loadConfig(designExample, 'tunnels.yaml', env);
    expect(problems).toEqual([]);
    expect(config?.defaults).toEqual({
      keepaliveMs: 15_000,
      reconnect: { initialMs: 250, maxMs: 30_000 },
      hostKeys: 'strict',
      bind: '127.0.0.1',
    });
    expect(config?.hosts.map((h) => h.name)).toEqual(['cluster', 'bastion', 'behind-firewall']);
    expect(config?.hosts[0]).toMatchObject({
      identityFiles: ['~/.ssh/id_ed25519'],
      jump: ['bastion'],
      port: 22,
    });
    expect(config?.hosts[2]?.transport).toEqual({
      type: 'websocket',
      url: 'wss://relay.example.edu/ssh',
      token: 'tok-SECRET-123',
    });
    const job = config?.tunnels.find((t) => t.name === 'job-notebook');
    expect(job).toMatchObject({
      host: 'cluster',
      slurm: { mode: 'job', job: '4242', timeoutMs: 600_000 },
      ready: { kind: 'http', path: '/api' },
      position: { line: 37, col: 3 },
    });
    expect(job?.forwards[0]).toMatchObject({
      bind: { host: '127.0.0.1', port: 7888 },
      target: { host: '{node}', port: 8888 },
    });
    const socks = config?.tunnels.find((t) => t.name === 'socks');
    expect(socks?.forwards).toEqual([
      { kind: 'dynamic', bind: { host: '127.0.0.1', port: 1080 }, spec: '1080' },
    ]);
  });

  it('applies defaults when the file has none, and an explicit bind address stays explicit', () => {
    const { config } = loadConfig(
      'version: 1\ntunnels:\n  a:\n    host: h\n    local: ["*:8080:x:80", 8081:x:80]\n    remote: 9000:localhost:3000\n',
      'f.yaml',
      {},
      { knownSshHosts: (n) => n === 'h' },
    );
    expect(config?.defaults).toEqual({
      reconnect: { initialMs: 250, maxMs: 30_000 },
      bind: '127.0.0.1',
    });
    expect(config?.tunnels[0]?.forwards.map((f) => f.bind)).toEqual([
      { host: '*', port: 8080 },
      { host: '127.0.0.1', port: 8081 },
      { port: 9000 }, // -R binds are the server's business
    ]);
  });

  it('honours defaults.bind', () => {
    const { config } = loadConfig(
      'version: 1\ndefaults: { bind: 0.0.0.0 }\ntunnels:\n  a: { host: h, dynamic: 1080 }\n',
      'f.yaml',
      {},
      { knownSshHosts: () => true },
    );
    expect(config?.tunnels[0]?.forwards[0]?.bind).toEqual({ host: '0.0.0.0', port: 1080 });
  });

  it('reads hold: per tunnel over defaults.hold, and refuses one longer than 10 minutes', () => {
    const { config } = loadConfig(
      'version: 1\ndefaults: { hold: 2m }\ntunnels:\n  a: { host: h, dynamic: 1080, hold: 45s }\n  b: { host: h, dynamic: 1081 }\n',
      'f.yaml',
      {},
      { knownSshHosts: () => true },
    );
    expect(config?.tunnels.map((t) => t.holdMs)).toEqual([45_000, 120_000]);
    expect(
      problems('version: 1\ntunnels:\n  a: { host: h, dynamic: 1080, hold: 11m }\n', {
        knownSshHosts: () => true,
      }),
    ).toEqual([expect.stringMatching(/^tunnels\.yaml:3:\d+ +tunnels\.a\.hold: at most 10m/)]);
  });

  it('reads an interpolated number where a number is wanted, and keeps strings strings', () => {
    const text =
      'version: 1\nhosts:\n  c:\n    port: ${SSH_PORT}\n    user: "${SSH_PORT}"\ntunnels:\n  a: { host: c, dynamic: 1 }\n';
    const { config, problems } = loadConfig(text, 'f.yaml', env);
    expect(problems).toEqual([]);
    expect(config?.hosts[0]).toMatchObject({ port: 2222, user: '2222' });
  });

  it('accepts slurm submit, ready tcp, via and jump lists', () => {
    const text = `version: 1
hosts:
  a: { host: a.example, jump: "b,c" }
  b: {}
  c: { jump: [b] }
tunnels:
  t:
    host: a
    via: node
    slurm: { submit: { wrap: "jupyter lab", args: [--time=1:00:00], cancelOnExit: false }, timeout: 1h, warnBefore: [15m, 30s] }
    local: 8888:{node}:8888
    ready: { tcp: true }
    open: true
`;
    const { config, problems } = loadConfig(text, 'f.yaml', {});
    expect(problems).toEqual([]);
    expect(config?.hosts[0]?.jump).toEqual(['b', 'c']);
    expect(config?.tunnels[0]).toMatchObject({
      via: 'node',
      ready: { kind: 'tcp' },
      open: true,
      slurm: {
        mode: 'submit',
        run: { wrap: 'jupyter lab' },
        args: ['--time=1:00:00'],
        cancelOnExit: false,
        timeoutMs: 3_600_000,
        warnBeforeMs: [900_000, 30_000],
      },
    });
  });
});

describe('loadConfig: every problem at once, with line:col and key path', () => {
  it('reports a file full of mistakes in one go, in file order', () => {
    const text = `version: 1
defaults:
  keepalive: 15
  hostKeys: loose
hots: {}
hosts:
  cluster:
    host: login.example.edu
    jump: bastoin
  Bad:
    host: x
  ws:
    transport: { type: websock }
tunnels:
  notebook:
    host: cluster
    local: [8888:localhost:8888, 88x8:localhost:8888]
  nb2:
    hots: cluster
    local: 8888:localhost:9999
  socks:
    host: clustr
    dynamic: 1080
  empty:
    host: cluster
  job:
    host: cluster
    slurm: { job: 42, name: x }
    ready: {}
    local: 7000:{node}:8888
  port:
    host: cluster
    local: 8888
`;
    expect(problems(text)).toEqual([
      'tunnels.yaml:3:14  defaults.keepalive: expected a duration like 15s, 250ms, 10m, 1h or 1m30s',
      'tunnels.yaml:4:13  defaults.hostKeys: expected strict or accept-new',
      'tunnels.yaml:5:1  hots: unknown key "hots" (did you mean "hosts"?)',
      'tunnels.yaml:9:11  hosts.cluster.jump: unknown jump host "bastoin"; define it under hosts: or as a Host in ~/.ssh/config',
      'tunnels.yaml:10:3  hosts.Bad: invalid name "Bad": use lowercase letters, digits and -',
      'tunnels.yaml:13:24  hosts.ws.transport.type: expected tcp or websocket or command',
      'tunnels.yaml:17:34  tunnels.notebook.local[1]: bad forward "88x8:localhost:8888": port must be a number 0-65535',
      'tunnels.yaml:18:3  tunnels.nb2: missing required key "host"',
      'tunnels.yaml:19:5  tunnels.nb2.hots: unknown key "hots" (did you mean "host"?)',
      'tunnels.yaml:20:12  tunnels.nb2.local: local address 127.0.0.1:8888 is already used by tunnels.notebook.local[0]',
      'tunnels.yaml:22:11  tunnels.socks.host: unknown host "clustr" (did you mean "cluster"?); define it under hosts: or as a Host in ~/.ssh/config',
      'tunnels.yaml:24:3  tunnels.empty: no forwards: add local:, remote: or dynamic:',
      'tunnels.yaml:28:12  tunnels.job.slurm: has both job and name; keep one',
      'tunnels.yaml:29:5  tunnels.job.ready: expected { http: /path } or { tcp: true }',
      'tunnels.yaml:33:12  tunnels.port.local: expected an OpenSSH -L forward like 8888:localhost:8888, or a list of them',
    ]);
  });

  it('reports YAML syntax errors by position, once per line, without quoting the source', () => {
    const text = 'version: 1\ntunnels:\n  a: [tok-SECRET-123, x\n  b: 2\n';
    const found = problems(text);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toMatch(/^tunnels\.yaml:\d+:\d+ {2}YAML syntax: /);
    expect(new Set(found.map((p) => p.split(':')[1])).size).toBe(found.length);
    expect(found.join('\n')).not.toContain('SECRET');
    expect(problems('version: 1\ntunnels:\n  a: "unclosed\n')).toEqual([
      'tunnels.yaml:4:1  YAML syntax: a quoted string is not closed',
    ]);
  });

  it('accepts {node} and ${VAR} unquoted inside [ ], as the design example writes them', () => {
    const text =
      'version: 1\ntunnels:\n  a:\n    host: h\n    slurm: { job: 1 }\n    local: [8888:{node}:8888, ${P:-6006}:{node}:6006]\n';
    const { config, problems: found } = loadConfig(text, 'f.yaml', {}, { knownSshHosts: () => true });
    expect(found).toEqual([]);
    expect(config?.tunnels[0]?.forwards.map((f) => f.spec)).toEqual(['8888:{node}:8888', '6006:{node}:6006']);
  });

  it('reports a duplicate key', () => {
    expect(problems('version: 1\nversion: 1\ntunnels: {}\n')).toEqual([
      'tunnels.yaml:2:1  duplicate key (each key may appear once in a mapping)',
    ]);
  });

  it('reports an empty file and a file that is not a mapping', () => {
    expect(problems('')).toEqual(['tunnels.yaml:1:1  the file is empty; start with "version: 1"']);
    expect(problems('- a\n')).toEqual(['tunnels.yaml:1:1  expected a mapping, got a list']);
  });

  it('reports missing version and tunnels at the top, and a wrong version at its value', () => {
    expect(problems('hosts: {}\n')).toEqual([
      'tunnels.yaml:1:1  missing required key "version"',
      'tunnels.yaml:1:1  missing required key "tunnels"',
    ]);
    expect(problems('version: 2\ntunnels: {}\n')).toEqual([
      'tunnels.yaml:1:10  version: expected version: 1',
    ]);
  });

  it('names an unset variable with its key path and position, and never the token', () => {
    const text =
      'version: 1\nhosts:\n  r:\n    transport:\n      type: websocket\n      url: wss://${RELAY_HOST}/ssh\n      token: ${FWD_RELAY_TOKEN}\ntunnels:\n  a: { host: r, local: "1:x:1" }\n';
    const found = problems(text);
    expect(found).toEqual([
      'tunnels.yaml:6:12  hosts.r.transport.url: environment variable RELAY_HOST is not set (or write ${RELAY_HOST:-default})',
    ]);
  });

  it('never shows a token value in any message', () => {
    const text = `version: 1
hosts:
  r:
    transport: { type: websocket, url: "http://\${FWD_RELAY_TOKEN}", token: "\${FWD_RELAY_TOKEN}", tokn: "\${FWD_RELAY_TOKEN}", headers: { a: 1 } }
tunnels:
  a: { host: r, local: "1:x:1" }
`;
    const found = problems(text);
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.join('\n')).not.toContain('SECRET');
  });

  it('checks forward kinds and placeholders', () => {
    const text = `version: 1
tunnels:
  a:
    host: h
    remote: ["8080", "9000:{nodes}:80"]
    local: 8888:{node}:8888
    dynamic: [1080, /tmp/s]
`;
    expect(problems(text, { knownSshHosts: (n) => n === 'h' })).toEqual([
      'tunnels.yaml:5:14  tunnels.a.remote[0]: bad forward "8080": a reverse SOCKS proxy (-R with only a port) is not supported',
      'tunnels.yaml:5:22  tunnels.a.remote[1]: bad forward "9000:{nodes}:80": unknown placeholder {nodes} (known: {node}, {job}, {user})',
      'tunnels.yaml:6:12  tunnels.a.local: bad forward "8888:{node}:8888": {node} is only known for a tunnel with slurm:',
      'tunnels.yaml:7:21  tunnels.a.dynamic[1]: bad forward "/tmp/s": a SOCKS proxy needs a TCP port, not a socket path',
    ]);
  });

  it('finds colliding binds: same address, wildcard against specific, sockets; port 0 never collides', () => {
    const text = `version: 1
tunnels:
  a: { host: h, local: ["0:x:1", "8080:x:1", "/tmp/a.sock:x:1"], remote: "9000:x:1" }
  b: { host: h, local: ["0:x:1", "*:8080:x:1", "/tmp/a.sock:/r"], dynamic: "127.0.0.2:9000" }
  c: { host: h, remote: "9000:y:2" }
  d: { host: k, remote: "9000:y:2" }
`;
    expect(problems(text, { knownSshHosts: () => true })).toEqual([
      'tunnels.yaml:4:34  tunnels.b.local[1]: local address *:8080 is already used by tunnels.a.local[1]',
      'tunnels.yaml:4:48  tunnels.b.local[2]: local address /tmp/a.sock is already used by tunnels.a.local[2]',
      'tunnels.yaml:5:25  tunnels.c.remote: remote address *:9000 is already used by tunnels.a.remote',
    ]);
  });

  it('finds jump cycles and lets jumps name ~/.ssh/config hosts or destinations', () => {
    const text = `version: 1
hosts:
  a: { jump: b }
  b: { jump: [gw, c] }
  c: { jump: a }
  d: { jump: "alice@gw2.example.org:2222" }
  e: { jump: e }
tunnels:
  t: { host: a, dynamic: 1 }
`;
    expect(problems(text, { knownSshHosts: (n) => n === 'gw' })).toEqual([
      'tunnels.yaml:3:14  hosts.a.jump: jump cycle: a → b → c → a',
      'tunnels.yaml:7:14  hosts.e.jump: jump cycle: e → e',
    ]);
  });

  it('rejects a transport on a host that is reached through a jump', () => {
    const text =
      'version: 1\nhosts:\n  a: { jump: b, transport: { type: websocket, url: "wss://r/" } }\n  b: {}\ntunnels:\n  t: { host: a, dynamic: 1 }\n';
    expect(problems(text)).toEqual([
      'tunnels.yaml:3:28  hosts.a.transport: a host reached through jump: cannot have its own transport; set it on the first jump host',
    ]);
  });

  it('checks slurm and ready details', () => {
    const text = `version: 1
tunnels:
  a: { host: h, dynamic: 1, slurm: { timeout: 5m } }
  b: { host: h, dynamic: 2, slurm: { submit: { script: x.sh, wrap: y } } }
  c: { host: h, dynamic: 3, slurm: { job: abc } }
  d: { host: h, dynamic: 4, ready: { http: api } }
  e: { host: h, dynamic: 5, via: node }
  f: { host: h, dynamic: 6, ready: { tcp: false } }
  g: { host: h, dynamic: 7, slurm: { job: 1, warnBefore: [10] }, open: yes }
`;
    expect(problems(text, { knownSshHosts: () => true })).toEqual([
      'tunnels.yaml:3:36  tunnels.a.slurm: needs one of job:, name: or submit:',
      'tunnels.yaml:4:46  tunnels.b.slurm.submit: needs exactly one of script: or wrap:',
      'tunnels.yaml:5:43  tunnels.c.slurm.job: expected a Slurm job id like 4242',
      'tunnels.yaml:6:44  tunnels.d.ready.http: expected a path starting with /, like /api',
      'tunnels.yaml:7:34  tunnels.e.via: via: node needs slurm: (the node is where the job runs)',
      'tunnels.yaml:8:43  tunnels.f.ready.tcp: expected true',
      'tunnels.yaml:9:59  tunnels.g.slurm.warnBefore[0]: expected a duration like 15s, 250ms, 10m, 1h or 1m30s',
      'tunnels.yaml:9:72  tunnels.g.open: expected true or false, got a string',
    ]);
  });

  it('checks local: true hosts and where Slurm forwards start', () => {
    const text = `version: 1
hosts:
  here: { local: true, port: 22, jump: b }
  login: { local: true, user: alice }
  b: {}
tunnels:
  a: { host: login, local: 8888:localhost:8888 }
  b: { host: login, via: login, slurm: { job: 1 }, local: 8892:localhost:8888 }
  c: { host: b, via: login, slurm: { job: 1 }, local: "8889:/home/{user}/nb.sock" }
  d: { host: login, slurm: { job: 1 }, local: "8890:/home/{user}/nb-{job}.sock" }
  e: { host: b, via: node, slurm: { job: 1 }, local: 8891:127.0.0.1:8888 }
`;
    expect(problems(text)).toEqual([
      'tunnels.yaml:3:30  hosts.here.port: a local: true host is this machine: port: does not apply (only user: and identityFile:, for SSH into nodes)',
      'tunnels.yaml:3:40  hosts.here.jump: a local: true host is this machine: jump: does not apply (only user: and identityFile:, for SSH into nodes)',
      "tunnels.yaml:7:14  tunnels.a.host: host login is this machine (local: true): only Slurm tunnels (slurm:) run over it, into the job's node",
      'tunnels.yaml:8:26  tunnels.b.via: host login is this machine (local: true): there is no login session to forward from; use via: node',
      'tunnels.yaml:9:55  tunnels.c.local: bad forward "8889:/home/{user}/nb.sock": a unix socket the job creates exists only on its node; use via: node (the default for socket targets)',
    ]);
    const valid = loadConfig(
      'version: 1\nhosts: { login: { local: true, user: alice } }\ntunnels:\n  d: { host: login, slurm: { job: 1 }, local: "0:127.0.0.1:8888" }\n',
      'tunnels.yaml',
      env,
    );
    expect(valid.problems).toEqual([]);
    expect(valid.config?.hosts[0]).toMatchObject({ name: 'login', local: true, user: 'alice' });
  });

  it('explains wrong types in words', () => {
    const text = `version: 1
hosts:
  a:
    port: 70000
    user: [x]
    host:
tunnels:
  t: { host: a, dynamic: [1080, true], local: [], remote: 5 }
`;
    expect(problems(text)).toEqual([
      'tunnels.yaml:4:11  hosts.a.port: expected a port number 1-65535',
      'tunnels.yaml:5:11  hosts.a.user: expected a string, got a list',
      'tunnels.yaml:6:5  hosts.a.host: expected a string, the value is empty',
      'tunnels.yaml:8:33  tunnels.t.dynamic[1]: expected a SOCKS port like 1080 or 127.0.0.1:1080',
      'tunnels.yaml:8:47  tunnels.t.local: expected an OpenSSH -L forward like 8888:localhost:8888, or a list of them',
      'tunnels.yaml:8:59  tunnels.t.remote: expected an OpenSSH -R forward like 0:localhost:3000, or a list of them',
    ]);
  });

  it('rejects reconnect.initial longer than reconnect.max', () => {
    expect(
      problems(
        'version: 1\ndefaults: { reconnect: { initial: 1m, max: 10s } }\ntunnels:\n  t: { host: h, dynamic: 1 }\n',
        { knownSshHosts: () => true },
      ),
    ).toEqual([
      'tunnels.yaml:2:35  defaults.reconnect.initial: reconnect.initial is longer than reconnect.max',
    ]);
  });
});
