import { Duplex } from 'node:stream';
import { FwdError } from '@fwd/core';
import WebSocket from 'ws';
import { closedError } from './ws-errors.js';

/** Bytes the transport lets queue in the websocket before it holds back the writer (ssh2). */
const WRITE_HIGH_WATER = 256 * 1024;
/** Bytes received but not yet read before the transport stops reading the websocket. */
const READ_HIGH_WATER = 256 * 1024;
/** Larger writes go out as several messages (views, not copies), well under any relay's maxPayload. */
const MAX_MESSAGE = 64 * 1024;

export interface WebsocketDuplexOptions {
  /** The socket under the websocket (TCP or TLS), whose 'drain' releases a held-back write. */
  socket: Duplex;
  /** "relay wss://relay.example/ssh", for messages. */
  where: string;
  /** Ping interval; the stream fails with KEEPALIVE_TIMEOUT when one whole interval passes unanswered. 0 = off. */
  pingIntervalMs: number;
}

/**
 * An open websocket as a byte stream: each write is one binary message, each binary message
 * is one chunk read. Backpressure both ways (hold writes while `bufferedAmount` is high; pause
 * the websocket while the reader is behind). A websocket has no half-close: ending the stream
 * closes the websocket (1000), and a normal close from the relay is EOF.
 */
export class WebsocketDuplex extends Duplex {
  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  readonly #where: string;
  #heldWrite: ((err?: Error | null) => void) | undefined;
  #alive = true;
  #heartbeat: NodeJS.Timeout | undefined;
  #wsError: Error | undefined;
  /** A failure that came before anyone listened for errors; raised at the first read or write. */
  #pendingError: FwdError | undefined;

  constructor(ws: WebSocket, options: WebsocketDuplexOptions) {
    super({ allowHalfOpen: false, readableHighWaterMark: READ_HIGH_WATER, decodeStrings: true });
    this.#ws = ws;
    this.#socket = options.socket;
    this.#where = options.where;
    ws.on('message', this.#onMessage);
    ws.on('pong', this.#onPong);
    ws.on('error', this.#onError);
    ws.on('close', this.#onClose);
    this.#socket.on('drain', this.#onDrain);
    if (options.pingIntervalMs > 0) {
      this.#heartbeat = setInterval(this.#beat, options.pingIntervalMs, options.pingIntervalMs);
      this.#heartbeat.unref();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.#send([chunk], callback);
  }

  /** What ssh2 wrote in one tick (core corks the stream): one message each, one writev for all. */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (err?: Error | null) => void,
  ): void {
    this.#send(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  #send(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    if (this.#pendingError) {
      callback(this.#pendingError);
      return;
    }
    const ws = this.#ws;
    if (ws.readyState !== WebSocket.OPEN) {
      callback(new FwdError('TRANSPORT_CLOSED', `${this.#where} is closed`));
      return;
    }
    this.#socket.cork();
    for (const chunk of chunks) {
      if (chunk.length <= MAX_MESSAGE) ws.send(chunk);
      else
        for (let at = 0; at < chunk.length; at += MAX_MESSAGE) ws.send(chunk.subarray(at, at + MAX_MESSAGE));
    }
    this.#socket.uncork();
    if (ws.bufferedAmount < WRITE_HIGH_WATER) callback();
    else this.#heldWrite = callback;
  }

  override _read(): void {
    if (this.#pendingError) this.destroy(this.#pendingError);
    else if (this.#ws.isPaused) this.#ws.resume();
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000);
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#socket.off('drain', this.#onDrain);
    this.#heldWrite = undefined;
    const ws = this.#ws;
    if (ws.readyState === WebSocket.OPEN) {
      if (err) ws.terminate();
      else ws.close(1000);
    } else if (ws.readyState === WebSocket.CONNECTING || err) {
      ws.terminate();
    }
    callback(err);
  }

  /**
   * The stream is handed over before its consumer attaches (e.g. ssh2 after further awaits); an
   * 'error' with no listener would crash the process, so an early failure waits for first use.
   */
  #fail(err: FwdError): void {
    if (this.destroyed || this.#pendingError) return;
    if (this.listenerCount('error') > 0) {
      this.destroy(err);
      return;
    }
    this.#pendingError = err;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#ws.readyState !== WebSocket.CLOSED) this.#ws.terminate();
    this.#onDrain();
  }

  #onMessage = (data: Buffer, isBinary: boolean): void => {
    if (this.#pendingError) return;
    this.#alive = true;
    if (!isBinary) {
      this.#fail(
        new FwdError('PROTOCOL_ERROR', `${this.#where} sent a text message; SSH needs binary messages`),
      );
      return;
    }
    if (!this.push(data)) this.#ws.pause();
  };

  #onPong = (): void => {
    this.#alive = true;
  };

  #onDrain = (): void => {
    const callback = this.#heldWrite;
    this.#heldWrite = undefined;
    callback?.();
  };

  #onError = (err: Error): void => {
    this.#wsError ??= err;
  };

  #onClose = (code: number, reason: Buffer): void => {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.destroyed || this.#pendingError) return;
    if (code === 1000 || code === 1005) {
      // The relay's normal close is EOF (the SSH host closed); a held write can no longer go anywhere.
      this.#onDrain();
      this.push(null);
      return;
    }
    this.#fail(closedError(code, reason.toString('utf8'), this.#where, this.#wsError));
  };

  #beat = (intervalMs: number): void => {
    if (!this.#alive) {
      this.#fail(
        new FwdError(
          'KEEPALIVE_TIMEOUT',
          `${this.#where} did not answer a ping within ${intervalMs} ms: the relay or the network is gone`,
        ),
      );
      return;
    }
    this.#alive = false;
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.ping();
  };
}
