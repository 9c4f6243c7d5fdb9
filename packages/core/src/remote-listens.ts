import type { Duplex } from 'node:stream';
import type { Client, TcpConnectionDetails, UNIXConnectionDetails } from 'ssh2';
import { type BindAddress, type ForwardTarget, isSocketPath } from './endpoints.js';
import { describeRemoteRefusal } from './error-translation.js';
import { FwdError } from './errors.js';
import { type RemoteBinding, RemoteForward } from './remote-forward.js';

/**
 * The server-side listens (`-R`) of one session: asks the server to listen (tcpip-forward,
 * streamlocal-forward), routes each connection it forwards back to the RemoteForward that owns
 * that address, and cancels the listen when the forward closes.
 */
export class RemoteListens {
  readonly #client: Client;
  readonly #where: string;
  readonly #alive: () => boolean;
  readonly #byAddress = new Map<string, RemoteForward>();

  /** `accepted` adapts each accepted channel (receive window tuning) before it is carried. */
  constructor(client: Client, where: string, alive: () => boolean, accepted: (channel: Duplex) => Duplex) {
    this.#client = client;
    this.#where = where;
    this.#alive = alive;
    client.on('tcp connection', (info: TcpConnectionDetails, accept, reject) => {
      const forward = this.#byAddress.get(key({ host: info.destIP, port: info.destPort }));
      if (!forward) return reject();
      forward.handleIncoming(`${info.srcIP}:${info.srcPort}`, () => accepted(accept()), reject);
    });
    client.on('unix connection', (info: UNIXConnectionDetails, accept, reject) => {
      const forward = this.#byAddress.get(key({ path: info.socketPath }));
      if (!forward) return reject();
      forward.handleIncoming(info.socketPath, () => accepted(accept()), reject);
    });
  }

  /** Asks the server to listen on `bind`; resolves once it does (port 0: the port it chose). */
  async listen(bind: BindAddress, target: ForwardTarget): Promise<RemoteForward> {
    const binding = await this.#request(bind);
    const forward = new RemoteForward(binding, target, {
      cancel: (b) => this.#cancel(b),
      forget: (b) => this.#byAddress.delete(key(b)),
    });
    this.#byAddress.set(key(binding), forward);
    return forward;
  }

  /** The session is gone: every forward ends locally (no cancel can reach the server). */
  abandonAll(reason: FwdError): void {
    for (const forward of [...this.#byAddress.values()]) forward.abandon(reason);
  }

  #request(bind: BindAddress): Promise<RemoteBinding> {
    return new Promise<RemoteBinding>((resolve, reject) => {
      const closed = (cause?: unknown) =>
        new FwdError('TRANSPORT_CLOSED', `session to ${this.#where} is closed`, { cause });
      if (!this.#alive()) return reject(closed());
      try {
        if (isSocketPath(bind)) {
          this.#client.openssh_forwardInStreamLocal(bind.path, (err) => {
            if (err) reject(describeRemoteRefusal(bind, this.#where, err));
            else resolve({ path: bind.path });
          });
        } else {
          // The server's loopback unless asked: the SSH default, and private to the server.
          const host = bind.host ?? 'localhost';
          this.#client.forwardIn(host, bind.port, (err, port) => {
            if (err) reject(describeRemoteRefusal({ host, port: bind.port }, this.#where, err));
            else resolve({ host, port: bind.port === 0 ? port : bind.port });
          });
        }
      } catch (err) {
        reject(closed(err));
      }
    });
  }

  #cancel(binding: RemoteBinding): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.#alive()) return resolve();
      try {
        if (isSocketPath(binding)) this.#client.openssh_unforwardInStreamLocal(binding.path, () => resolve());
        else this.#client.unforwardIn(binding.host, binding.port, () => resolve());
      } catch {
        resolve();
      }
    });
  }
}

function key(binding: RemoteBinding): string {
  return isSocketPath(binding) ? `unix:${binding.path}` : `tcp:${binding.host}:${binding.port}`;
}
