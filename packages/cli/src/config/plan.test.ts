import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describePlan } from './describe-plan.js';
import { loadConfig } from './load.js';
import { buildPlan, planFromArgs } from './plan.js';
import { formatProblem } from './problems.js';
import { type SshConfigOptions, sshConfigHostNames } from './ssh-config.js';

let home: string;
let ssh: SshConfigOptions;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'fwd-plan-'));
  mkdirSync(join(home, '.ssh'));
  ssh = { homeDir: home, user: 'alice', env: {} };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function plan(yaml: string, sshConfig = '') {
  writeFileSync(join(home, '.ssh/config'), sshConfig);
  const loaded = loadConfig(
    yaml,
    'tunnels.yaml',
    { TOKEN: 'tok-SECRET' },
    { knownSshHosts: sshConfigHostNames(ssh) },
  );
  expect(loaded.problems.map(formatProblem)).toEqual([]);
  if (loaded.config === undefined) throw new Error('no config');
  return buildPlan(loaded.config, ssh);
}

describe('buildPlan', () => {
  it('lets YAML fields override ~/.ssh/config and resolves the jump chain outermost first', () => {
    const { plan: p, problems } = plan(
      `version: 1
defaults: { keepalive: 10s, reconnect: { initial: 1s, max: 1m } }
hosts:
  cluster:
    user: alice2
    identityFile: ~/.ssh/cluster_key
    jump: inner
  inner:
    host: inner.example
tunnels:
  nb: { host: cluster, local: 8888:localhost:8888 }
  nb2: { host: cluster, remote: 0:localhost:3000 }
`,
      `Host cluster
  HostName login.example.edu
  User ignored
  Port 2222
Host inner
  HostName ignored.example
  ProxyJump carol@outer:2200
Host outer
  HostName outer.example
  ProxyJump edge
`,
    );
    expect(problems).toEqual([]);
    expect(p?.hosts).toHaveLength(1); // one connection per host, shared by its tunnels
    const host = p?.hosts[0];
    expect(host).toMatchObject({
      name: 'cluster',
      hostName: 'login.example.edu',
      port: 2222,
      user: 'alice2',
      identityFiles: [join(home, '.ssh/cluster_key')],
      transport: { type: 'tcp' },
      hostKeys: 'strict',
      keepaliveMs: 10_000,
      reconnect: { initialMs: 1000, maxMs: 60_000 },
    });
    expect(host?.userKnownHostsFiles[0]).toBe(join(home, '.ssh/known_hosts'));
    expect(host?.jumpChain.map((h) => `${h.name}=${h.user}@${h.hostName}:${h.port}`)).toEqual([
      'edge=alice@edge:22',
      'outer=carol@outer.example:2200',
      'inner=alice@inner.example:22',
    ]);
    expect(p?.tunnels.map((t) => [t.name, t.host])).toEqual([
      ['nb', 'cluster'],
      ['nb2', 'cluster'],
    ]);
  });

  it('takes the receive window from defaults.window, a host overriding it', () => {
    const { plan: p } = plan(
      `version: 1
defaults: { window: 64M }
hosts:
  far: { host: far.example, window: 128MiB }
  near: { host: near.example }
tunnels:
  a: { host: far, local: 8888:localhost:8888 }
  b: { host: near, local: 8889:localhost:8888 }
`,
    );
    expect(p?.hosts.map((h) => [h.name, h.windowBytes])).toEqual([
      ['far', 128 * 1024 * 1024],
      ['near', 64 * 1024 * 1024],
    ]);
  });

  it('uses a ~/.ssh/config Host directly, its StrictHostKeyChecking, and the name when no HostName is set', () => {
    const { plan: p } = plan(
      'version: 1\ntunnels:\n  a: { host: rackham, local: 8888:localhost:8888 }\n',
      'Host rackham\n  User bob\n  StrictHostKeyChecking accept-new\n',
    );
    expect(p?.hosts[0]).toMatchObject({
      name: 'rackham',
      hostName: 'rackham',
      user: 'bob',
      hostKeys: 'accept-new',
    });
  });

  it('accepts a plain destination as a tunnel host, like ssh does', () => {
    const { plan: p } = plan(
      'version: 1\ntunnels:\n  a: { host: "bob@login.example.org:2200", dynamic: 1080 }\n',
    );
    expect(p?.hosts[0]).toMatchObject({
      name: 'bob@login.example.org:2200',
      hostName: 'login.example.org',
      user: 'bob',
      port: 2200,
    });
    expect(p?.tunnels[0]?.host).toBe('bob@login.example.org:2200');
  });

  it('reports a ProxyJump cycle in ~/.ssh/config at the YAML host', () => {
    const { plan: p, problems } = plan(
      'version: 1\nhosts:\n  a: {}\ntunnels:\n  t: { host: a, dynamic: 1080 }\n',
      'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n',
    );
    expect(p).toBeUndefined();
    expect(problems.map(formatProblem)).toEqual(['tunnels.yaml:3:3  hosts.a: jump cycle: a → b → a']);
  });

  it('carries ProxyCommand unexpanded, honours none, drops it where ssh does, and refuses ProxyUseFdpass', () => {
    const sshConfig = `Host a b
  ProxyCommand ssh -W %h:%p gw
Host none
  ProxyCommand none
Host fd
  ProxyCommand helper %h
  ProxyUseFdpass yes
Host viajump
  ProxyJump a,b
`;
    const hosts = (yaml: string) => plan(`version: 1\n${yaml}`, sshConfig).plan?.hosts ?? [];
    expect(hosts('tunnels:\n  t: { host: a, dynamic: 1080 }\n')[0]?.proxyCommand).toBe('ssh -W %h:%p gw');
    expect(hosts('tunnels:\n  t: { host: none, dynamic: 1080 }\n')[0]?.proxyCommand).toBeUndefined();
    // A YAML jump is more specific, like ssh -J: the ProxyCommand no longer applies.
    const yamlJump = hosts(
      'hosts:\n  a: { jump: gw }\n  gw: {}\ntunnels:\n  t: { host: a, dynamic: 1080 }\n',
    );
    expect(yamlJump[0]?.proxyCommand).toBeUndefined();
    // ProxyJump a,b: a is reached by its ProxyCommand, b through a (its own ProxyCommand is ignored).
    const chain = hosts('tunnels:\n  t: { host: viajump, dynamic: 1080 }\n')[0]?.jumpChain ?? [];
    expect(chain.map((h) => [h.name, h.proxyCommand])).toEqual([
      ['a', 'ssh -W %h:%p gw'],
      ['b', undefined],
    ]);
    const fd = plan('version: 1\ntunnels:\n  t: { host: fd, dynamic: 1080 }\n', sshConfig);
    expect(fd.problems.map(formatProblem)).toEqual([
      `tunnels.yaml:3:3  tunnels.t: ProxyUseFdpass yes (${join(home, '.ssh/config')} line 7) is not supported: fwd talks to ProxyCommand over its stdin/stdout; set ProxyUseFdpass no for this host`,
    ]);
  });

  it('takes keepalive, timeouts, certificates and known_hosts settings from ~/.ssh/config', () => {
    const sshConfig = `Host k
  ServerAliveInterval 30
  ServerAliveCountMax 5
  ConnectTimeout 1m
  CertificateFile ~/.ssh/%n-cert.pub
  UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2
  GlobalKnownHostsFile /etc/ssh/site_hosts
  HashKnownHosts yes
  HostKeyAlias K-Alias
  IdentitiesOnly yes
  Ciphers aes128-ctr
Match user ops
  Port 2222
`;
    const p = plan('version: 1\ntunnels:\n  t: { host: ops@k, dynamic: 1080 }\n', sshConfig).plan;
    expect(p?.hosts[0]).toMatchObject({
      port: 2222, // Match user sees the destination's user, as with ssh ops@k
      keepaliveMs: 30_000,
      keepaliveCountMax: 5,
      connectTimeoutMs: 60_000,
      certificateFiles: [join(home, '.ssh/k-cert.pub')],
      userKnownHostsFiles: [join(home, '.ssh/kh1'), join(home, '.ssh/kh2')],
      globalKnownHostsFiles: ['/etc/ssh/site_hosts'],
      hashKnownHosts: true,
      hostKeyAlias: 'k-alias',
      identitiesOnly: true,
      ignoredSshOptions: [expect.objectContaining({ keyword: 'Ciphers', value: 'aes128-ctr', line: 11 })],
    });
    // defaults.keepalive in tunnels.yaml wins over ServerAliveInterval.
    const yaml = plan(
      'version: 1\ndefaults: { keepalive: 5s }\ntunnels:\n  t: { host: k, dynamic: 1080 }\n',
      sshConfig,
    );
    expect(yaml.plan?.hosts[0]?.keepaliveMs).toBe(5_000);
    const plain = plan('version: 1\ntunnels:\n  t: { host: other.example, dynamic: 1080 }\n', sshConfig);
    expect(plain.plan?.hosts[0]).toMatchObject({ keepaliveMs: 15_000, keepaliveCountMax: 3 });
    expect(plain.plan?.hosts[0]?.connectTimeoutMs).toBeUndefined();
  });

  it('says when an unknown host key would be accepted without being recorded, and only then', () => {
    const sshConfig = `Host devnull
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
Host nofile
  UserKnownHostsFile none
  StrictHostKeyChecking accept-new
Host strict
  UserKnownHostsFile /dev/null
Host fine
  StrictHostKeyChecking no
`;
    const warning = (host: string) =>
      plan(`version: 1\ntunnels:\n  t: { host: ${host}, dynamic: 1080 }\n`, sshConfig).plan?.hosts[0]
        ?.hostKeyWarning;
    expect(warning('devnull')).toBe(
      `host key of devnull is not verified: with StrictHostKeyChecking no (${join(home, '.ssh/config')} line 3) an unknown key ` +
        `is accepted on every connection, and UserKnownHostsFile /dev/null (${join(home, '.ssh/config')} line 2) cannot ` +
        'record it; a key listed in /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2 is still checked',
    );
    expect(warning('nofile')).toMatch(/^host key of nofile is not verified: .*UserKnownHostsFile none/);
    expect(warning('strict')).toBeUndefined();
    expect(warning('fine')).toBeUndefined();
  });

  it('plans a local: true host from ~/.ssh/config defaults, and where each Slurm tunnel forwards from', () => {
    const { plan: p, problems } = plan(
      `version: 1
hosts:
  here: { local: true }
  cluster: { host: login.example.edu }
tunnels:
  private: { host: here, slurm: { name: nb }, local: "0:/home/{user}/nb-{job}.sock" }
  tcp: { host: cluster, slurm: { name: nb }, local: "0:{node}:8888" }
  socket: { host: cluster, slurm: { name: nb }, local: "0:/tmp/{user}.sock" }
  forced: { host: cluster, via: node, slurm: { name: nb }, local: "0:127.0.0.1:8888" }
`,
      'Host here\n  HostName ignored.example\n  User carol\n  IdentityFile ~/.ssh/cluster_key\n',
    );
    expect(problems).toEqual([]);
    expect(p?.hosts.find((h) => h.name === 'here')).toMatchObject({
      local: true,
      hostName: 'localhost',
      user: 'carol',
      identityFiles: [join(home, '.ssh/cluster_key')],
      jumpChain: [],
    });
    expect(p?.hosts.find((h) => h.name === 'cluster')?.local).toBeUndefined();
    expect(Object.fromEntries((p?.tunnels ?? []).map((t) => [t.name, t.via]))).toEqual({
      private: 'node',
      tcp: 'login',
      socket: 'node',
      forced: 'node',
    });
    const described = describePlan(p as NonNullable<typeof p>);
    expect(described).toContain('here  this machine (Slurm commands run here; SSH into nodes as carol)');
    expect(described).toContain("local    127.0.0.1:0 → /home/{user}/nb-{job}.sock (from the job's node)");
  });

  it('describes the plan for fwd check without showing secrets', () => {
    const { plan: p } = plan(
      `version: 1
hosts:
  relay:
    host: 10.1.2.3
    user: alice
    transport: { type: websocket, url: "wss://relay.example.edu/ssh", token: "\${TOKEN}" }
tunnels:
  nb:
    host: relay
    local: [8888:localhost:8888, "[::1]:8889:/home/alice/nb.sock"]
    remote: 0:localhost:3000
    dynamic: 1080
  job:
    host: relay
    slurm: { name: jupyter, timeout: 10m }
    local: 7000:{node}:8888
    ready: { http: /api }
`,
    );
    if (p === undefined) throw new Error('no plan');
    const text = describePlan(p);
    expect(text).not.toContain('SECRET');
    expect(text.split('\n')).toEqual([
      'relay  alice@10.1.2.3:22',
      '  transport websocket wss://relay.example.edu/ssh',
      `  auth     ${['id_rsa', 'id_ecdsa', 'id_ed25519'].map((k) => join(home, '.ssh', k)).join(', ')}`,
      `  keys     host keys strict; known_hosts ${home}/.ssh/known_hosts, ${home}/.ssh/known_hosts2; global /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2`,
      '  options  keepalive 15s x3, reconnect 250ms..30s',
      'tunnel nb (host relay)',
      '  local    127.0.0.1:8888 → localhost:8888 (from 10.1.2.3)',
      '  local    [::1]:8889 → /home/alice/nb.sock (from 10.1.2.3)',
      '  remote   10.1.2.3 localhost:0 (server picks the port) → localhost:3000',
      '  dynamic  127.0.0.1:1080 (SOCKS, connections leave from 10.1.2.3)',
      'tunnel job (host relay, via login)',
      '  local    127.0.0.1:7000 → {node}:8888 (from 10.1.2.3)',
      '  slurm    newest running job named jupyter, wait up to 10m',
      '  ready    when HTTP /api answers',
    ]);
  });
});

describe('planFromArgs', () => {
  it('builds the same plan shape from OpenSSH-style arguments', () => {
    writeFileSync(join(home, '.ssh/config'), 'Host login\n  HostName login.example.edu\n  User ignored\n');
    const { plan: p, problems } = planFromArgs(
      {
        destination: 'bob@login',
        port: 2022,
        identityFile: '~/.ssh/k',
        jump: 'gw1,carol@gw2:2200',
        local: ['8080:localhost:9990'],
        remote: ['0:localhost:3000'],
        dynamic: ['1080'],
      },
      ssh,
    );
    expect(problems).toEqual([]);
    expect(p?.hosts[0]).toMatchObject({
      name: 'login',
      hostName: 'login.example.edu',
      user: 'bob',
      port: 2022,
      identityFiles: [join(home, '.ssh/k')],
      keepaliveMs: 15_000,
    });
    expect(p?.hosts[0]?.jumpChain.map((h) => `${h.user}@${h.hostName}:${h.port}`)).toEqual([
      'alice@gw1:22',
      'carol@gw2:2200',
    ]);
    expect(p?.tunnels[0]?.forwards.map((f) => f.kind)).toEqual(['local', 'remote', 'dynamic']);
    expect(p?.tunnels[0]?.forwards[0]?.bind).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it('reports bad arguments by flag', () => {
    const { problems } = planFromArgs(
      { destination: 'h', local: ['88x8:localhost:8888'], remote: ['8080'], dynamic: [] },
      ssh,
    );
    expect(problems.map(formatProblem)).toEqual([
      'command line  -L: bad forward "88x8:localhost:8888": port must be a number 0-65535',
      'command line  -R: bad forward "8080": a reverse SOCKS proxy is not supported',
    ]);
    expect(
      planFromArgs({ destination: 'h', local: [], remote: [], dynamic: [] }, ssh).problems[0]?.message,
    ).toBe('nothing to forward: give at least one -L, -R or -D');
  });
});
