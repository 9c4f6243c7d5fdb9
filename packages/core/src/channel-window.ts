// The receive window of SSH channels, sized to the path like TCP's receive-buffer autotuning.
//
// On a long path one channel carries at most one window per round trip: OpenSSH and ssh2 grant
// 2 MiB, so a download over 50 ms tops out near 40 MiB/s whatever the link (HPN-SSH exists for
// this). The receiver decides its window, so fwd grows it while the local reader keeps up and the
// sender used the whole window within a round trip, and grants only what the local side has
// consumed: a slow reader holds the window shut, so memory stays bounded by the window.

const KiB = 1024;
const MiB = 1024 * KiB;

/** What ssh2 and OpenSSH grant a channel at open (64 × 32 KiB packets). */
export const BASE_WINDOW: number = 2 * MiB;
/** Default ceiling of one channel's window: 2 × the bandwidth-delay product of 150 MiB/s × 100 ms. */
export const DEFAULT_MAX_WINDOW: number = 32 * MiB;
/** Default ceiling of all windows' growth beyond BASE_WINDOW, over the whole process. */
export const DEFAULT_WINDOW_BUDGET: number = 256 * MiB;
/** Window growth is rounded to whole SSH packets. */
const GRANULE = 32 * KiB;

/** The smallest round trip seen on one SSH session (a sample is never below the true RTT). */
export class RttEstimate {
  #ms: number | undefined;

  /** Milliseconds, or undefined before the first sample. */
  get ms(): number | undefined {
    return this.#ms;
  }

  sample(ms: number): void {
    if (ms > 0 && (this.#ms === undefined || ms < this.#ms)) this.#ms = ms;
  }
}

/**
 * The largest window a channel of one session grew to. A new channel of the session starts at
 * half of it (TCP keeps ssthresh per destination the same way): on a long path each channel would
 * otherwise spend its first round trips regrowing from 2 MiB, most of a 64 MiB transfer.
 */
export class PathMemory {
  #reached = 0;

  get reached(): number {
    return this.#reached;
  }

  note(size: number): void {
    if (size > this.#reached) this.#reached = size;
  }

  /** Where a new channel starts, at least `base`. */
  startFor(base: number): number {
    return Math.max(base, Math.floor(this.#reached / 2 / GRANULE) * GRANULE);
  }
}

/** Bytes of window growth the process may hand out in total; each channel returns its share at close. */
export class WindowBudget {
  readonly total: number;
  #free: number;

  constructor(bytes: number) {
    this.total = bytes;
    this.#free = bytes;
  }

  get free(): number {
    return this.#free;
  }

  /** Takes up to `bytes`; returns what it got. */
  take(bytes: number): number {
    const got = Math.max(0, Math.min(bytes, this.#free));
    this.#free -= got;
    return got;
  }

  give(bytes: number): void {
    this.#free += bytes;
  }
}

/** The process-wide budget every session shares unless given its own. */
export const processWindowBudget: WindowBudget = new WindowBudget(DEFAULT_WINDOW_BUDGET);

/** One session's window policy, shared by its channels. */
export interface WindowTuning {
  /** Largest window of one channel; BASE_WINDOW (the least) turns growth off. */
  readonly maxBytes: number;
  readonly rtt: RttEstimate;
  readonly budget: WindowBudget;
  readonly path: PathMemory;
}

export function windowTuning(
  maxBytes: number = DEFAULT_MAX_WINDOW,
  budget: WindowBudget = processWindowBudget,
): WindowTuning {
  return {
    maxBytes: Math.max(BASE_WINDOW, maxBytes),
    rtt: new RttEstimate(),
    budget,
    path: new PathMemory(),
  };
}

/** The parts of a channel the window needs (ssh2's Channel with the channel-window-owner patch). */
export interface WindowedChannel {
  /** Sends WINDOW_ADJUST: the peer may send `bytes` more. */
  grant(bytes: number): void;
  /** Window the peer has left: granted minus received. */
  remaining(): number;
}

/**
 * Grants the receive window of one channel as its data is consumed, and grows the window, up to
 * the tuning's ceiling and budget, to twice what was consumed in one round trip. Invariant:
 * granted − consumed ≤ size (what the peer may still send plus what we hold never exceeds the window).
 */
export class ReceiveWindow {
  readonly #channel: WindowedChannel;
  readonly #tuning: WindowTuning;
  readonly #now: () => number;
  #size: number;
  /** Growth taken from the budget, returned at close. */
  #borrowed = 0;
  #granted: number;
  #consumed = 0;
  #periodStart: number;
  #periodConsumed = 0;
  /** The window during the previous period: what the sender could send in this one. */
  #sizeBefore: number;
  /** An RTT probe: the window's edge before an adjust sent at `at`; a byte past it cannot arrive before at + RTT. */
  #probeEdge = -1;
  #probeAt = 0;
  #closed = false;

  /**
   * `initial` is the window already granted (at channel open) and not yet consumed: bytes the
   * channel has buffered count as granted, so they count as consumed when the consumer reports them.
   */
  constructor(
    channel: WindowedChannel,
    tuning: WindowTuning,
    initial: number,
    now: () => number = () => performance.now(),
  ) {
    this.#channel = channel;
    this.#tuning = tuning;
    this.#now = now;
    this.#size = Math.max(BASE_WINDOW, initial);
    this.#granted = initial;
    this.#startAtPathWindow();
    this.#sizeBefore = this.#size;
    this.#periodStart = now();
  }

  /**
   * Grants at once what the session's earlier channels needed (see {@link PathMemory}). Starts
   * draw only on the first half of the budget: an idle channel keeps its start until it closes,
   * and a download must still find room to grow.
   */
  #startAtPathWindow(): void {
    const { budget, maxBytes, path } = this.#tuning;
    const start = Math.min(maxBytes, path.startFor(this.#size));
    const got = budget.take(Math.min(start - this.#size, budget.free - budget.total / 2));
    if (got <= 0) return;
    this.#borrowed += got;
    this.#size += got;
    this.#granted += got;
    this.#channel.grant(got);
  }

  /** Current window size in bytes. */
  get size(): number {
    return this.#size;
  }

  /** Bytes granted but not yet consumed: in flight, or held by us. Never above {@link size}. */
  get outstanding(): number {
    return this.#granted - this.#consumed;
  }

  /** The consumer took `bytes` off the channel (the local socket accepted them). */
  consumed(bytes: number): void {
    if (this.#closed) return;
    this.#consumed += bytes;
    const now = this.#now();
    this.#measureRtt(now);
    this.#grow(now);
    // Top the window up in steps of an eighth: early enough that the sender never waits for us
    // while the window is at least the path's bandwidth-delay product plus one step.
    const due = this.#size - (this.#granted - this.#consumed);
    if (due >= this.#size / 8) {
      if (this.#probeEdge < 0) {
        this.#probeEdge = this.#granted;
        this.#probeAt = now;
      }
      this.#granted += due;
      this.#channel.grant(due);
    }
  }

  /** The channel is gone: return the borrowed budget. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tuning.budget.give(this.#borrowed);
    this.#borrowed = 0;
  }

  /**
   * The first byte past the old edge arrives one round trip after the adjust at the earliest (the
   * sender could not send it before), and about then when the sender was waiting for the window.
   */
  #measureRtt(now: number): void {
    if (this.#probeEdge < 0) return;
    const received = this.#granted - this.#channel.remaining();
    if (received <= this.#probeEdge) return;
    this.#tuning.rtt.sample(now - this.#probeAt);
    this.#probeEdge = -1;
  }

  /**
   * Once per round trip: the window becomes twice what the consumer took in that round trip. The
   * bytes of one round trip answer the grants of the one before, so a sender that used (nearly)
   * all of the window of then was held back by the window: then it doubles, like TCP's slow start.
   * (Measured against the current window instead, growth came every other round trip.)
   */
  #grow(now: number): void {
    const rtt = this.#tuning.rtt.ms;
    if (rtt === undefined) return;
    const elapsed = now - this.#periodStart;
    if (elapsed < rtt) return;
    const perRtt = ((this.#consumed - this.#periodConsumed) * rtt) / elapsed;
    const heldBack = perRtt >= (this.#sizeBefore * 3) / 4;
    this.#periodStart = now;
    this.#periodConsumed = this.#consumed;
    this.#sizeBefore = this.#size;
    const target = heldBack ? Math.max(2 * perRtt, 2 * this.#size) : 2 * perRtt;
    const wanted = Math.min(this.#tuning.maxBytes, Math.ceil(target / GRANULE) * GRANULE);
    if (wanted <= this.#size) return;
    const got = this.#tuning.budget.take(wanted - this.#size);
    this.#borrowed += got;
    this.#size += got;
    this.#tuning.path.note(this.#size);
  }
}
