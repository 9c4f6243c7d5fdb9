import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { corkForThisTick } from '@fwd/core';
import WebSocket from 'ws';

/** Bytes the relay lets queue towards a client before it stops reading the SSH host. */
const CLIENT_HIGH_WATER = 256 * 1024;

/** After the client has gone, how long the host gets to close its side before it is cut. */
const TARGET_LINGER_MS = 10_000;

/** Close codes the relay sends; 4000–4999 are private-use in RFC 6455. */
export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  targetFailed: 1011,
  idle: 4000,
} as const;

/** Byte totals, mutated in place on the hot path. */
export interface RelayCounters {
  bytesToTarget: number;
  bytesFromTarget: number;
}

export interface TunnelOptions {
  /** Close the tunnel after this long without a byte either way; 0 = never. */
  idleTimeoutMs: number;
  /** Totals for the whole relay, added to as bytes pass. */
  totals: RelayCounters;
}

/**
 * One client websocket joined to one TCP connection to the SSH host: binary messages become
 * bytes and bytes become binary messages, with backpressure both ways. The relay never looks
 * inside: it carries SSH ciphertext.
 */
export class RelayTunnel {
  readonly counters: RelayCounters = { bytesToTarget: 0, bytesFromTarget: 0 };
  readonly openedAt: number = Date.now();
  /** Resolves with why the tunnel ended once both the websocket and the TCP socket are closed. */
  readonly done: Promise<string>;
  /** Cleared by the relay's heartbeat before each ping; set by any pong or message. */
  alive = true;
  readonly #ws: WebSocket;
  readonly #target: Socket;
  #reason: string | undefined;

  constructor(ws: WebSocket, clientSocket: Duplex, target: Socket, options: TunnelOptions) {
    this.#ws = ws;
    this.#target = target;
    const { counters } = this;
    const { totals } = options;
    let targetPaused = false;
    let wsClosed = false;
    let targetClosed = false;
    let settle!: (reason: string) => void;
    this.done = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const finish = (): void => {
      if (wsClosed && targetClosed) settle(this.#reason ?? 'closed');
    };

    // SSH host → client. Stop reading the host while too much waits for the client.
    target.on('data', (chunk: Buffer) => {
      counters.bytesFromTarget += chunk.length;
      totals.bytesFromTarget += chunk.length;
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(chunk);
      if (!targetPaused && ws.bufferedAmount >= CLIENT_HIGH_WATER) {
        targetPaused = true;
        target.pause();
      }
    });
    clientSocket.on('drain', () => {
      if (targetPaused) {
        targetPaused = false;
        target.resume();
      }
    });

    // Client → SSH host. Stop reading the websocket while the host's socket is full.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.alive = true;
      if (!isBinary) {
        this.#end(CLOSE_CODES.unsupportedData, 'binary messages only', 'client sent a text message');
        return;
      }
      counters.bytesToTarget += data.length;
      totals.bytesToTarget += data.length;
      // The messages of one read arrive in one tick: one writev for them, not a write each.
      corkForThisTick(target);
      if (!target.write(data) && !ws.isPaused) ws.pause();
    });
    target.on('drain', () => {
      if (ws.isPaused) ws.resume();
    });
    ws.on('pong', () => {
      this.alive = true;
    });

    // A websocket has no half-close: the host's EOF ends the tunnel, flushing what is queued.
    target.on('end', () => this.#end(CLOSE_CODES.normal, 'target closed', 'target closed'));
    target.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'error';
      this.#end(CLOSE_CODES.targetFailed, `target connection failed (${code})`, `target error ${code}`);
    });
    target.on('close', () => {
      targetClosed = true;
      if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE_CODES.normal, 'target closed');
      finish();
    });
    if (options.idleTimeoutMs > 0) {
      target.setTimeout(options.idleTimeoutMs, () =>
        this.#end(CLOSE_CODES.idle, 'idle timeout', `idle for ${options.idleTimeoutMs} ms`),
      );
    }

    ws.on('error', (err: Error) => {
      this.#reason ??= `client error: ${err.message}`;
    });
    ws.on('close', (code: number) => {
      wsClosed = true;
      this.#reason ??= code === 1000 || code === 1005 ? 'client closed' : `client closed (${code})`;
      if (code === 1000 || code === 1005) {
        // Deliver what the client sent before its close; discard whatever the host still says.
        target.resume();
        target.end();
        target.setTimeout(TARGET_LINGER_MS, () => target.destroy());
      } else {
        target.destroy();
      }
      finish();
    });
  }

  /** The subprotocol the relay selected ('fwd.v1', 'binary'), or '' for none. */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** Bytes waiting in the relay for either side: bounded by backpressure, whatever the peers do. */
  get queuedBytes(): number {
    return this.#ws.bufferedAmount + this.#target.writableLength;
  }

  /** Sends a ping; the relay's heartbeat calls this after clearing {@link alive}. */
  ping(): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping();
  }

  /** Ends the tunnel from the relay's side (shutdown, dead client). */
  close(code: number, reason: string): void {
    this.#end(code, reason, reason);
  }

  /** Drops both connections at once, without a close handshake. */
  terminate(reason: string): void {
    this.#reason ??= reason;
    this.#target.destroy();
    this.#ws.terminate();
  }

  #end(code: number, wireReason: string, logReason: string): void {
    this.#reason ??= logReason;
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(code, wireReason);
    if (code === CLOSE_CODES.normal) this.#target.end();
    else this.#target.destroy();
  }
}
