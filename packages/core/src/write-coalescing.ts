import type { Writable } from 'node:stream';

function uncork(stream: Writable): void {
  stream.uncork();
}

/**
 * Batches every write made to `stream` within one tick into a single writev: ssh2 writes each
 * SSH packet separately (two or more per 64 KiB read), and one syscall per packet was the
 * largest cost in profiles. The batch is flushed before the event loop continues, so no latency
 * is added.
 */
export function coalesceWrites<T extends Writable>(stream: T): T {
  const write = stream.write;
  stream.write = function coalescedWrite(this: T, ...args: Parameters<T['write']>): boolean {
    if (this.writableCorked === 0) {
      this.cork();
      process.nextTick(uncork, this);
    }
    return write.apply(this, args as Parameters<Writable['write']>);
  } as T['write'];
  return stream;
}

/** For a stream written from one place: cork it until the end of the current tick. */
export function corkForThisTick(stream: Writable): void {
  if (stream.writableCorked === 0) {
    stream.cork();
    process.nextTick(uncork, stream);
  }
}
