import type { Duplex } from 'node:stream';
import type { Algorithms } from 'ssh2';
import { type AuthOptions, AuthPlan } from './auth.js';
import { windowTuning } from './channel-window.js';
import { DEFAULTS } from './defaults.js';
import { formatEndpoint, type TcpAddress } from './endpoints.js';
import { fromSshError } from './error-translation.js';
import { abortError, asFwdError, FwdError } from './errors.js';
import { type HostKeyPolicy, knownHosts } from './host-keys.js';
import { PhaseTimer, suspendingDuringPrompts } from './phase-timer.js';
import { SshSession } from './ssh-session.js';
import { coalesceWrites, ssh2 } from './ssh2-adapter.js';
import type { Transport } from './transport.js';

export interface ConnectOptions extends AuthOptions {
  transport: Transport;
  /** Default: known_hosts in strict mode. There is deliberately no accept-all. */
  hostKeys?: HostKeyPolicy;
  /** SSH keepalive interval; 0 turns it off. Default 15 s. */
  keepaliveMs?: number;
  /** Unanswered keepalives before the session counts as dead. Default 3. */
  keepaliveCountMax?: number;
  /**
   * Bound on the transport's connect, the server's banner and the key exchange (OpenSSH
   * `ConnectTimeout`): a port that accepts but never speaks SSH fails fast. Default 10 s.
   */
  connectTimeoutMs?: number;
  /** Bound on authentication, not counting time spent in prompt callbacks. Default 30 s. */
  authTimeoutMs?: number;
  /** Called once when the first byte from the server arrives (its banner): the path is alive. */
  onServerSpoke?: () => void;
  /** Aborting before ready rejects with ABORTED; after ready it closes the session. */
  signal?: AbortSignal;
  /** ssh2 algorithm preferences (e.g. `{ cipher: ['aes128-gcm@openssh.com'] }`). */
  algorithms?: Algorithms;
  /**
   * Largest receive window of one forwarded channel, bytes. The window starts at OpenSSH's 2 MiB
   * and grows with the path's bandwidth × round trip up to this. Default 32 MiB; 2 MiB = no growth.
   */
  windowBytes?: number;
}

/**
 * Opens an authenticated SSH session over `options.transport`. The host key is verified before
 * any authentication is sent; a changed key fails with HOST_KEY_CHANGED.
 *
 * @example
 * await using ssh = await connect({
 *   transport: tcpTransport({ host: 'login.hpc.example.edu' }),
 *   username: 'alice',
 *   agent: process.env.SSH_AUTH_SOCK,
 *   hostKeys: knownHosts({ mode: 'strict' }),
 * });
 */
export async function connect(options: ConnectOptions): Promise<SshSession> {
  const { transport, signal } = options;
  const endpoint = transport.endpoint;
  const hostPart = endpoint ? formatEndpoint(endpoint) : transport.description;
  const where = `${options.username}@${hostPart}`;
  if (signal?.aborted) throw abortError(signal, `connect to ${where}`);
  const hostKeys = options.hostKeys ?? knownHosts({ mode: 'strict' });
  // Plain timers, re-armed per phase; a prompt waiting for a person suspends the auth bound.
  const attempt = new AbortController();
  const phase = new PhaseTimer(attempt, where);
  // Certificates are checked here, before any traffic; a throw leaves no timer behind.
  const auth = new AuthPlan(suspendingDuringPrompts(options, phase), where);
  phase.arm('connect', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs);
  const onCallerAbort = (): void => attempt.abort(signal?.reason);
  signal?.addEventListener('abort', onCallerAbort, { once: true });
  const connectSignal = attempt.signal;
  let stream: Duplex;
  let algorithms: Algorithms | undefined;
  try {
    // Read before any traffic: a known_hosts file that cannot be read fails here, with nothing to undo.
    algorithms = await preferKnownHostKeyTypes(options.algorithms, hostKeys, endpoint);
    if (connectSignal.aborted) throw abortError(connectSignal, `connect to ${where}`);
    stream = coalesceWrites(await transport.connect(connectSignal));
    const spoke = options.onServerSpoke;
    if (spoke) stream.once('data', () => spoke());
  } catch (err) {
    phase.stop();
    signal?.removeEventListener('abort', onCallerAbort);
    throw err;
  }
  const client = new ssh2.Client();
  let hostKeyError: FwdError | undefined;

  return new Promise<SshSession>((resolve, reject) => {
    let settled = false;
    // What the server said before refusing (pam_slurm_adopt, "account locked") is the best hint.
    let banner: string | undefined;
    client.on('banner', (message: string) => {
      banner = message.replace(/\s+/g, ' ').trim().slice(0, 300) || undefined;
    });
    const finish = (): void => {
      settled = true;
      phase.stop();
      connectSignal.removeEventListener('abort', onAbort);
      signal?.removeEventListener('abort', onCallerAbort);
    };
    const fail = (err: FwdError): void => {
      if (settled) return;
      finish();
      client.destroy();
      stream.destroy();
      // Keep the error object (callers may test its class); only the message gains the banner.
      if (banner && err.code !== 'ABORTED' && !err.code.startsWith('HOST_KEY')) {
        err.message = `${err.message} (the server said: "${banner}")`;
      }
      reject(err);
    };
    const onAbort = (): void => fail(abortError(connectSignal, `connect to ${where}`));
    connectSignal.addEventListener('abort', onAbort, { once: true });
    client.on('error', (err: Error & { level?: string }) => {
      if (hostKeyError) return fail(hostKeyError);
      // ssh2 reports an agent it cannot use, then tries the next method itself.
      if (err.level === 'agent') return auth.agentFailed(err);
      const translated = fromSshError(err, where);
      if (translated.code === 'AUTH_FAILED') {
        return fail(
          new FwdError('AUTH_FAILED', `authentication to ${where} failed: ${auth.describeFailure()}`, {
            cause: err,
          }),
        );
      }
      fail(translated);
    });
    client.once('close', () =>
      fail(
        hostKeyError ?? new FwdError('CONNECT_FAILED', `${where} closed the connection during the handshake`),
      ),
    );
    client.once('handshake', () => phase.arm('auth', options.authTimeoutMs ?? DEFAULTS.authTimeoutMs));
    client.once('ready', () => {
      if (settled) return;
      finish();
      const session = new SshSession(client, where, windowTuning(options.windowBytes));
      if (signal) {
        const onLateAbort = (): void => void session.close();
        signal.addEventListener('abort', onLateAbort, { once: true });
        void session.closed.then(() => signal.removeEventListener('abort', onLateAbort));
      }
      resolve(session);
    });
    client.connect({
      sock: stream,
      username: options.username,
      authHandler: auth.handler(fail),
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        if (!endpoint) {
          hostKeyError = new FwdError(
            'HOST_KEY_UNKNOWN',
            `cannot check the host key: ${transport.description} names no SSH host`,
          );
          return verify(false);
        }
        hostKeys.verify(endpoint.host, endpoint.port, key).then(
          // An attempt that ended meanwhile (aborted, hung, closed) has a destroyed client: ssh2
          // would throw from its torn-down protocol (and crash the process) if answered now.
          () => {
            if (!settled) verify(true);
          },
          (err: unknown) => {
            if (settled) return;
            hostKeyError = asFwdError(err, 'HOST_KEY_UNKNOWN');
            verify(false);
          },
        );
      },
      keepaliveInterval: options.keepaliveMs ?? DEFAULTS.keepaliveMs,
      keepaliveCountMax: options.keepaliveCountMax ?? DEFAULTS.keepaliveCountMax,
      // Our own signal bounds the handshake; ssh2's timer would race it with a vaguer error.
      readyTimeout: 0,
      ...(algorithms ? { algorithms } : {}),
    });
  });
}

const HOST_KEY_ALGORITHMS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const ALL_HOST_KEY_ALGORITHMS = Object.values(HOST_KEY_ALGORITHMS_FOR_TYPE).flat();

/** Like OpenSSH: ask first for a host key type we already know, so a known host never looks changed. */
async function preferKnownHostKeyTypes(
  algorithms: Algorithms | undefined,
  hostKeys: HostKeyPolicy,
  endpoint: TcpAddress | undefined,
): Promise<Algorithms | undefined> {
  if (!endpoint || algorithms?.serverHostKey) return algorithms;
  const known = await hostKeys.knownKeyTypes(endpoint.host, endpoint.port);
  const first = known.flatMap((t) => HOST_KEY_ALGORITHMS_FOR_TYPE[t] ?? []);
  if (first.length === 0) return algorithms;
  const rest = ALL_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a));
  return { ...algorithms, serverHostKey: [...first, ...rest] as NonNullable<Algorithms['serverHostKey']> };
}
