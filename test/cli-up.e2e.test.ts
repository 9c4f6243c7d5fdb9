import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { SocksClient } from 'socks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { isUp, listenAddress, runFwd, startFwd } from './support/fwd-cli.js';
import { echo, httpGet, openSocket, readAll } from './support/net-client.js';
import { type SshHome, sshHome, tempHome } from './support/ssh-home.js';
import { type Sshd, startSshdNetwork, TARGETS } from './support/sshd.js';

function acceptedLogins(log: string): number {
  return log.match(/Accepted publickey for alice/g)?.length ?? 0;
}

describe.skipIf(skipWithoutDocker)('fwd up (the real binary) against OpenSSH', () => {
  let servers: AsyncDisposable | undefined;
  let login: Sshd;
  let inner: Sshd;
  let home: SshHome;

  beforeAll(async () => {
    const started = await startSshdNetwork([{ alias: 'login' }, { alias: 'inner', publish: false }]);
    servers = started;
    [login, inner] = started.sshds;
    home = await sshHome(
      login,
      [
        'Host login',
        '  HostName 127.0.0.1',
        `  Port ${login.port}`,
        '  User alice',
        'Host inner',
        '  User alice',
        '  ProxyJump login',
        '',
      ].join('\n'),
      [`inner ${inner.hostKey.publicKey}`],
    );
  });
  afterAll(async () => {
    await home?.[Symbol.asyncDispose]();
    await servers?.[Symbol.asyncDispose]();
  });

  it('brings 3 tunnels up over ONE SSH connection, reports NDJSON, and exits 130 on SIGINT with ports closed', async () => {
    const file = await home.write(
      'three.yaml',
      [
        'version: 1',
        'tunnels:',
        '  web: { host: login, local: "0:localhost:8080" }',
        `  sock: { host: login, local: "0:${TARGETS.unixEcho}" }`,
        '  proxy: { host: login, dynamic: 0 }',
        '',
      ].join('\n'),
    );
    const before = acceptedLogins(await login.sshdLog());
    await using fwd = startFwd(['up', file, '--json', '--stats-interval', '200ms'], { home: home.dir });
    const [web, sock, proxy] = await Promise.all([
      fwd.waitForEvent(isUp('web')),
      fwd.waitForEvent(isUp('sock')),
      fwd.waitForEvent(isUp('proxy')),
    ]);
    expect((await httpGet(listenAddress(web), '/api')).body).toContain('"path": "/api"');
    const payload = randomBytes(200_000);
    expect((await echo(listenAddress(sock), payload)).equals(payload)).toBe(true);
    const { socket } = await SocksClient.createConnection({
      proxy: { ...listenAddress(proxy), type: 5 },
      command: 'connect',
      destination: { host: 'localhost', port: TARGETS.echo },
    });
    const back = readAll(socket);
    socket.end('via socks');
    expect((await back).toString()).toBe('via socks');
    expect(acceptedLogins(await login.sshdLog()) - before).toBe(1);

    const stats = await fwd.waitForEvent(
      (e) =>
        e.event === 'stats' &&
        (e.tunnels as Array<{ tunnel: string; bytesToRemote: number }>).some(
          (t) => t.tunnel === 'sock' && t.bytesToRemote === 200_000,
        ),
    );
    expect(stats.tunnels).toHaveLength(3);

    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
    expect(fwd.events.at(-1)?.event).toBe('stopped');
    for (const event of [web, sock, proxy]) {
      await expect(openSocket(listenAddress(event))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
  });

  it('serves Prometheus metrics and /healthz on loopback when asked', async () => {
    const file = await home.write(
      'metrics.yaml',
      'version: 1\ntunnels:\n  web: { host: login, local: "0:localhost:8080" }\n',
    );
    await using fwd = startFwd(['up', file, '--json', '--metrics', '127.0.0.1:0'], { home: home.dir });
    const web = await fwd.waitForEvent(isUp('web'));
    await httpGet(listenAddress(web), '/counted');
    const note = await fwd.waitForEvent(
      (e) => e.event === 'log' && String(e.message).startsWith('metrics on'),
    );
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(String(note.message))?.[1]);
    const metrics = await httpGet({ port }, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('fwd_tunnel_up{tunnel="web"} 1');
    expect(metrics.body).toContain('fwd_tunnel_state{tunnel="web",state="up"} 1');
    expect(metrics.body).toMatch(/fwd_tunnel_connections_total\{tunnel="web"\} 1/);
    expect(metrics.body).toMatch(/fwd_tunnel_bytes_total\{tunnel="web",direction="to_remote"\} \d+/);
    expect(metrics.body).toContain('fwd_host_reconnects_total{host="login"} 0');
    const health = await httpGet({ port }, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ ok: true, tunnels: [{ tunnel: 'web', state: 'up' }] });
    fwd.child.kill('SIGTERM');
    expect(await fwd.exited).toBe(0);
  });

  it('keeps the other tunnels up when one local port is taken, and names the port', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const file = await home.write(
        'taken.yaml',
        [
          'version: 1',
          'tunnels:',
          `  busy: { host: login, local: "${port}:localhost:8080" }`,
          '  free: { host: login, local: "0:localhost:8080" }',
          '',
        ].join('\n'),
      );
      await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
      const failed = await fwd.waitForEvent(
        (e) => e.event === 'tunnel' && e.tunnel === 'busy' && e.state === 'failed',
      );
      expect(failed.error).toMatchObject({ code: 'BIND_IN_USE' });
      expect((failed.error as { message: string }).message).toContain(`127.0.0.1:${port}`);
      const free = await fwd.waitForEvent(isUp('free'));
      expect((await httpGet(listenAddress(free), '/')).status).toBe(200);
      fwd.child.kill('SIGTERM');
      expect(await fwd.exited).toBe(0);
    } finally {
      taken.close();
    }
  });

  it('follows ProxyJump from ~/.ssh/config to a host only the jump host can reach', async () => {
    const file = await home.write(
      'jump.yaml',
      'version: 1\ntunnels:\n  deep: { host: inner, local: "0:localhost:8080" }\n',
    );
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir });
    const up = await fwd.waitForEvent(isUp('deep'));
    const answer = JSON.parse((await httpGet(listenAddress(up), '/')).body) as { host: string };
    const innerName = (await inner.exec(['hostname'])).output.trim();
    expect(answer.host).toBe(innerName);
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
  });

  it('exits 1 when every tunnel fails (unknown host key, strict)', async () => {
    const strangerHome = await sshHome(
      login,
      `Host login\n  HostName 127.0.0.1\n  Port ${login.port}\n  User alice\n`,
    );
    try {
      await strangerHome.write('.ssh/known_hosts', '');
      const file = await strangerHome.write(
        't.yaml',
        'version: 1\ntunnels:\n  web: { host: login, local: "0:localhost:8080" }\n',
      );
      await using fwd = startFwd(['up', file, '--json'], { home: strangerHome.dir });
      const failed = await fwd.waitForEvent((e) => e.event === 'tunnel' && e.state === 'failed');
      expect(failed.error).toMatchObject({ code: 'HOST_KEY_UNKNOWN' });
      expect(await fwd.exited).toBe(1);
      expect(fwd.stderr()).toContain('every tunnel failed');
    } finally {
      await strangerHome[Symbol.asyncDispose]();
    }
  });

  it('without a terminal, fails AUTH_FAILED quoting the prompt it could not answer', async () => {
    const keyless = await sshHome(
      login,
      `Host login\n  HostName 127.0.0.1\n  Port ${login.port}\n  User alice\n  IdentityFile ~/.ssh/none\n`,
    );
    try {
      const file = await keyless.write(
        't.yaml',
        'version: 1\ntunnels:\n  web: { host: login, local: "0:localhost:8080" }\n',
      );
      await using fwd = startFwd(['up', file, '--json'], { home: keyless.dir });
      const failed = await fwd.waitForEvent((e) => e.event === 'tunnel' && e.state === 'failed');
      expect(failed.error).toMatchObject({ code: 'AUTH_FAILED' });
      expect((failed.error as { message: string }).message).toContain(
        `could not answer the server's prompt "Password:" (no terminal to ask on; use a key or ssh-agent)`,
      );
      expect(await fwd.exited).toBe(1);
    } finally {
      await keyless[Symbol.asyncDispose]();
    }
  });

  it('runs an OpenSSH-style one-off: fwd -L ... -p ... -i ... alice@127.0.0.1', async () => {
    await using fwd = startFwd(
      [
        '-N',
        '-L',
        `0:127.0.0.1:${TARGETS.http}`,
        '-p',
        String(login.port),
        '-i',
        home.keyFile,
        '--json',
        'alice@127.0.0.1',
      ],
      { home: home.dir },
    );
    const up = await fwd.waitForEvent((e) => e.event === 'tunnel' && e.state === 'up');
    expect((await httpGet(listenAddress(up), '/one-off')).body).toContain('/one-off');
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
  });
});

describe('fwd check and usage errors (no network)', () => {
  it('lists every problem of a bad file with line:col and exits 2', async () => {
    await using home = await tempHome({ prefix: 'fwd-check-' });
    await home.write(
      'bad.yaml',
      [
        'version: 1',
        'defaults:',
        '  keepalive: soon',
        'hosts:',
        '  cluster: { host: login, hots: x }',
        'tunnels:',
        '  nb:',
        '    host: nowhere',
        '    local: 88x8:localhost:8888',
        '',
      ].join('\n'),
    );
    const result = await runFwd(['check', 'bad.yaml'], { home: home.dir });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad\.yaml:3:14 {2}defaults\.keepalive: /),
        expect.stringMatching(
          /^bad\.yaml:5:27 {2}hosts\.cluster\.hots: unknown key "hots" \(did you mean "host"\?\)/,
        ),
        expect.stringMatching(/^bad\.yaml:8:11 {2}tunnels\.nb\.host: /),
        expect.stringMatching(/^bad\.yaml:9:12 {2}tunnels\.nb\.local: bad forward "88x8:localhost:8888"/),
      ]),
    );
    expect(lines.at(-1)).toMatch(/^\d+ problems in bad\.yaml$/);
  });

  it('resolves ~/.ssh/config from $HOME and prints the plan without connecting anywhere', async () => {
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      await using home = await tempHome({
        prefix: 'fwd-check-',
        sshConfig: `Host gw\n  HostName 127.0.0.1\n  Port ${port}\n  User carol\nHost cluster\n  HostName login.example.edu\n  User alice\n  ProxyJump gw\n`,
      });
      await home.write(
        'tunnels.yaml',
        'version: 1\ntunnels:\n  nb: { host: cluster, local: 8888:localhost:8888 }\n',
      );
      const result = await runFwd(['check'], { home: home.dir });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('alice@login.example.edu:22');
      expect(result.stdout).toMatch(/jump +gw = carol@127\.0\.0\.1:\d+/);
      expect(result.stdout).toContain('127.0.0.1:8888 → localhost:8888');
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('answers --version fast and usage errors with exit 2', async () => {
    const { tmpdir } = await import('node:os');
    expect((await runFwd(['--version'], { home: tmpdir() })).stdout).toMatch(/^fwd \d+\.\d+\.\d+\n$/);
    const bad = await runFwd(['up', '--bogus'], { home: tmpdir() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--bogus');
    const missing = await runFwd(['up', 'nope.yaml'], { home: tmpdir() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.yaml: no such file');
  });
});
