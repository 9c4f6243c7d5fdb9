/**
 * Channel opens still waiting for the server's answer. One sweep timer per session (only while
 * some are pending) expires those older than `timeoutMs`: a timer per open cost measurable
 * memory under 10k connection storms, and the bound need not be exact.
 */
export class PendingOpens {
  readonly #timeoutMs: number;
  readonly #pending = new Set<{ readonly since: number; readonly expire: () => void }>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Tracks one open; `expire` runs if it is still pending after the bound. Returns its removal. */
  add(expire: () => void): () => void {
    const entry = { since: Date.now(), expire };
    this.#pending.add(entry);
    if (!this.#sweeper) {
      this.#sweeper = setInterval(() => this.#sweep(), this.#timeoutMs / 4);
      this.#sweeper.unref();
    }
    return () => {
      this.#pending.delete(entry);
      if (this.#pending.size === 0) this.#stop();
    };
  }

  #sweep(): void {
    const oldest = Date.now() - this.#timeoutMs;
    for (const entry of this.#pending) {
      if (entry.since > oldest) continue;
      this.#pending.delete(entry);
      entry.expire();
    }
    if (this.#pending.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
