import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ReceiveWindow } from './channel-window.js';
import { corkForThisTick } from './ssh2-adapter.js';

/** Bytes moved by one connection or a whole forward; mutated in place on the hot path. */
export interface ByteCounters {
  bytesToRemote: number;
  bytesFromRemote: number;
}

// Process-wide, so an application can notice forwarding go quiet without a hook per connection.
let bytesPipedInProcess = 0;

/** Bytes every pipe of this process has moved, both ways, since it started. */
export function bytesPiped(): number {
  return bytesPipedInProcess;
}

/** A running connection between a local socket and a remote stream (an SSH channel). */
export interface Pipe {
  /** Settles once both sides are closed: with the first error seen, or undefined. Never rejects. */
  readonly done: Promise<Error | undefined>;
  /** Tears both sides down at once (session lost, forward closed). Idempotent. */
  abort(reason?: Error): void;
}

/**
 * Moves bytes both ways between `local` and `remote`, with backpressure, half-close propagated
 * in both directions (EOF is not close), and teardown of both sides exactly once.
 *
 * `local` must be a socket created with `allowHalfOpen: true`; `remote` an ssh2 channel (or any
 * Duplex) opened with half-close allowed. Counts go to `counters` (and `alsoCount`, e.g. the
 * forward's totals) without allocating per chunk. With `window`, the remote's receive window is
 * granted as the local socket accepts the bytes: a slow local reader closes it.
 */
export function pipeBothWays(
  local: Socket,
  remote: Duplex,
  counters: ByteCounters,
  alsoCount?: ByteCounters,
  window?: ReceiveWindow,
): Pipe {
  let firstError: Error | undefined;
  let localClosed = false;
  let remoteClosed = false;
  let settle!: (err: Error | undefined) => void;
  const done = new Promise<Error | undefined>((resolve) => {
    settle = resolve;
  });
  const finishIfBothClosed = (): void => {
    if (localClosed && remoteClosed) settle(firstError);
  };
  const note = (err: Error): void => {
    firstError ??= err;
  };

  const onLocalData = (chunk: Buffer): void => {
    bytesPipedInProcess += chunk.length;
    counters.bytesToRemote += chunk.length;
    if (alsoCount) alsoCount.bytesToRemote += chunk.length;
    if (!remote.write(chunk)) local.pause();
  };
  // Bytes the local socket took beyond its buffer size: consumed only once it drains.
  let unconsumed = 0;
  const onRemoteData = (chunk: Buffer): void => {
    bytesPipedInProcess += chunk.length;
    counters.bytesFromRemote += chunk.length;
    if (alsoCount) alsoCount.bytesFromRemote += chunk.length;
    // Several SSH packets arrive per socket read: hand them to the client in one writev.
    corkForThisTick(local);
    if (local.write(chunk)) window?.consumed(chunk.length);
    else {
      unconsumed += chunk.length;
      remote.pause();
    }
  };

  local.on('data', onLocalData);
  remote.on('data', onRemoteData);
  remote.on('drain', () => local.resume());
  local.on('drain', () => {
    if (unconsumed > 0) {
      window?.consumed(unconsumed);
      unconsumed = 0;
    }
    remote.resume();
  });

  // EOF travels on as EOF: the other direction stays open until its own end.
  // (Ending a stream twice builds an error object nobody sees; the guards keep that off the path.)
  local.on('end', () => {
    if (!remoteClosed && !remote.writableEnded) remote.end();
  });
  remote.on('end', () => {
    if (!local.destroyed && !local.writableEnded) local.end();
  });

  local.on('error', note);
  remote.on('error', (err: Error) => {
    note(err);
    local.destroy();
  });

  local.on('close', () => {
    localClosed = true;
    local.off('data', onLocalData);
    // Closes the channel (EOF first if not yet sent); its 'close' follows the server's reply.
    if (!remoteClosed) remote.destroy();
    finishIfBothClosed();
  });
  remote.on('close', () => {
    remoteClosed = true;
    window?.close();
    remote.off('data', onRemoteData);
    if (!local.destroyed) {
      // The channel is gone for good: flush what we have to the client, then drop the socket,
      // as OpenSSH does; further client bytes would have nowhere to go.
      local.off('data', onLocalData);
      local.resume();
      if (local.writableFinished) local.destroy();
      else {
        if (!local.writableEnded) local.end();
        local.once('finish', () => local.destroy());
      }
    }
    finishIfBothClosed();
  });

  local.resume();
  return {
    done,
    abort(reason?: Error): void {
      if (reason) note(reason);
      if (!remoteClosed) {
        remote.destroy();
        // Do not wait for the server to confirm the close: it may be the thing that is gone.
        remoteClosed = true;
        window?.close();
        remote.off('data', onRemoteData);
      }
      if (!local.destroyed) local.destroy();
      finishIfBothClosed();
    },
  };
}
