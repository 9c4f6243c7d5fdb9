import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const MAIN = new URL('../../packages/cli/dist/main.js', import.meta.url).pathname;

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

/** Runs the built `fwd` binary (dist, no tsx) with NDJSON output captured line by line. */
export function startFwd(
  args: string[],
  options: { home: string; cwd?: string; env?: Record<string, string> },
): FwdProcess {
  // The bin itself, as users run it: its shebang carries node flags.
  const child = spawn(MAIN, args, {
    cwd: options.cwd ?? options.home,
    env: { PATH: process.env.PATH ?? '', HOME: options.home, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watchFwd(child);
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

/** Runs fwd to completion; for commands that exit by themselves (check, --help). */
export function runFwd(
  args: string[],
  options: { home: string; cwd?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(MAIN, args, {
      cwd: options.cwd ?? options.home,
      env: { PATH: process.env.PATH ?? '', HOME: options.home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The local address of a tunnel's first forward, from its "up" event. */
export function listenAddress(event: FwdEvent, index = 0): { host: string; port: number } {
  const forwards = event.forwards as Array<{ listen: string }>;
  const listen = forwards[index]?.listen ?? '';
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}
