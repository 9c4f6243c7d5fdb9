import { createRequire } from 'node:module';

/**
 * Hands memory back to the OS once a bulk transfer is over. Forwarding allocates a Buffer per
 * socket read and per SSH packet; V8 frees them at its next collection, and glibc then keeps the
 * freed chunks between long-lived ones, where its own trimming (top of the heap only) never
 * reaches: a 256 MiB upload left ~40 MB resident for good (bench/README.md, RSS). So when at
 * least `minBytes` moved and then a whole tick passed without a byte, collect; if the next tick
 * is quiet too, malloc_trim (V8 frees dead buffers' memory on a background thread after the
 * collection returns: trimming at once raced it and missed).
 */
export interface MemoryReturnOptions {
  /** Bytes forwarded by the process so far (core's `bytesPiped`). */
  readonly bytesMoved: () => number;
  /** A full V8 collection, when the process has one (`--expose-gc` in the bin's shebang). */
  readonly collect?: (() => void) | undefined;
  /** glibc's malloc_trim(0); returns whether pages went back. */
  readonly trim: () => boolean;
  readonly tickMs?: number;
  readonly minBytes?: number;
}

/** A transfer this large leaves megabytes of freed buffers; interactive traffic never triggers. */
export const MEMORY_RETURN_MIN_BYTES: number = 8 * 1024 * 1024;
/** Quiet for whole ticks (collect 1–2 s after the last byte, trim a tick later): off the hot path. */
export const MEMORY_RETURN_TICK_MS = 1_000;

export class MemoryReturn implements Disposable {
  readonly #options: MemoryReturnOptions;
  readonly #minBytes: number;
  readonly #timer: NodeJS.Timeout;
  #seen: number;
  /** Bytes moved since memory was last handed back. */
  #pending = 0;
  /** A quiet tick collected; the next quiet one trims. */
  #collected = false;
  #returns = 0;

  constructor(options: MemoryReturnOptions) {
    this.#options = options;
    this.#minBytes = options.minBytes ?? MEMORY_RETURN_MIN_BYTES;
    this.#seen = options.bytesMoved();
    // Unref'd: it never keeps a process up.
    this.#timer = setInterval(() => this.#tick(), options.tickMs ?? MEMORY_RETURN_TICK_MS);
    this.#timer.unref();
  }

  /** How many times memory was handed back (for tests and logs). */
  get returns(): number {
    return this.#returns;
  }

  #tick(): void {
    const now = this.#options.bytesMoved();
    const moved = now - this.#seen;
    this.#seen = now;
    if (moved > 0) {
      this.#pending += moved;
      this.#collected = false;
      return;
    }
    if (this.#pending < this.#minBytes) return;
    if (!this.#collected) {
      this.#collected = true;
      this.#options.collect?.();
      return;
    }
    this.#pending = 0;
    this.#collected = false;
    this.#returns++;
    this.#options.trim();
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}

type Trim = () => boolean;

/**
 * The native malloc_trim built at install (binding.gyp; `npm ci` or `npm i -g`), or undefined
 * when it was not built (no C compiler, scripts not allowed): fwd then runs without it.
 */
export function loadMallocTrim(): Trim | undefined {
  try {
    // dist/runtime/ → the package's build/Release/
    const addon = createRequire(import.meta.url)('../../build/Release/malloc_trim.node') as {
      mallocTrim?: Trim;
    };
    return typeof addon.mallocTrim === 'function' ? addon.mallocTrim : undefined;
  } catch {
    return undefined;
  }
}

/** V8's `gc`, present when node runs with --expose-gc (the fwd bin's shebang). */
export function exposedCollect(): (() => void) | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === 'function' ? () => (gc as () => void)() : undefined;
}

/** Memory return for this process, or undefined where there is no malloc_trim to call. */
export function startMemoryReturn(bytesMoved: () => number): MemoryReturn | undefined {
  const trim = loadMallocTrim();
  if (!trim) return undefined;
  return new MemoryReturn({ bytesMoved, trim, collect: exposedCollect() });
}
