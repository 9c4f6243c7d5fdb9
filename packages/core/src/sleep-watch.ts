/**
 * Notices that the process did not run for a while (laptop sleep, VM pause): timers stall then,
 * so a tick that comes more than `gapMs` late calls `woke`. Unref'd: it never keeps a process up.
 */
export class SleepWatch {
  readonly #timer: NodeJS.Timeout;

  constructor(gapMs: number, woke: () => void, tickMs = 1_000) {
    let last = Date.now();
    this.#timer = setInterval(() => {
      const now = Date.now();
      if (now - last > tickMs + gapMs) woke();
      last = now;
    }, tickMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
