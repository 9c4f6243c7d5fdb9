import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** The built `fwd` binary (dist, no tsx), run as users run it: its shebang carries node flags. */
export const FWD_MAIN = new URL('../../packages/cli/dist/main.js', import.meta.url).pathname;

export interface FwdEvent {
  ts: string;
  event: string;
  [key: string]: unknown;
}

export interface FwdProcess extends AsyncDisposable {
  readonly child: ChildProcess;
  /** Every NDJSON event so far, in order. */
  readonly events: FwdEvent[];
  stderr(): string;
  /** Resolves with the first event (past or future) matching `predicate`. */
  waitForEvent(predicate: (e: FwdEvent) => boolean, timeoutMs?: number): Promise<FwdEvent>;
  /** Resolves with the exit code (or 128+signal). */
  readonly exited: Promise<number>;
}

export interface FwdRunOptions {
  /** $HOME of the child, and its working directory unless `cwd` is given. */
  home: string;
  cwd?: string;
  /** More environment on top of PATH, HOME and NO_COLOR=1 (nothing else is inherited). */
  env?: Record<string, string>;
}

/** Starts the built `fwd` binary with stdout and stderr piped, nothing on stdin. */
export function spawnFwd(
  args: string[],
  options: FwdRunOptions,
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(FWD_MAIN, args, {
    cwd: options.cwd ?? options.home,
    env: { PATH: process.env.PATH ?? '', HOME: options.home, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the built `fwd` binary with NDJSON output captured line by line. */
export function startFwd(args: string[], options: FwdRunOptions): FwdProcess {
  return watchFwd(spawnFwd(args, options));
}

/** NDJSON events and exit of an fwd process, however it was started (locally, or via docker exec). */
export function watchFwd(child: ChildProcess): FwdProcess {
  const events: FwdEvent[] = [];
  const waiters = new Set<{ predicate: (e: FwdEvent) => boolean; resolve: (e: FwdEvent) => void }>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    let event: FwdEvent;
    try {
      event = JSON.parse(line) as FwdEvent;
    } catch {
      event = { ts: '', event: 'non-json', line };
    }
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(event)) {
        waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  });
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
  });
  return {
    child,
    events,
    stderr: () => stderr,
    exited,
    waitForEvent(predicate, timeoutMs = 20_000) {
      const past = events.find(predicate);
      if (past) return Promise.resolve(past);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `no matching fwd event in ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        const waiter = {
          predicate,
          resolve: (e: FwdEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        waiters.add(waiter);
        void exited.then(() => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(
            new Error(`fwd exited before the event; events: ${JSON.stringify(events)}; stderr: ${stderr}`),
          );
        });
      });
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export interface FwdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs fwd to completion; for commands that exit by themselves (check, --help, up -d, ps). */
export function runFwd(args: string[], options: FwdRunOptions): Promise<FwdResult> {
  return new Promise((resolve) => {
    const child = spawnFwd(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    // 'close', not 'exit': only then are stdout and stderr complete (and `up -d` must not hold
    // them open for its daemon).
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A predicate on the NDJSON events of tunnel `name`. */
export const tunnelEvent =
  (name: string, test: (e: FwdEvent) => boolean) =>
  (e: FwdEvent): boolean =>
    e.event === 'tunnel' && e.tunnel === name && test(e);

/** Tunnel `name` reported state `state` ("up", "ended", ...). */
export const inState = (name: string, state: string) => tunnelEvent(name, (e) => e.state === state);

export const isUp = (name: string) => inState(name, 'up');

/** The local address of a tunnel's first forward, from its "up" event. */
export function listenAddress(event: FwdEvent, index = 0): { host: string; port: number } {
  const forwards = event.forwards as Array<{ listen: string }>;
  const listen = forwards[index]?.listen ?? '';
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}
