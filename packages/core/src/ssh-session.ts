import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { type WindowTuning, windowTuning } from './channel-window.js';
import { DEFAULTS } from './defaults.js';
import {
  type BindAddress,
  type ForwardTarget,
  formatEndpoint,
  isSocketPath,
  type TcpAddress,
} from './endpoints.js';
import { fromChannelOpenError, fromSshError } from './error-translation.js';
import { abortError, FwdError } from './errors.js';
import { listenForward } from './forward-listener.js';
import type { ListeningForward } from './listening-forward.js';
import { PendingOpens } from './pending-opens.js';
import type { RemoteForward } from './remote-forward.js';
import { RemoteListens } from './remote-listens.js';
import { type CommandResult, type RunCommandOptions, runCommand } from './run-command.js';
import { countReadsAsConsumed, tuneReceiveWindow } from './ssh2-adapter.js';
import type { Transport } from './transport.js';

export interface LocalForwardOptions {
  /** Default host 127.0.0.1: private to this machine unless asked. */
  bind: BindAddress;
  target: ForwardTarget;
  signal?: AbortSignal;
}

export interface RemoteForwardOptions {
  /** What the server listens on; default host `localhost` (server loopback), port 0 = server picks. */
  bind: BindAddress;
  /** Where connections go on this side. */
  target: ForwardTarget;
  signal?: AbortSignal;
}

export interface DynamicForwardOptions {
  /** Default host 127.0.0.1. */
  bind: BindAddress;
  signal?: AbortSignal;
}

export interface SessionEvents {
  /** The session ended; the reason is undefined for a close we asked for. */
  close: [FwdError | undefined];
}

/**
 * An authenticated SSH connection. Opens forwards and channels; closing it closes them all.
 *
 * @example
 * await using ssh = await connect({ transport: tcpTransport({ host: 'login' }), username: 'alice', agent });
 * await using l = await ssh.forwardLocal({ bind: { port: 0 }, target: { host: 'localhost', port: 8888 } });
 * console.log(l.address);
 */
export class SshSession extends EventEmitter<SessionEvents> implements AsyncDisposable {
  /** "alice@login:22": how messages name this session. */
  readonly where: string;
  /** Settles when the session is gone, with the reason (undefined for a requested close). Never rejects. */
  readonly closed: Promise<FwdError | undefined>;
  readonly #client: Client;
  /** Receive-window policy of this session's forwarded channels (channel-window.ts). */
  readonly #window: WindowTuning;
  readonly #owned = new Set<{ close(): Promise<void> }>();
  readonly #remotes: RemoteListens;
  readonly #opens = new PendingOpens(DEFAULTS.channelOpenTimeoutMs);
  #closeReason: FwdError | undefined;
  #ended = false;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link connect}. */
  constructor(client: Client, where: string, window: WindowTuning = windowTuning()) {
    super();
    this.#client = client;
    this.where = where;
    this.#window = window;
    this.closed = new Promise<FwdError | undefined>((resolve) => {
      client.on('error', (err) => {
        this.#closeReason ??= fromSshError(err, where);
      });
      client.once('close', () => {
        this.#ended = true;
        const reason = this.#closing
          ? undefined
          : (this.#closeReason ??
            new FwdError('TRANSPORT_CLOSED', `connection to ${where} closed by the server or the network`));
        this.#remotes.abandonAll(reason ?? new FwdError('TRANSPORT_CLOSED', `session to ${where} closed`));
        resolve(reason);
        this.emit('close', reason);
      });
    });
    this.#remotes = new RemoteListens(
      client,
      where,
      () => this.alive,
      (channel) => this.#tuned(channel),
    );
  }

  /** True until the connection is lost or closed. */
  get alive(): boolean {
    return !this.#ended && !this.#closing;
  }

  /**
   * Opens a channel to `target` as seen from the server: direct-tcpip for TCP,
   * direct-streamlocal for a unix socket. Rejects with CHANNEL_REFUSED, TRANSPORT_CLOSED,
   * CHANNEL_OPEN_TIMEOUT (no answer within DEFAULTS.channelOpenTimeoutMs) or when `signal` aborts.
   */
  openChannel(
    target: ForwardTarget,
    origin: TcpAddress = { host: DEFAULTS.bindHost, port: 0 },
    signal?: AbortSignal,
  ): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      if (!this.alive) {
        return reject(new FwdError('TRANSPORT_CLOSED', `session to ${this.where} is closed`));
      }
      const what = formatEndpoint(target);
      // ssh2 cannot withdraw an open request: a late confirmation is closed at once instead.
      let settled = false;
      const onAbort = (): void => settle(abortError(signal, `open ${what}`));
      const untrack = this.#opens.add(() =>
        settle(new FwdError('CHANNEL_OPEN_TIMEOUT', `${this.where} did not answer opening ${what}`)),
      );
      const settle = (result: Error | Duplex): void => {
        if (settled) return;
        settled = true;
        untrack();
        signal?.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const sent = performance.now();
      const done = (err: Error | undefined, channel: ClientChannel): void => {
        if (settled) return void channel?.close();
        if (err) return void settle(fromChannelOpenError(err, what, this.where));
        // An open is one round trip (plus the server's connect): a first estimate for window sizing.
        this.#window.rtt.sample(performance.now() - sent);
        settle(this.#tuned(channel));
      };
      try {
        if (isSocketPath(target)) this.#client.openssh_forwardOutStreamLocal(target.path, done);
        else this.#client.forwardOut(origin.host, origin.port, target.host, target.port, done);
      } catch (err) {
        settle(fromChannelOpenError(err, what, this.where));
      }
    });
  }

  /**
   * Lets the window of a channel follow this session's tuning once a forward's pipe carries it
   * (the pipe reports consumption); other consumers (jump hosts, probes) keep ssh2's window.
   */
  #tuned<T extends Duplex>(channel: T): T {
    return tuneReceiveWindow(channel, this.#window);
  }

  /** `-L`: listen here, carry each connection to `target` on the far side. */
  async forwardLocal(options: LocalForwardOptions): Promise<ListeningForward> {
    const forward = await listenForward(
      { kind: 'local', bind: options.bind, target: options.target },
      (t, origin, signal) => this.openChannel(t, origin, signal),
      options.signal ? { signal: options.signal } : {},
    );
    return this.#own(forward);
  }

  /** `-D`: a SOCKS5/4a proxy here; every CONNECT becomes a channel from the server. */
  async forwardDynamic(options: DynamicForwardOptions): Promise<ListeningForward> {
    const forward = await listenForward(
      { kind: 'dynamic', bind: options.bind },
      (t, origin, signal) => this.openChannel(t, origin, signal),
      options.signal ? { signal: options.signal } : {},
    );
    return this.#own(forward);
  }

  /** `-R`: the server listens, each connection comes back here to `target`. */
  async forwardRemote(options: RemoteForwardOptions): Promise<RemoteForward> {
    if (options.signal?.aborted) throw abortError(options.signal, 'remote forward');
    const forward = await this.#remotes.listen(options.bind, options.target);
    options.signal?.addEventListener('abort', () => void forward.close(), { once: true });
    return this.#own(forward);
  }

  /**
   * A Transport whose stream is a channel of this session to `target`: ProxyJump. Chains are
   * transports of sessions opened over transports.
   */
  transportTo(target: TcpAddress): Transport {
    return {
      description: `${this.where} → ${formatEndpoint(target)}`,
      endpoint: target,
      connect: async (signal) => {
        if (signal.aborted) throw abortError(signal, `jump to ${formatEndpoint(target)}`);
        const channel = await this.openChannel(target);
        if (signal.aborted) {
          channel.destroy();
          throw abortError(signal, `jump to ${formatEndpoint(target)}`);
        }
        // An SSH transport is never half-open: when the far sshd hangs up (e.g. a node refusing
        // the login), close our side too, or the session on top waits out its handshake timeout.
        channel.once('end', () => channel.end());
        // A session behind a jump host downloads through this channel: size its window to the path.
        countReadsAsConsumed(channel);
        return channel;
      },
    };
  }

  /**
   * Sends a keepalive now; resolves true if the server answers within `timeoutMs`. Used after a
   * suspected sleep or network change, when waiting for the regular keepalive would take too long.
   * A session that does not answer is closed with KEEPALIVE_TIMEOUT.
   */
  probe(timeoutMs: number): Promise<boolean> {
    if (!this.alive) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#closeReason ??= new FwdError(
          'KEEPALIVE_TIMEOUT',
          `${this.where} did not answer a probe in ${timeoutMs} ms`,
        );
        this.#client.destroy();
        resolve(false);
      }, timeoutMs);
      // ssh2 has no public ping: queue a reply callback and send keepalive@openssh.com, as its own keepalive does.
      const internals = this.#client as unknown as {
        _callbacks: Array<(err?: unknown) => void>;
        _protocol: { ping(): void };
      };
      internals._callbacks.push((err?: unknown) => {
        clearTimeout(timer);
        resolve(!(err instanceof Error));
      });
      internals._protocol.ping();
    });
  }

  /** Runs a command on the server (used for Slurm); output is capped, never streamed. */
  exec(command: string, options: RunCommandOptions = {}): Promise<CommandResult> {
    return runCommand(this.#client, this.where, command, options);
  }

  /** Closes every forward of this session (stop accepting, end channels), then the connection. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#owned].map((f) => f.close()));
      if (!this.#ended) {
        this.#client.end();
        // A transport that cannot deliver our goodbye must not hold close() hostage.
        const timer = setTimeout(() => this.#client.destroy(), 2_000);
        await this.closed;
        clearTimeout(timer);
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #own<T extends { close(): Promise<void>; closed: Promise<void> }>(forward: T): T {
    this.#owned.add(forward);
    void forward.closed.then(() => this.#owned.delete(forward));
    return forward;
  }
}
