import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { StartedNetwork } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { freePort } from './support/faults.js';
import { isUp, listenAddress, startFwd } from './support/fwd-cli.js';
import { downloadFromSource, echo, httpGet } from './support/net-client.js';
import {
  newRelayToken,
  type RelayContainer,
  selfSignedCertificate,
  startNginxProxy,
  startRelayContainer,
} from './support/relay.js';
import { type SshHome, sshHome, tempHome } from './support/ssh-home.js';
import { type Sshd, startSshdNetwork } from './support/sshd.js';

// What the YAML says, literally: fwd interpolates it from the environment.
const TOKEN_REF = ['$', '{FWD_RELAY_TOKEN}'].join('');

describe.skipIf(skipWithoutDocker)('fwd up over a websocket relay (tunnels.yaml transport:)', () => {
  let servers: AsyncDisposable | undefined;
  let network: StartedNetwork;
  let login: Sshd;
  let node: Sshd;
  let relay: RelayContainer;
  let home: SshHome;
  const token = newRelayToken();

  beforeAll(async () => {
    // Neither sshd publishes port 22: only the relay's port is reachable from here.
    const started = await startSshdNetwork([
      { alias: 'login', publish: false },
      { alias: 'node17', publish: false },
    ]);
    servers = started;
    network = started.network;
    [login, node] = started.sshds;
    relay = await startRelayContainer({ network, allow: ['login:22'], tokens: [token] });
    home = await sshHome(login, '', [`login ${login.hostKey.publicKey}`, `node17 ${node.hostKey.publicKey}`]);
  });
  afterAll(async () => {
    await home?.[Symbol.asyncDispose]();
    await relay?.[Symbol.asyncDispose]();
    await servers?.[Symbol.asyncDispose]();
  });

  /** `extra`: more transport keys, e.g. `, ca: relay-ca.pem`. */
  const yaml = (url: string, extra = ''): string =>
    [
      'version: 1',
      'hosts:',
      '  login:',
      '    user: alice',
      `    transport: { type: websocket, url: "${url}", token: "${TOKEN_REF}"${extra} }`,
      '  node:',
      '    host: node17',
      '    user: alice',
      '    jump: login',
      'tunnels:',
      '  web: { host: login, local: "0:localhost:8080" }',
      '  deep: { host: node, local: "0:127.0.0.1:7001" }',
      '',
    ].join('\n');

  it('reaches a host behind the relay, and a node behind it via ProxyJump (ws → login → node)', async () => {
    const file = await home.write('ws.yaml', yaml(relay.url));
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir, env: { FWD_RELAY_TOKEN: token } });
    const [web, deep] = await Promise.all([fwd.waitForEvent(isUp('web')), fwd.waitForEvent(isUp('deep'))]);
    const answer = JSON.parse((await httpGet(listenAddress(web), '/via-relay')).body) as { path: string };
    expect(answer.path).toBe('/via-relay');
    const payload = randomBytes(2 * 1024 * 1024);
    expect((await echo(listenAddress(deep), payload)).equals(payload)).toBe(true);
    expect(fwd.events.map((e) => JSON.stringify(e)).join('\n')).not.toContain(token);
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
  });

  it('reconnects through the relay after it is killed mid-transfer and comes back', async () => {
    const port = await freePort();
    await using own = await startRelayContainer({
      network,
      allow: ['login:22'],
      tokens: [token],
      hostPort: port,
    });
    const file = await home.write('ws-restart.yaml', yaml(own.url));
    await using fwd = startFwd(['up', file, '--json', '--only', 'web'], {
      home: home.dir,
      env: { FWD_RELAY_TOKEN: token },
    });
    const web = await fwd.waitForEvent(isUp('web'));
    const transfer = downloadFromSource(listenAddress(web), 512 * 1024 * 1024).catch((e: Error) => e);
    const mark = fwd.events.length;
    await own.kill();
    const down = await fwd.waitForEvent(
      (e) => fwd.events.indexOf(e) >= mark && e.event === 'tunnel' && e.state === 'reconnecting',
    );
    expect(down.error).toBeDefined();
    // The transfer that was running is cut, not left hanging.
    const cut = await transfer;
    expect(cut instanceof Error || (cut as { ok: boolean }).ok === false).toBe(true);
    const mark2 = fwd.events.length;
    await own.restart();
    const back = await fwd.waitForEvent((e) => fwd.events.indexOf(e) >= mark2 && isUp('web')(e), 30_000);
    expect((await httpGet(listenAddress(back), '/after-restart')).status).toBe(200);
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
  });

  it('never shows a password or token from the URL (fwd check, NDJSON, errors), and warns about ws:// beyond loopback', async () => {
    const secrets = { FWD_URL_PASS: newRelayToken(), FWD_URL_TOKEN: newRelayToken(), FWD_RELAY_TOKEN: token };
    // 0.0.0.0 is not a loopback name, so the token counts as crossing a network; Linux delivers a
    // connect to 0.0.0.0 to this machine, where the relay's port is published.
    const url = `ws://alice:${['$', '{FWD_URL_PASS}'].join('')}@0.0.0.0:${relay.port}/ssh?token=${['$', '{FWD_URL_TOKEN}'].join('')}`;
    const file = await home.write('ws-secret.yaml', yaml(url));
    const shown = `ws://***@0.0.0.0:${relay.port}/ssh?token=***`;
    const leaks = (text: string): string[] =>
      Object.values(secrets).filter((secret) => text.includes(secret));

    await using check = startFwd(['check', file], { home: home.dir, env: secrets });
    expect(await check.exited).toBe(0);
    const checkText = JSON.stringify(check.events) + check.stderr();
    expect(checkText).toContain(`transport websocket ${shown}`);
    expect(leaks(checkText)).toEqual([]);

    await using fwd = startFwd(['up', file, '--json', '--only', 'web'], { home: home.dir, env: secrets });
    await fwd.waitForEvent(isUp('web'));
    expect(fwd.events).toContainEqual(
      expect.objectContaining({
        event: 'log',
        level: 'warn',
        message: expect.stringContaining(`relay ${shown}: the relay token is sent in plain text`),
      }),
    );
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);
    expect(leaks(JSON.stringify(fwd.events) + fwd.stderr())).toEqual([]);

    const wrong = { ...secrets, FWD_RELAY_TOKEN: newRelayToken() };
    await using refused = startFwd(['up', file, '--json', '--only', 'web'], { home: home.dir, env: wrong });
    const failed = await refused.waitForEvent((e) => e.event === 'tunnel' && e.state === 'failed');
    expect(JSON.stringify(failed.error)).toContain(`relay ${shown}`);
    expect(await refused.exited).toBe(1);
    const refusedText = JSON.stringify(refused.events) + refused.stderr();
    expect(Object.values(wrong).filter((secret) => refusedText.includes(secret))).toEqual([]);
  });

  it("runs through wss:// nginx (TLS terminated by Debian's nginx) → relay → sshd, only nginx published", async () => {
    const cert = await selfSignedCertificate(['127.0.0.1', 'localhost']);
    // The relay publishes nothing either: nginx reaches it as relay:8080 on the Docker network.
    await using inner = await startRelayContainer({
      network,
      allow: ['login:22'],
      tokens: [token],
      alias: 'relay',
      publish: false,
    });
    await using nginx = await startNginxProxy({ network, tls: cert });
    await home.write('relay-ca.pem', cert.cert);
    const behindNginx = (ca: boolean): string => yaml(nginx.url, ca ? ', ca: relay-ca.pem' : '');

    // Without `ca` the self-signed certificate is refused: TLS is real, and fatal (no retry loop).
    const untrusted = await home.write('nginx-untrusted.yaml', behindNginx(false));
    await using refused = startFwd(['up', untrusted, '--json', '--only', 'web'], {
      home: home.dir,
      env: { FWD_RELAY_TOKEN: token },
    });
    const failed = await refused.waitForEvent((e) => e.event === 'tunnel' && e.state === 'failed');
    expect(failed.error).toMatchObject({ code: 'TLS_FAILED' });
    expect(await refused.exited).toBe(1);

    const file = await home.write('nginx.yaml', behindNginx(true));
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir, env: { FWD_RELAY_TOKEN: token } });
    const [web, deep] = await Promise.all([fwd.waitForEvent(isUp('web')), fwd.waitForEvent(isUp('deep'))]);
    expect((await httpGet(listenAddress(web), '/via-nginx')).status).toBe(200);
    const payload = randomBytes(8 * 1024 * 1024);
    expect((await echo(listenAddress(deep), payload)).equals(payload)).toBe(true);
    expect(fwd.events.filter((e) => e.event === 'log' && e.level === 'warn')).toEqual([]);
    fwd.child.kill('SIGINT');
    expect(await fwd.exited).toBe(130);

    // The relay saw the session to login (node17 is reached through it) come through nginx
    // (X-Forwarded-For), and nginx switched protocols.
    const opened = (await inner.logs()).filter((e) => e.event === 'tunnel-open');
    expect(opened.length).toBeGreaterThanOrEqual(1);
    for (const event of opened) expect(event.forwardedFor).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await nginx.logs()).toMatch(/"GET \/ssh\?target=login%3A22 HTTP\/1\.1" 101 /);
    expect(JSON.stringify(fwd.events) + fwd.stderr() + (await nginx.logs())).not.toContain(token);
  });

  it('fails with RELAY_UNAUTHORIZED (no retry loop) on a wrong token, without showing it', async () => {
    const file = await home.write('ws-bad.yaml', yaml(relay.url));
    const wrong = newRelayToken();
    await using fwd = startFwd(['up', file, '--json'], { home: home.dir, env: { FWD_RELAY_TOKEN: wrong } });
    const failed = await fwd.waitForEvent(
      (e) => e.event === 'tunnel' && e.tunnel === 'web' && e.state === 'failed',
    );
    expect(failed.error).toMatchObject({ code: 'RELAY_UNAUTHORIZED' });
    expect(await fwd.exited).toBe(1);
    expect(JSON.stringify(fwd.events) + fwd.stderr()).not.toContain(wrong);
  });
});

describe('fwd relay as a process', () => {
  it('reads its token file again on SIGHUP without dropping anything, and drains on SIGTERM (exit 0)', async () => {
    await using home = await tempHome({ prefix: 'fwd-relay-hup-' });
    const first = newRelayToken();
    const second = newRelayToken();
    const tokenFile = await home.write('tokens', `${first}\n`);
    await using relay = startFwd(
      ['relay', '--listen', '127.0.0.1:0', '--allow', 'login:22', '--token-file', tokenFile],
      { home: home.dir },
    );
    await relay.waitForEvent((e) => e.event === 'listening');
    await writeFile(tokenFile, `${second}\n`);
    relay.child.kill('SIGHUP');
    expect(await relay.waitForEvent((e) => e.event === 'tokens-replaced')).toMatchObject({ tokens: 1 });
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
    expect(relay.events.map((e) => e.event)).toEqual(expect.arrayContaining(['shutdown', 'closed']));
    expect(JSON.stringify(relay.events) + relay.stderr()).not.toMatch(new RegExp(`${first}|${second}`));
  });
});
