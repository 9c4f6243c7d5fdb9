import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConnectionSet, SOCKET_HIGH_WATER_MARK } from './connection-set.js';
import {
  type ForwardTarget,
  formatEndpoint,
  isSocketPath,
  type SocketPath,
  type TcpAddress,
} from './endpoints.js';
import { fromSocketError } from './error-translation.js';
import type { FwdError } from './errors.js';
import type { ForwardEvents, ForwardStats } from './listening-forward.js';

/** What the server listens on for a remote (`-R`) forward, as granted. */
export type RemoteBinding = TcpAddress | SocketPath;

/** The session-side operations a remote forward needs; implemented by SshSession. */
export interface RemoteListenControl {
  cancel(binding: RemoteBinding): Promise<void>;
  forget(binding: RemoteBinding): void;
}

/**
 * A remote (`-R`) forward: the SSH server listens, and each connection it accepts is carried
 * back over a channel to `target` on this side.
 */
export class RemoteForward extends EventEmitter<ForwardEvents> implements AsyncDisposable {
  /** Where the server listens; for TCP the port is the one it allocated when 0 was asked. */
  readonly remote: RemoteBinding;
  readonly target: ForwardTarget;
  readonly closed: Promise<void>;
  readonly #control: RemoteListenControl;
  readonly #connections: ConnectionSet = new ConnectionSet(this);
  #closing: Promise<void> | undefined;
  #resolveClosed!: () => void;

  constructor(remote: RemoteBinding, target: ForwardTarget, control: RemoteListenControl) {
    super();
    this.remote = remote;
    this.target = target;
    this.#control = control;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Live figures: connections open/total/failed, bytes each way. */
  get stats(): ForwardStats {
    return this.#connections.stats;
  }

  /** The port the server listens on (allocated by it when 0 was requested). */
  get remotePort(): number | undefined {
    return isSocketPath(this.remote) ? undefined : this.remote.port;
  }

  /** Called by the session for each connection the server forwards to us. */
  handleIncoming(from: string, accept: () => Duplex, reject: () => void): void {
    if (this.#closing) {
      reject();
      return;
    }
    const id = this.#connections.nextId();
    // Node honours highWaterMark here (it reaches the Duplex options); @types/node omits it.
    const buffering = { allowHalfOpen: true, highWaterMark: SOCKET_HIGH_WATER_MARK } as {
      allowHalfOpen: true;
    };
    const socket: Socket = isSocketPath(this.target)
      ? netConnect({ path: this.target.path, ...buffering })
      : netConnect({ host: this.target.host, port: this.target.port, noDelay: true, ...buffering });
    socket.pause();
    const onError = (err: Error): void => {
      reject();
      const error = fromSocketError(err, `${formatEndpoint(this.target)} (the -R target, on this machine)`);
      this.#connections.failed(id, from, error);
    };
    socket.once('error', onError);
    // Accept the channel only once the local target answers, so a dead target reads as refused.
    socket.once('connect', () => {
      socket.off('error', onError);
      if (this.#closing) {
        socket.destroy();
        return reject();
      }
      this.#connections.carry(socket, accept(), { id, from, target: this.target });
    });
  }

  /** Ask the server to stop listening, and end every connection. Idempotent. */
  close(): Promise<void> {
    return this.#shutdown(true);
  }

  /** The session ended under us: no cancel request can be sent, only local teardown. */
  abandon(reason: FwdError): void {
    void this.#shutdown(false, reason);
  }

  #shutdown(cancelOnServer: boolean, reason?: FwdError): Promise<void> {
    this.#closing ??= (async () => {
      if (cancelOnServer) await this.#control.cancel(this.remote).catch(() => undefined);
      this.#control.forget(this.remote);
      await this.#connections.abortAll(reason);
      this.#resolveClosed();
      this.emit('close');
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
