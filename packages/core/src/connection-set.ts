import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FwdError } from './errors.js';
import type { ConnectionInfo, ForwardEvents, ForwardStats } from './listening-forward.js';
import { type ByteCounters, type Pipe, pipeBothWays } from './pipe.js';
import { takeReceiveWindow } from './ssh2-adapter.js';

let nextConnectionId = 1;

/**
 * Buffer size of the sockets at either end of a forward. Node's 16 KiB default is smaller than
 * one SSH packet (32 KiB), so every packet hit backpressure and went out in its own write.
 */
export const SOCKET_HIGH_WATER_MARK: number = 256 * 1024;

/**
 * The live connections of one forward (-L, -R or -D): carries each socket ⇄ channel pair,
 * keeps the forward's figures, reports through the forward's events, and ends them all at close.
 */
export class ConnectionSet {
  readonly stats: ForwardStats = {
    connectionsOpen: 0,
    connectionsTotal: 0,
    connectionErrors: 0,
    bytesToRemote: 0,
    bytesFromRemote: 0,
  };
  readonly #events: EventEmitter<ForwardEvents>;
  readonly #pipes = new Set<Pipe>();

  constructor(events: EventEmitter<ForwardEvents>) {
    this.#events = events;
  }

  /** A process-wide id for a new connection, for events and logs. */
  nextId(): number {
    return nextConnectionId++;
  }

  /** Pipes `socket` and `channel` both ways until both close. */
  carry(socket: Socket, channel: Duplex, info: ConnectionInfo): void {
    const counters: ByteCounters = { bytesToRemote: 0, bytesFromRemote: 0 };
    const pipe = pipeBothWays(socket, channel, counters, this.stats, takeReceiveWindow(channel));
    this.#pipes.add(pipe);
    this.stats.connectionsOpen++;
    this.stats.connectionsTotal++;
    this.#events.emit('connection', info);
    void pipe.done.then((error) => {
      this.#pipes.delete(pipe);
      this.stats.connectionsOpen--;
      this.#events.emit('connection-closed', { ...info, ...counters, error });
    });
  }

  /** A connection that could not be carried (refused channel, dead target, session down). */
  failed(id: number, from: string, error: FwdError): void {
    this.stats.connectionErrors++;
    this.#events.emit('connection-failed', { id, from, error });
  }

  /** Ends every connection at once and resolves when all are closed. */
  async abortAll(reason?: Error): Promise<void> {
    for (const pipe of this.#pipes) pipe.abort(reason);
    await Promise.all([...this.#pipes].map((p) => p.done));
  }
}
