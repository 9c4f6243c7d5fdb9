import { EventEmitter } from 'node:events';
import { lstat, unlink } from 'node:fs/promises';
import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectionSet, SOCKET_HIGH_WATER_MARK } from './connection-set.js';
import {
  type BindAddress,
  type ChannelOpener,
  type ForwardTarget,
  formatEndpoint,
  isSocketPath,
  type SocketPath,
  type TcpAddress,
} from './endpoints.js';
import { fromBindError } from './error-translation.js';
import { abortError, asFwdError, FwdError } from './errors.js';
import type { ByteCounters } from './pipe.js';

/** Live figures of one forward, read by status tables and metrics. */
export interface ForwardStats extends ByteCounters {
  connectionsOpen: number;
  connectionsTotal: number;
  connectionErrors: number;
}

export interface ConnectionInfo {
  readonly id: number;
  readonly from: string;
  readonly target: ForwardTarget;
}

export interface ConnectionClosedInfo extends ConnectionInfo, ByteCounters {
  readonly error: Error | undefined;
}

/** Events of a forward; `connection-failed` carries why a connection could not be carried. */
export interface ForwardEvents {
  connection: [ConnectionInfo];
  'connection-closed': [ConnectionClosedInfo];
  'connection-failed': [{ readonly id: number; readonly from: string; readonly error: FwdError }];
  close: [];
}

/** How a forward learns a connection's target, and tells the client the outcome (SOCKS does). */
export interface Negotiator {
  /** Resolves with the target, or undefined when the client gave up or spoke garbage. */
  target(socket: Socket): Promise<ForwardTarget | undefined>;
  opened?(socket: Socket): void;
  /** Tells the client why, in its protocol; true if the socket then closes on its own (no reset). */
  failed?(socket: Socket, error: FwdError): boolean | undefined;
}

export interface ListenOptions {
  bind: BindAddress;
  /**
   * Called for each new connection before anything is read from it: resolves when it may
   * proceed, rejects (a FwdError) to refuse it. A tunnel holds early connections here until it
   * is ready. `signal` aborts when the forward closes.
   */
  admit?: (socket: Socket, signal: AbortSignal) => Promise<void>;
  /** Mode of a unix-socket listener; private to the user by default. */
  socketMode?: number;
  backlog?: number;
  signal?: AbortSignal;
}

/**
 * A local listener whose connections are carried over SSH channels: the engine of `-L` and
 * `-D`. Listening survives the session: channels come from `opener`, which may wait for a
 * reconnect. Close stops accepting, then ends every channel.
 */
export class ListeningForward extends EventEmitter<ForwardEvents> implements AsyncDisposable {
  /** Live figures: connections open/total/failed, bytes each way. */
  get stats(): ForwardStats {
    return this.#connections.stats;
  }
  /** Resolves once the listener and every connection are closed. */
  readonly closed: Promise<void>;
  readonly #server: Server;
  readonly #opener: ChannelOpener;
  readonly #negotiator: Negotiator;
  readonly #connections: ConnectionSet = new ConnectionSet(this);
  readonly #pending = new Set<Socket>();
  readonly #closed = new AbortController();
  #admit: ListenOptions['admit'];
  #address: TcpAddress | SocketPath | undefined;
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;

  private constructor(server: Server, opener: ChannelOpener, negotiator: Negotiator) {
    super();
    this.#server = server;
    this.#opener = opener;
    this.#negotiator = negotiator;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Binds and resolves once listening; rejects with BIND_IN_USE / BIND_DENIED / ABORTED. */
  static async listen(
    opener: ChannelOpener,
    negotiator: Negotiator,
    options: ListenOptions,
  ): Promise<ListeningForward> {
    // A 16 KiB write buffer is smaller than one SSH packet: every packet would stall the channel.
    const server = createServer({
      allowHalfOpen: true,
      pauseOnConnect: true,
      noDelay: true,
      highWaterMark: SOCKET_HIGH_WATER_MARK,
    });
    const forward = new ListeningForward(server, opener, negotiator);
    forward.#admit = options.admit;
    server.on('connection', (socket) => forward.#accept(socket));
    await bind(server, options);
    const addr = server.address();
    forward.#address = isSocketPath(options.bind)
      ? { path: options.bind.path }
      : { host: (addr as AddressInfo).address, port: (addr as AddressInfo).port };
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) void forward.close();
      else signal.addEventListener('abort', () => void forward.close(), { once: true });
    }
    return forward;
  }

  /** The address actually bound (the real port when 0 was asked). */
  get address(): TcpAddress | SocketPath {
    if (!this.#address) throw new FwdError('TRANSPORT_CLOSED', 'forward is not listening');
    return this.#address;
  }

  /** Stop accepting, end every channel, close every client socket. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed.abort();
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      // Connections refused just before (a tunnel that failed closes its hold, then its listeners)
      // are told why first, e.g. a browser's 503; the ones still pending after that are dropped.
      await new Promise<void>((resolve) => setImmediate(resolve));
      for (const socket of this.#pending) socket.destroy();
      await Promise.all([stopped, this.#connections.abortAll()]);
      this.#resolveClosed();
      this.emit('close');
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #accept(socket: Socket): Promise<void> {
    if (this.#closing) return void socket.destroy();
    const id = this.#connections.nextId();
    const from = socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'local socket';
    this.#pending.add(socket);
    // Until piping starts, a client error must not become an uncaught exception.
    const onEarlyError = (): void => undefined;
    socket.on('error', onEarlyError);
    let channel: Duplex | undefined;
    let target: ForwardTarget | undefined;
    try {
      if (this.#admit) await this.#admit(socket, this.#closed.signal);
      if (socket.destroyed) return;
      target = await this.#negotiator.target(socket);
      if (target === undefined || socket.destroyed) return void socket.destroy();
      const origin = { host: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 };
      channel = await this.#opener(target, origin);
    } catch (err) {
      const error = asFwdError(err, 'CHANNEL_REFUSED');
      const answered = this.#negotiator.failed?.(socket, error) === true;
      // A reset tells the client the truth (refused), where a clean FIN would look like an empty reply.
      if (!answered && !socket.destroyed) socket.resetAndDestroy();
      this.#connections.failed(id, from, error);
      return;
    } finally {
      this.#pending.delete(socket);
      socket.off('error', onEarlyError);
    }
    if (socket.destroyed || this.#closing) {
      channel.destroy();
      if (!socket.destroyed) socket.destroy();
      return;
    }
    this.#negotiator.opened?.(socket);
    this.#connections.carry(socket, channel, { id, from, target });
  }
}

// A browser opening dozens of connections at once, or a burst of 2000, must not overflow the
// accept queue: dropped SYNs are retried only after 1 s (ssh -L uses 128). The kernel caps this
// at net.core.somaxconn (4096 on current Linux).
const DEFAULT_BACKLOG = 4096;

async function bind(server: Server, options: ListenOptions): Promise<void> {
  const { bind: where, signal } = options;
  if (signal?.aborted) throw abortError(signal, `listen on ${formatEndpoint(where)}`);
  try {
    await listenOnce(server, where, options.backlog ?? DEFAULT_BACKLOG, options.socketMode);
  } catch (err) {
    if (isSocketPath(where) && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      // A socket file left by a dead process goes; anything else at that path is the user's.
      if (!(await removeIfStaleSocket(where.path))) throw pathInUse(where.path, err);
      try {
        return await listenOnce(server, where, options.backlog ?? DEFAULT_BACKLOG, options.socketMode);
      } catch (again) {
        throw fromBindError(again, formatEndpoint(where));
      }
    }
    throw fromBindError(err, formatEndpoint(where));
  }
}

/** Removes `path` only if it is a unix socket nobody answers on; true if it did. */
async function removeIfStaleSocket(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isSocket() || !(await isStale(path))) return false;
  await unlink(path);
  return true;
}

function pathInUse(path: string, cause: unknown): FwdError {
  return new FwdError(
    'BIND_IN_USE',
    `${path} is already in use: another program listens there, or it is not a socket (a file, directory or link fwd will not remove); pick another path`,
    { cause },
  );
}

function listenOnce(
  server: Server,
  where: BindAddress,
  backlog: number,
  socketMode: number | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (isSocketPath(where)) {
      // umask, not chmod after bind: no window in which another user can connect.
      const previous = process.umask(0o777 & ~(socketMode ?? 0o600));
      try {
        server.listen({ path: where.path, backlog }, onListening);
      } finally {
        process.umask(previous);
      }
    } else {
      server.listen({ host: where.host ?? '127.0.0.1', port: where.port, backlog }, onListening);
    }
  });
}

function isStale(path: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = createConnection({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
