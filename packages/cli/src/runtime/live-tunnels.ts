import type { Supervisor, SupervisorSpec, TunnelStatus } from '@fwd/core';
import type { Plan } from '../config/index.js';
import type { UrlDecorator } from '../render/http-urls.js';
import { planChanges } from './plan-changes.js';

/** What a reload did, for the user: tunnel names by what happened to them. */
export interface ReloadReport {
  readonly started: readonly string[];
  readonly stopped: readonly string[];
  readonly restarted: readonly string[];
  readonly unchanged: number;
}

/** How a running fwd gets at its file again, and what it shows with a new plan. */
export interface Reread {
  /** Reads and checks the file as `fwd up` did (the same --only and -F); problems as `file:line:col  ...`. */
  plan(): Promise<{ plan: Plan } | { problems: string[] }>;
  /** The URL decorator for a plan (web apps, job facts). */
  decorate(plan: Plan): UrlDecorator;
}

/** Why a reload or a stop/start was refused; nothing changed. */
export class ReloadRefused extends Error {
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(message);
    this.problems = problems;
  }
}

/**
 * The set of tunnels a `fwd up` runs, changed while it runs: a reload of its file (SIGHUP,
 * `fwd reload`) and a tunnel stopped or started by hand (`fwd stop/start NAME/TUNNEL`), each
 * applied to the supervisor as the smallest change (Supervisor.apply), one at a time. A tunnel
 * stopped by hand stays stopped across reloads while the file still has it.
 */
export class LiveTunnels {
  readonly #supervisor: Supervisor;
  readonly #specFor: (plan: Plan) => Promise<SupervisorSpec>;
  readonly #reread: Reread | undefined;
  #plan: Plan;
  #decorate: UrlDecorator;
  /** Stopped by hand, with their last status (shown as stopped). */
  readonly #held = new Map<string, TunnelStatus>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #note: (level: 'info' | 'error', message: string) => void;

  constructor(options: {
    supervisor: Supervisor;
    plan: Plan;
    decorate: UrlDecorator;
    specFor: (plan: Plan) => Promise<SupervisorSpec>;
    reread?: Reread;
    /** Where each change is told (the table or the NDJSON log), so that the log tells the story. */
    note?: (level: 'info' | 'error', message: string) => void;
  }) {
    this.#note = options.note ?? (() => undefined);
    this.#supervisor = options.supervisor;
    this.#plan = options.plan;
    this.#decorate = options.decorate;
    this.#specFor = options.specFor;
    this.#reread = options.reread;
  }

  /** Adds URLs to a status as the current plan says (it changes with reloads). */
  readonly decorate: UrlDecorator = (status) => this.#decorate(status);

  /** Whether the run has a file to read again (one-offs have none). */
  get reloadable(): boolean {
    return this.#reread !== undefined;
  }

  /** Every tunnel of the file, in its order: running ones as the supervisor has them, held ones stopped. */
  statuses(): TunnelStatus[] {
    const running = new Map(this.#supervisor.snapshot().map((s) => [s.name, s]));
    return this.#plan.tunnels.flatMap((t) => {
      const status = running.get(t.name) ?? this.#held.get(t.name);
      return status ? [this.decorate(status)] : [];
    });
  }

  /**
   * Reads the file again and runs what it says now; rejects with ReloadRefused when it is not
   * valid (the running set goes on). `why` names the request in what is told ("SIGHUP").
   */
  reload(why: string): Promise<ReloadReport> {
    return this.#told(why, 'reloaded', 'not reloaded', describeReload, () => this.#reload());
  }

  #reload(): Promise<ReloadReport> {
    return this.#serially(async () => {
      if (!this.#reread) throw new ReloadRefused('a one-off has no file to read again');
      const outcome = await this.#reread.plan();
      if ('problems' in outcome)
        throw new ReloadRefused('the file has problems; the running tunnels go on', outcome.problems);
      const changes = planChanges(this.#plan, outcome.plan);
      for (const name of changes.removed) this.#held.delete(name);
      const spec = await this.#specFor(this.#running(outcome.plan));
      await this.#supervisor.apply(spec, {
        tunnels: new Set(changes.changed),
        hosts: new Set(changes.hosts),
      });
      this.#plan = outcome.plan;
      this.#decorate = this.#reread.decorate(outcome.plan);
      const touched = new Set([
        ...changes.added,
        ...changes.removed,
        ...changes.changed,
        ...changes.withHost,
      ]);
      return {
        started: changes.added.filter((n) => !this.#held.has(n)),
        stopped: changes.removed,
        restarted: [...changes.changed, ...changes.withHost].filter((n) => !this.#held.has(n)),
        unchanged: outcome.plan.tunnels.filter((t) => !touched.has(t.name)).length,
      };
    });
  }

  /** Stops one tunnel (listeners closed, connections ended) until `start` or a restart of fwd. */
  stop(name: string, why: string): Promise<void> {
    return this.#told(
      why,
      `stopped ${name}`,
      `${name} not stopped`,
      () => '',
      () => this.#stop(name),
    );
  }

  /** Starts a tunnel stopped by `stop` again. */
  start(name: string, why: string): Promise<void> {
    return this.#told(
      why,
      `started ${name}`,
      `${name} not started`,
      () => '',
      () => this.#start(name),
    );
  }

  #stop(name: string): Promise<void> {
    return this.#serially(async () => {
      this.#known(name);
      if (this.#held.has(name)) return;
      const last = this.#supervisor.snapshot().find((s) => s.name === name);
      this.#held.set(name, { ...(last as TunnelStatus), state: 'stopped', connectionsOpen: 0 });
      await this.#supervisor.apply(await this.#specFor(this.#running(this.#plan)));
    });
  }

  #start(name: string): Promise<void> {
    return this.#serially(async () => {
      this.#known(name);
      if (!this.#held.delete(name)) return;
      await this.#supervisor.apply(await this.#specFor(this.#running(this.#plan)));
    });
  }

  /** Runs a change and tells how it went: `why: done: details`, or why not and the problems. */
  async #told<T>(
    why: string,
    done: string,
    refused: string,
    details: (result: T) => string,
    change: () => Promise<T>,
  ): Promise<T> {
    try {
      const result = await change();
      const more = details(result);
      this.#note('info', `${why}: ${done}${more ? `: ${more}` : ''}`);
      return result;
    } catch (err) {
      this.#note('error', `${why}: ${refused}: ${(err as Error).message}`);
      for (const problem of err instanceof ReloadRefused ? err.problems : []) this.#note('error', problem);
      throw err;
    }
  }

  #known(name: string): void {
    if (!this.#plan.tunnels.some((t) => t.name === name)) {
      const names = this.#plan.tunnels.map((t) => t.name).join(', ');
      throw new ReloadRefused(`no tunnel named "${name}" (this fwd runs ${names})`);
    }
  }

  /** The plan minus the tunnels held stopped. */
  #running(plan: Plan): Plan {
    return { ...plan, tunnels: plan.tunnels.filter((t) => !this.#held.has(t.name)) };
  }

  /** One change at a time: a reload must not interleave with a stop. */
  #serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** "started api; stopped web; restarted notebook; 2 unchanged", or "nothing changed". */
export function describeReload(report: ReloadReport): string {
  const parts = [
    report.started.length > 0 ? `started ${report.started.join(', ')}` : '',
    report.stopped.length > 0 ? `stopped ${report.stopped.join(', ')}` : '',
    report.restarted.length > 0 ? `restarted ${report.restarted.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length === 0 ? 'nothing changed' : `${parts.join('; ')}; ${report.unchanged} unchanged`;
}
