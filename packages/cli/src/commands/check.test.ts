import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from '../../../../test/support/capture.js';
import { checkCommand } from './check.js';

describe('fwd check: friendly ports', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-check-ports-'));
    await writeFile(
      join(dir, 'tunnels.yaml'),
      [
        'version: 1',
        'tunnels:',
        '  notebook: { host: alice@login.example.org, local: "8888:localhost:8888" }',
        '  x: { host: alice@login.example.org, local: "6000:localhost:9000" }',
        '  web: { host: alice@login.example.org, local: "80:localhost:80" }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the URL to open and warns about bad and privileged ports, still exiting 0', async () => {
    const out = capture();
    const err = capture();
    const code = await checkCommand(
      [],
      { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), env: { HOME: dir }, cwd: dir },
      { anyPort: false, unprivilegedPortStart: 1024 },
    );
    expect(code).toBe(0);
    expect(out.text()).toContain('open http://127.0.0.1:8888/ once notebook is up');
    expect(out.text()).toContain('open http://127.0.0.1/ once web is up');
    expect(out.text()).not.toContain(':6000/');
    expect(err.text()).toMatch(/^fwd: warning: tunnel web: local port 80 is privileged here/m);
    expect(err.text()).toMatch(/^fwd: warning: tunnel x: browsers refuse http:\/\/localhost:6000 .*x11/m);
  });
});

describe('fwd check: what ~/.ssh/config decides', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-check-ssh-'));
    await mkdir(join(dir, '.ssh'));
    await writeFile(
      join(dir, '.ssh/config'),
      [
        'Host cluster',
        '  HostName login.example.edu',
        `  ProxyCommand touch ${join(dir, 'proxy-ran')}; nc https://u:pw@gw.example/?token=abc %h %p`,
        '  CertificateFile ~/.ssh/cluster-cert.pub',
        '  UserKnownHostsFile /dev/null',
        '  StrictHostKeyChecking no',
        '  HashKnownHosts yes',
        '  ServerAliveInterval 20',
        '  ConnectTimeout 10',
        '  Ciphers aes128-ctr',
        '  RemoteCommand tmux attach',
        '  LocalForward 8080 localhost:80',
        '  RequestTTY yes',
        '  ControlMaster auto',
        '  SetEnv TOKEN=do-not-show',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'tunnels.yaml'),
      'version: 1\ntunnels:\n  nb: { host: cluster, local: "8888:localhost:8888" }\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (argv: string[]) => {
    const out = capture();
    const err = capture();
    const code = await checkCommand(
      argv,
      { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), env: { HOME: dir }, cwd: dir },
      { anyPort: true, unprivilegedPortStart: 0 },
    );
    return { code, out: out.text(), err: err.text() };
  };

  it('shows every resolved field, lists ignored keywords per host, warns about unverified keys, runs nothing', async () => {
    const { code, out, err } = await run([]);
    expect(code).toBe(0);
    const config = join(dir, '.ssh/config');
    expect(out).toContain(
      `  proxy    ProxyCommand touch ${join(dir, 'proxy-ran')}; nc https://***@gw.example/?token=*** %h %p (run by fwd up, not by check)`,
    );
    expect(out.match(/ {2}proxy {4}/g)).toHaveLength(1);
    expect(out).toContain(`  certs    ${join(dir, '.ssh/cluster-cert.pub')}\n`);
    expect(out).toContain(
      '  keys     host keys accept-new; known_hosts /dev/null; global /etc/ssh/ssh_known_hosts, /etc/ssh/ssh_known_hosts2; new entries hashed\n',
    );
    expect(out).toContain('  options  keepalive 20s x3, connect timeout 10s, reconnect 250ms..30s\n');
    for (const [keyword, value, line] of [
      ['Ciphers', 'aes128-ctr', 10],
      ['RemoteCommand', 'tmux attach', 11],
      ['LocalForward', '8080 localhost:80', 12],
      ['RequestTTY', 'yes', 13],
      ['ControlMaster', 'auto', 14],
      ['SetEnv', 'TOKEN', 15],
    ] as const) {
      expect(out).toContain(`  ignored  ${keyword} ${value} (${config} line ${line}: ignored by fwd)\n`);
    }
    expect(err).toMatch(
      /^fwd: warning: host key of cluster is not verified: with StrictHostKeyChecking no .*\/dev\/null/m,
    );
    expect(`${out}${err}`).not.toMatch(/do-not-show|:pw@|token=abc/);
    expect(existsSync(join(dir, 'proxy-ran'))).toBe(false);
  });

  it('prints the resolved hosts as JSON with --json, secrets left out', async () => {
    const { code, out } = await run(['--json']);
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json).toMatchObject({
      ok: true,
      hosts: [
        {
          name: 'cluster',
          hostName: 'login.example.edu',
          port: 22,
          transport: { type: 'tcp' },
          userKnownHostsFiles: ['/dev/null'],
          hashKnownHosts: true,
          keepaliveMs: 20_000,
          keepaliveCountMax: 3,
          connectTimeoutMs: 10_000,
          certificateFiles: [join(dir, '.ssh/cluster-cert.pub')],
          jumpChain: [],
        },
      ],
      tunnels: [{ name: 'nb', host: 'cluster' }],
      warnings: [expect.stringMatching(/^host key of cluster is not verified/)],
    });
    expect(json.hosts[0].proxyCommand).toMatch(
      /^touch .*nc https:\/\/\*\*\*@gw\.example\/\?token=\*\*\* %h %p$/,
    );
    expect(json.hosts[0].ignoredSshOptions.map((i: { keyword: string }) => i.keyword)).toEqual([
      'Ciphers',
      'RemoteCommand',
      'LocalForward',
      'RequestTTY',
      'ControlMaster',
      'SetEnv',
    ]);
    expect(out).not.toMatch(/do-not-show|:pw@|token=abc/);
    expect(existsSync(join(dir, 'proxy-ran'))).toBe(false);
  });
});
