import type { TunnelStatus } from '@fwd/core';
import type { Plan } from '../config/index.js';
import { urlOf, webScheme } from '../render/http-urls.js';
import type { Opener } from './browser.js';

/** Which tunnels to open, by name; `awaitToken`: fwd reads the app's token URL from its job's output. */
export type OpenRequests = ReadonlyMap<string, { readonly awaitToken: boolean }>;

export interface OpenWhenReadyOptions {
  readonly tunnels: OpenRequests;
  readonly opener: Opener;
  /** One line per tunnel: opened, or why not and what to do instead. */
  readonly note: (level: 'info' | 'warn', message: string) => void;
  /**
   * Once up, how long to wait for the token URL before opening the plain one (Jupyter prints it
   * a moment after it answers; without it the browser gets a login page). Default 20 s.
   */
  readonly tokenWaitMs?: number;
}

/**
 * The tunnels of `plan` to open: those with `open: true`, and with `--open` (`all`) every tunnel
 * that serves a web app (an HTTP forward, or an app URL read from its job's output).
 */
export function openRequests(plan: Plan, all: boolean): OpenRequests {
  const requests = new Map<string, { awaitToken: boolean }>();
  for (const tunnel of plan.tunnels) {
    const awaitToken = tunnel.slurm?.urlFromOutput === true;
    const web = awaitToken || tunnel.forwards.some((f) => webScheme(tunnel, f) !== undefined);
    if (tunnel.open || (all && web)) requests.set(tunnel.name, { awaitToken });
  }
  return requests;
}

/** A URL that carries its app's token: what fwd read from the job's output. */
const hasToken = (url: string): boolean => /[?&]token=/.test(url);

/**
 * Opens each requested tunnel's app URL in the browser, once, when the tunnel is first up: the
 * tokenised URL when there is one (waiting a little for it when one is expected), else the plain
 * one. Fed every status the renderer gets; `done` settles when every request was dealt with.
 */
export class OpenWhenReady implements Disposable {
  readonly #options: OpenWhenReadyOptions;
  readonly #pending: Map<string, { readonly awaitToken: boolean }>;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #latest = new Map<string, string>();
  readonly #settled: Promise<void>;
  readonly #opening = new Set<Promise<void>>();
  #resolve!: () => void;

  constructor(options: OpenWhenReadyOptions) {
    this.#options = options;
    this.#pending = new Map(options.tunnels);
    this.#settled = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    if (this.#pending.size === 0) this.#resolve();
  }

  /** Settles once every requested tunnel was opened (its browser started), could not be, or ended first. */
  get done(): Promise<void> {
    return this.#settled.then(async () => {
      await Promise.allSettled([...this.#opening]);
    });
  }

  /** Tunnels still waiting to be opened. */
  get waiting(): string[] {
    return [...this.#pending.keys()];
  }

  update(status: TunnelStatus): void {
    const request = this.#pending.get(status.name);
    if (!request) return;
    if (status.state === 'failed' || status.state === 'ended' || status.state === 'stopped') {
      this.#finish(status.name);
      return;
    }
    if (status.state !== 'up') return;
    const urls = status.forwards.flatMap((f) => urlOf(f) ?? []);
    const url = urls.find(hasToken) ?? urls[0];
    if (url === undefined) {
      this.#options.note(
        'warn',
        `${status.name}: not opened in a browser: it has no web address (no HTTP forward)`,
      );
      this.#finish(status.name);
      return;
    }
    this.#latest.set(status.name, url);
    if (hasToken(url) || !request.awaitToken) {
      this.#open(status.name, url);
      return;
    }
    if (!this.#timers.has(status.name)) {
      const timer = setTimeout(() => {
        const latest = this.#latest.get(status.name);
        if (latest !== undefined) this.#open(status.name, latest);
      }, this.#options.tokenWaitMs ?? 20_000);
      timer.unref?.();
      this.#timers.set(status.name, timer);
    }
  }

  /** Gives up on what is not open yet (fwd is stopping). Idempotent. */
  close(): void {
    for (const name of [...this.#pending.keys()]) this.#finish(name);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #open(name: string, url: string): void {
    if (!this.#pending.has(name)) return;
    this.#finish(name);
    // The token stays with the tunnel's status (its url): notes and logs name the address only.
    const shown = hasToken(url) ? `${url.split('?')[0]} (with its token)` : url;
    const opening = this.#options.opener(url).then(
      (outcome) => {
        if (outcome.opened) this.#options.note('info', `${name}: opened ${shown} in the browser`);
        else
          this.#options.note(
            'info',
            `${name}: not opened in a browser (${outcome.why}); its URL is shown with the tunnel`,
          );
      },
      (err: unknown) => this.#options.note('warn', `${name}: could not open a browser: ${String(err)}`),
    );
    this.#opening.add(opening);
    void opening.finally(() => this.#opening.delete(opening));
  }

  #finish(name: string): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
    this.#pending.delete(name);
    if (this.#pending.size === 0) this.#resolve();
  }
}
