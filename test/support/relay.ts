import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import { Wait } from 'testcontainers';
import { LoopbackContainer } from './loopback-container.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const RELAY_ENTRY = join(REPO, 'packages/cli/dist/commands/relay.js');

/** A random token, long enough for the relay (≥16 characters). */
export function newRelayToken(): string {
  return randomBytes(24).toString('base64url');
}

export interface StartRelayContainerOptions {
  network: StartedNetwork;
  /** `--allow` entries, e.g. ['login:22']. */
  allow: string[];
  tokens: string[];
  /** PEM certificate and key: the relay serves wss:// directly. */
  tls?: { cert: string; key: string };
  /** More `fwd relay` flags (e.g. ['--drain-timeout', '1s']). */
  args?: string[];
  /** A fixed port on 127.0.0.1, for tests that restart the relay and need the same URL. */
  hostPort?: number;
  /** A name on `network`, for a reverse proxy in front of it (fwd/relay-nginx expects `relay`). */
  alias?: string;
  /** Publish nothing: only containers on `network` reach the relay (e.g. through nginx). */
  publish?: boolean;
}

export interface RelayContainer extends AsyncDisposable {
  /** `ws://127.0.0.1:PORT/ssh` (or wss://): the only published port. */
  readonly url: string;
  readonly port: number;
  readonly container: StartedTestContainer;
  /** The relay's structured log so far, one object per line. */
  logs(): Promise<Array<Record<string, unknown>>>;
  /** SIGKILL: the relay dies mid-whatever, with no close frames. */
  kill(): Promise<void>;
  /** Starts a killed relay again (same container, same published port if it was fixed). */
  restart(): Promise<void>;
}

/**
 * Runs `fwd relay` in the fwd/relay image on `network`, publishing only its port 8080 on
 * 127.0.0.1. Node and the built repo are bind-mounted read-only (the image has no Node); run
 * `npx tsc -b` first.
 */
export async function startRelayContainer(options: StartRelayContainerOptions): Promise<RelayContainer> {
  if (!existsSync(RELAY_ENTRY)) throw new Error(`${RELAY_ENTRY} is missing: run \`npx tsc -b\` first`);
  const args = ['--listen', '0.0.0.0:8080', '--allow', options.allow.join(','), ...(options.args ?? [])];
  let builder = new LoopbackContainer('fwd/relay')
    .withNetwork(options.network)
    .withBindMounts([
      { source: process.execPath, target: '/usr/local/bin/node', mode: 'ro' },
      { source: REPO, target: '/opt/fwd', mode: 'ro' },
    ])
    .withEnvironment({ FWD_RELAY_TOKENS: options.tokens.join(',') })
    .withWaitStrategy(Wait.forLogMessage('"event":"listening"'))
    .withStartupTimeout(30_000);
  if (options.publish !== false) {
    builder = builder.withLoopbackPorts(
      options.hostPort ? { container: 8080, host: options.hostPort } : 8080,
    );
  }
  if (options.alias) builder = builder.withNetworkAliases(options.alias);
  if (options.tls) {
    builder = builder.withCopyContentToContainer([
      { content: options.tls.cert, target: '/etc/fwd/relay-cert.pem', mode: 0o644 },
      // Test key only: readable by the image's unprivileged user.
      { content: options.tls.key, target: '/etc/fwd/relay-key.pem', mode: 0o644 },
    ]);
    args.push('--tls-cert', '/etc/fwd/relay-cert.pem', '--tls-key', '/etc/fwd/relay-key.pem');
  }
  const container = await builder.withCommand(args).start();
  const port = options.publish === false ? 0 : container.getMappedPort(8080);
  const logs = async (): Promise<Array<Record<string, unknown>>> => {
    const { stdout } = await run('docker', ['logs', container.getId()], { maxBuffer: 64 * 1024 * 1024 });
    return stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  let killed = false;
  return {
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ssh`,
    port,
    container,
    logs,
    async kill() {
      killed = true;
      await run('docker', ['kill', container.getId()]);
    },
    async restart() {
      await run('docker', ['start', container.getId()]);
    },
    async [Symbol.asyncDispose]() {
      if (killed) await run('docker', ['rm', '-f', container.getId()]).catch(() => {});
      else await container.stop({ timeout: 1_000 });
    },
  };
}

export interface NginxProxy extends AsyncDisposable {
  /** `wss://127.0.0.1:PORT/ssh`: nginx's published TLS port, the only way in. */
  readonly url: string;
  readonly port: number;
  readonly container: StartedTestContainer;
  /** nginx's access and error log. */
  logs(): Promise<string>;
}

/**
 * Runs fwd/relay-nginx on `network`: Debian's nginx terminating TLS with `tls` and passing the
 * websocket upgrade to the relay container aliased `relay` (start that first: nginx resolves it
 * at start). Publishes only 443, on 127.0.0.1.
 */
export async function startNginxProxy(options: {
  network: StartedNetwork;
  tls: { cert: string; key: string };
}): Promise<NginxProxy> {
  const container = await new LoopbackContainer('fwd/relay-nginx')
    .withNetwork(options.network)
    .withCopyContentToContainer([
      { content: options.tls.cert, target: '/etc/nginx/tls/cert.pem', mode: 0o644 },
      { content: options.tls.key, target: '/etc/nginx/tls/key.pem', mode: 0o600 },
    ])
    .withLoopbackPorts(443)
    // Asked inside the container: forListeningPorts() dials the Docker host by the address
    // testcontainers guesses (the bridge gateway when this runs in a container), where the
    // 127.0.0.1-only port is not published.
    .withWaitStrategy(
      Wait.forSuccessfulCommand(
        `awk '$4 == "0A" && $2 ~ /:01BB$/ { up = 1 } END { exit !up }' /proc/net/tcp /proc/net/tcp6`,
      ),
    )
    .withStartupTimeout(30_000)
    .start();
  const port = container.getMappedPort(443);
  return {
    url: `wss://127.0.0.1:${port}/ssh`,
    port,
    container,
    async logs() {
      const { stdout, stderr } = await run('docker', ['logs', container.getId()], {
        maxBuffer: 16 * 1024 * 1024,
      });
      return stdout + stderr;
    },
    async [Symbol.asyncDispose]() {
      await container.stop({ timeout: 1_000 });
    },
  };
}

/**
 * A fresh self-signed certificate (P-256) for `names` (DNS names and IP addresses) from
 * the openssl command line tool.
 */
export async function selfSignedCertificate(names: string[]): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fwd-cert-'));
  try {
    const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${names[0] ?? 'fwd-test'}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    return {
      cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
      key: await readFile(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ConnectProxy extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Every CONNECT target asked for, in order ("127.0.0.1:PORT"). */
  readonly connects: string[];
  /** Bytes carried through established tunnels, both ways. */
  readonly stats: { bytes: number };
}

/**
 * A tiny HTTP CONNECT proxy on 127.0.0.1 that only tunnels to 127.0.0.1 (never anywhere else);
 * with `refuse`, it answers every CONNECT with that status instead.
 */
export async function startConnectProxy(options: { refuse?: number } = {}): Promise<ConnectProxy> {
  const connects: string[] = [];
  const stats = { bytes: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connect', (req, clientSocket: Socket, head: Buffer) => {
    sockets.add(clientSocket);
    clientSocket.on('close', () => sockets.delete(clientSocket));
    clientSocket.on('error', () => clientSocket.destroy());
    const target = req.url ?? '';
    connects.push(target);
    const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(target);
    if (options.refuse || !match) {
      clientSocket.end(`HTTP/1.1 ${options.refuse ?? 403} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const upstream = netConnect({ host: '127.0.0.1', port: Number(match[2]) });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      clientSocket.destroy();
    });
    clientSocket.on('close', () => upstream.destroy());
    upstream.on('error', () => clientSocket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'));
    upstream.once('connect', () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.on('data', (chunk: Buffer) => {
        stats.bytes += chunk.length;
      });
      clientSocket.on('data', (chunk: Buffer) => {
        stats.bytes += chunk.length;
      });
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    stats,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sets proxy variables for the duration of a test; dispose restores the previous environment. */
export function proxyEnvironment(vars: Record<string, string | undefined>): Disposable {
  const names = [
    'HTTPS_PROXY',
    'https_proxy',
    'HTTP_PROXY',
    'http_proxy',
    'ALL_PROXY',
    'all_proxy',
    'NO_PROXY',
    'no_proxy',
  ];
  const saved = new Map(names.map((n) => [n, process.env[n]]));
  for (const name of names) delete process.env[name];
  for (const [name, value] of Object.entries(vars)) if (value !== undefined) process.env[name] = value;
  return {
    [Symbol.dispose]() {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}
