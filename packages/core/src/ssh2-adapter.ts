import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { Duplex, Writable } from 'node:stream';
import type ssh2Types from 'ssh2';
import { ReceiveWindow, type WindowTuning } from './channel-window.js';

// The one place that adapts ssh2: loads it with two measured fixes to its hot paths, batches its
// per-packet writes, and takes a channel's receive window over (patches/ are the changes that
// cannot be made from outside). Profiles: shared/bench's README and this repo's bench/README.md.
// Behaviour is unchanged; only allocations and system calls go away. Core imports ssh2 from here.

const require = createRequire(import.meta.url);

/**
 * ssh2 fills every packet's padding with its own randomFillSync call (4-6 % of CPU per packet).
 * Padding only has to be unpredictable, so serve it from a pool refilled 64 KiB at a time with
 * the same CSPRNG; bytes are never handed out twice. Large requests go straight through.
 */
const POOL_BYTES = 64 * 1024;
const realRandomFillSync = crypto.randomFillSync;
let pool = Buffer.alloc(0);
let used = 0;
/** @internal Exported for tests. */
export function pooledRandomFillSync<T extends NodeJS.ArrayBufferView>(
  buffer: T,
  offset = 0,
  size?: number,
): T {
  const length = size ?? buffer.byteLength - offset;
  if (length > 256 || !Buffer.isBuffer(buffer)) return realRandomFillSync(buffer, offset, length);
  if (used + length > pool.length) {
    pool = realRandomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    used = 0;
  }
  pool.copy(buffer, offset, used, used + length);
  used += length;
  return buffer;
}

const alreadyLoaded = Object.keys(require.cache).some((path) =>
  path.includes('/ssh2/lib/protocol/crypto.js'),
);

/** Whether ssh2's padding comes from the pool (false if something loaded ssh2 before core did). */
export const paddingPooled: boolean = !alreadyLoaded;

// ssh2 destructures randomFillSync from 'crypto' when its modules load: swap it in for exactly
// that moment, then put the real one back for everyone else.
let loaded: typeof ssh2Types;
if (alreadyLoaded) {
  loaded = require('ssh2') as typeof ssh2Types;
} else {
  (crypto as { randomFillSync: typeof crypto.randomFillSync }).randomFillSync = pooledRandomFillSync;
  try {
    loaded = require('ssh2') as typeof ssh2Types;
  } finally {
    (crypto as { randomFillSync: typeof crypto.randomFillSync }).randomFillSync = realRandomFillSync;
  }
}

/**
 * ssh2's Channel.destroy() is end() + close(); on a channel that has already ended (the normal
 * case at teardown: Node's autoDestroy calls it, and so does a pipe releasing its channel) end()
 * builds an "already finished" error that nobody sees — 2-4 % of CPU per connection. Same effect,
 * without the error object.
 */
const { Channel } = require('ssh2/lib/Channel.js') as {
  Channel: { prototype: { destroy(): unknown; end(): unknown; close(): unknown; writableEnded: boolean } };
};
Channel.prototype.destroy = function destroy(this: typeof Channel.prototype) {
  if (!this.writableEnded) this.end();
  this.close();
  return this;
};

export const ssh2: typeof ssh2Types = loaded;

function uncork(stream: Writable): void {
  stream.uncork();
}

/** For a stream written from one place: cork it until the end of the current tick. */
export function corkForThisTick(stream: Writable): void {
  if (stream.writableCorked === 0) {
    stream.cork();
    process.nextTick(uncork, stream);
  }
}

/**
 * Batches every write made to `stream` (ssh2's socket) within one tick into a single writev:
 * ssh2 writes each SSH packet separately (two or more per 64 KiB read), and one syscall per
 * packet was the largest cost in profiles. The batch is flushed before the event loop continues,
 * so no latency is added.
 */
export function coalesceWrites<T extends Writable>(stream: T): T {
  const write = stream.write;
  stream.write = function coalescedWrite(this: T, ...args: Parameters<T['write']>): boolean {
    corkForThisTick(this);
    return write.apply(this, args as Parameters<Writable['write']>);
  } as T['write'];
  return stream;
}

/** ssh2's Channel as patched by patches/ssh2+…+channel-window-owner.patch. */
interface OwnableChannel {
  ownWindow(): void;
  grantWindow(bytes: number): void;
  incoming: { window: number };
  readableLength: number;
}

function isOwnable(channel: object): channel is OwnableChannel {
  return typeof (channel as Partial<OwnableChannel>).ownWindow === 'function';
}

const tunings = new WeakMap<object, WindowTuning>();

/** Marks a channel whose receive window follows `tuning` once its consumer takes it over. */
export function tuneReceiveWindow<T extends Duplex>(channel: T, tuning: WindowTuning): T {
  if (isOwnable(channel)) tunings.set(channel, tuning);
  return channel;
}

/**
 * For the one consumer of a channel (the pipe to a local socket): takes the receive window over
 * from ssh2. From then on the peer may send only what the consumer reports as consumed, so the
 * consumer must report every byte. Undefined for channels without tuning (plain streams in tests).
 */
export function takeReceiveWindow(channel: Duplex): ReceiveWindow | undefined {
  const tuning = tunings.get(channel);
  if (!tuning || !isOwnable(channel)) return undefined;
  tunings.delete(channel);
  channel.ownWindow();
  // Bytes already buffered were granted and will reach the consumer: count them as outstanding.
  const initial = channel.incoming.window + channel.readableLength;
  return new ReceiveWindow(
    {
      grant: (bytes) => channel.grantWindow(bytes),
      remaining: () => channel.incoming.window,
    },
    tuning,
    initial,
  );
}

/**
 * For a channel whose one reader never holds data back, an SSH session on top of it (a jump
 * host): every byte it reads counts as consumed, so the channel's window follows the path too.
 * Leaves the channel paused: the session resumes it once it listens (ssh2 does), so no byte is
 * read before it. The inner session's own windows bound what is in flight.
 */
export function countReadsAsConsumed(channel: Duplex): void {
  const window = takeReceiveWindow(channel);
  if (!window) return;
  channel.pause();
  channel.on('data', (chunk: Buffer) => window.consumed(chunk.length));
  channel.once('close', () => window.close());
}
