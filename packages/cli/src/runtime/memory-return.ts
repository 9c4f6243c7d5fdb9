import { createRequire } from 'node:module';

/**
 * Hands memory back to the OS once forwarding has rested. Forwarding allocates a Buffer per
 * socket read and per SSH packet; V8 frees them at its next collection, and glibc then keeps the
 * freed chunks between long-lived ones, where its own trimming (top of the heap only) never
 * reaches: a 256 MiB upload left ~40 MB resident for good (bench/README.md, Memory). So when at
 * least `minBytes` moved and then `quietTicks` ticks passed without a byte, collect; if the next
 * tick is quiet too, malloc_trim (V8 frees dead buffers on a background thread after the
 * collection returns: trimming at once raced it and missed).
 *
 * Not sooner: the next burst touches those pages again, and a page handed back costs a fault
 * (1–2 µs on bare metal, ~13 µs in the bench's VM: +0.2 s per 64 MB). Waiting for a rest, like
 * jemalloc's 10 s dirty-page decay or V8's 8 s memory reducer, keeps that off bursty traffic.
 */
export interface MemoryReturnOptions {
  /** Bytes forwarded by the process so far (core's `bytesPiped`). */
  readonly bytesMoved: () => number;
  /** A full V8 collection, when the process has one (`--expose-gc` in the bin's shebang). */
  readonly collect?: (() => void) | undefined;
  /** glibc's malloc_trim(0); returns whether pages went back. */
  readonly trim: () => boolean;
  readonly tickMs?: number;
  readonly quietTicks?: number;
  readonly minBytes?: number;
}

/** A transfer this large leaves megabytes of freed buffers; interactive traffic adds up first. */
export const MEMORY_RETURN_MIN_BYTES: number = 8 * 1024 * 1024;
export const MEMORY_RETURN_TICK_MS = 1_000;
/** Ticks without a byte before collecting (5–6 s after the last byte; the trim a tick later). */
export const MEMORY_RETURN_QUIET_TICKS = 5;

export class MemoryReturn implements Disposable {
  readonly #options: MemoryReturnOptions;
  readonly #minBytes: number;
  readonly #quietTicks: number;
  readonly #timer: NodeJS.Timeout;
  #seen: number;
  /** Bytes moved since memory was last handed back. */
  #pending = 0;
  /** Ticks in a row without a byte. */
  #quiet = 0;
  #returns = 0;

  constructor(options: MemoryReturnOptions) {
    this.#options = options;
    this.#minBytes = options.minBytes ?? MEMORY_RETURN_MIN_BYTES;
    this.#quietTicks = options.quietTicks ?? MEMORY_RETURN_QUIET_TICKS;
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
      this.#quiet = 0;
      return;
    }
    if (this.#pending < this.#minBytes) return;
    this.#quiet++;
    if (this.#quiet === this.#quietTicks) this.#options.collect?.();
    if (this.#quiet <= this.#quietTicks) return;
    this.#pending = 0;
    this.#quiet = 0;
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
