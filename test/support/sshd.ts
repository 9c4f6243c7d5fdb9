import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConnectOptions, knownHosts, tcpTransport } from '@fwd/core';
import { Network, type StartedNetwork, type StartedTestContainer, Wait } from 'testcontainers';
import { type KeyPair, newKeyPair } from './keys.js';
import { LoopbackContainer } from './loopback-container.js';
import { tempDir } from './temp-dir.js';

/** Loopback-only targets the fwd/sshd image runs inside the container (see docker/sshd/fwd-target.py). */
export const TARGETS = {
  echo: 7001,
  sink: 7002,
  source: 7003,
  reset: 7004,
  http: 8080,
  unixEcho: '/home/alice/echo.sock',
} as const;

export interface StartSshdOptions {
  /** Join this Docker network under `alias` (for jump-host tests). */
  network?: StartedNetwork;
  alias?: string;
  /** Publish port 22 on 127.0.0.1 (default true); a host behind a jump is not published. */
  publish?: boolean;
  /** A fixed host port, for tests that restart the container and need the same address. */
  hostPort?: number;
  /** The server's host key pair (default: a fresh one). */
  hostKey?: KeyPair;
  /** The client key authorised for alice (default: a fresh one). */
  clientKey?: KeyPair;
  /** Another image with the same conventions (docker/sshd-auth: certificates, TOTP). */
  image?: string;
  /** More environment for the entrypoint (e.g. TRUSTED_USER_CA_KEYS for docker/sshd-auth). */
  environment?: Record<string, string>;
}

export interface Sshd extends AsyncDisposable {
  readonly host: '127.0.0.1';
  /** The mapped port on 127.0.0.1 (0 when not published). */
  readonly port: number;
  readonly username: 'alice';
  readonly clientKey: KeyPair;
  readonly hostKey: KeyPair;
  /** The known_hosts line for this server as published: "[127.0.0.1]:PORT ssh-ed25519 AAAA". */
  readonly knownHostsLine: string;
  /** A temp known_hosts file holding that line. */
  readonly knownHostsFile: string;
  readonly container: StartedTestContainer;
  exec(cmd: string[], options?: { user?: string }): Promise<{ exitCode: number; output: string }>;
  /** sshd's own log (LogLevel VERBOSE): who authenticated, how, and what was refused. */
  sshdLog(): Promise<string>;
}

/** Starts the fwd/sshd image and resolves once sshd and its targets answer. */
export async function startSshd(options: StartSshdOptions = {}): Promise<Sshd> {
  const hostKey = options.hostKey ?? newKeyPair();
  const clientKey = options.clientKey ?? newKeyPair();
  let builder = new LoopbackContainer(options.image ?? 'fwd/sshd')
    .withEnvironment({ AUTHORIZED_KEYS: clientKey.publicKey, ...options.environment })
    .withCopyContentToContainer([
      { content: hostKey.privateKey, target: '/etc/ssh/ssh_host_ed25519_key', mode: 0o600 },
    ])
    .withIPv6Loopback()
    .withWaitStrategy(Wait.forLogMessage('fwd-sshd ready'))
    .withStartupTimeout(30_000);
  if (options.publish !== false) {
    builder = builder.withLoopbackPorts(options.hostPort ? { container: 22, host: options.hostPort } : 22);
  }
  if (options.network) builder = builder.withNetwork(options.network);
  if (options.alias) builder = builder.withNetworkAliases(options.alias);
  const container = await builder.start();
  const port = options.publish === false ? 0 : container.getMappedPort(22);
  const knownHostsLine = `[127.0.0.1]:${port} ${hostKey.publicKey}`;
  const dir = await tempDir('fwd-sshd-');
  const knownHostsFile = join(dir.path, 'known_hosts');
  await writeFile(knownHostsFile, `${knownHostsLine}\n`);
  return {
    host: '127.0.0.1',
    port,
    username: 'alice',
    clientKey,
    hostKey,
    knownHostsLine,
    knownHostsFile,
    container,
    async exec(cmd, execOptions) {
      const result = await container.exec(cmd, execOptions?.user ? { user: execOptions.user } : {});
      return { exitCode: result.exitCode, output: result.output };
    },
    async sshdLog() {
      return (await container.exec(['cat', '/var/log/sshd.log'])).output;
    },
    async [Symbol.asyncDispose]() {
      await container.stop({ timeout: 1_000 });
      await dir[Symbol.asyncDispose]();
    },
  };
}

export interface SshdNetwork<T extends readonly unknown[]> extends AsyncDisposable {
  readonly network: StartedNetwork;
  /** The servers, in the order asked. */
  readonly sshds: { -readonly [K in keyof T]: Sshd };
}

/**
 * Several sshds on one fresh Docker network, each under its alias, all authorising `clientKey`:
 * a jump host published on loopback and hosts only it can reach (`publish: false`). Disposing
 * stops them all, then the network.
 */
export async function startSshdNetwork<const T extends readonly (StartSshdOptions & { alias: string })[]>(
  servers: T,
  clientKey: KeyPair = newKeyPair(),
): Promise<SshdNetwork<T>> {
  const network = await new Network().start();
  const started = await Promise.allSettled(servers.map((s) => startSshd({ ...s, network, clientKey })));
  const sshds = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const dispose = async (): Promise<void> => {
    await Promise.all(sshds.map((s) => s[Symbol.asyncDispose]()));
    await network.stop();
  };
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await dispose();
    throw failed.reason;
  }
  return { network, sshds: sshds as SshdNetwork<T>['sshds'], [Symbol.asyncDispose]: dispose };
}

/** Options that reach `sshd` as alice, trusting only its known_hosts file; no credentials yet. */
export function sshdConnectOptions(sshd: Sshd, overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    transport: tcpTransport({ host: sshd.host, port: sshd.port }),
    username: sshd.username,
    hostKeys: knownHosts({ files: [sshd.knownHostsFile], globalFiles: [] }),
    ...overrides,
  };
}

/** The same, logging in with the client key `sshd` authorises. */
export function keyLoginOptions(sshd: Sshd, overrides: Partial<ConnectOptions> = {}): ConnectOptions {
  return sshdConnectOptions(sshd, { privateKey: sshd.clientKey.privateKey, ...overrides });
}
