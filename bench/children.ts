// Process hygiene: every child the bench starts, and every temp dir it makes, is registered here
// and removed on any exit (normal end, error, Ctrl-C, SIGTERM). Each child gets its own process
// group; at the end the group and any descendant that escaped it (sshd sessions) are killed.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTree } from './proc.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  readonly process: ChildProcess;
  /** stdout and stderr go here. */
  readonly logFile: string;
  /** Settles when the child exits; never rejects. */
  readonly exited: Promise<Exit>;
  readonly alive: boolean;
  /** The last lines of the log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM to the group and its descendants, SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Keep stdout as a pipe (for a child that announces itself); stderr still goes to the log. */
  readonly pipeStdout?: boolean;
}

const live = new Set<Child>();
const tempDirs = new Set<string>();
let logDir: string | undefined;

/** A private temp dir, removed at exit unless BENCH_KEEP=1. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function logs(): string {
  logDir ??= makeTempDir('fwd-bench-logs-');
  return logDir;
}

export function spawnChild(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Child {
  const logFile = join(logs(), `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(command, args, {
    detached: true, // own process group (and session): one kill reaches what it forks
    stdio: ['ignore', options.pipeStdout ? 'pipe' : fd, fd],
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
  });
  closeSync(fd);
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    proc.once('error', (err) => {
      exit = { code: -1, signal: null };
      resolve(exit);
      process.stderr.write(`[bench] could not start ${name} (${command}): ${err.message}\n`);
    });
  });
  const pid = proc.pid ?? -1;
  let stopping: Promise<void> | undefined;
  const child: Child = {
    name,
    pid,
    process: proc,
    logFile,
    exited,
    get alive() {
      return exit === undefined;
    },
    logTail(lines = 15) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    stop(graceMs = 2_000) {
      stopping ??= (async () => {
        const tree = pid > 0 ? processTree(pid) : [];
        signalAll(pid, tree, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([exited, grace]);
        clearTimeout(timer);
        signalAll(pid, tree, 'SIGKILL');
        await exited;
        live.delete(child);
      })();
      return stopping;
    },
  };
  live.add(child);
  void exited.then(() => {
    if (!stopping) live.delete(child);
  });
  return child;
}

function signalAll(pid: number, tree: readonly number[], signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  const targets = [-pid, ...tree];
  for (const target of targets) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

/** Stops every child (newest first, so clients go before the sshd they use) and removes temp dirs. */
export async function cleanup(): Promise<void> {
  for (const child of [...live].reverse()) await child.stop(1_000);
  removeTempDirs();
}

function removeTempDirs(): void {
  if (process.env.BENCH_KEEP === '1') {
    if (tempDirs.size > 0) process.stderr.write(`[bench] kept ${[...tempDirs].join(' ')}\n`);
    return;
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * Installs the exit paths once: signals stop children then exit 128+n; a second Ctrl-C exits at
 * once; the synchronous 'exit' hook SIGKILLs whatever is still alive and removes temp dirs.
 */
export function installCleanupHandlers(): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals, code: number): void => {
    if (interrupted) process.exit(code);
    interrupted = true;
    process.stderr.write(`\n[bench] ${signal}: stopping children…\n`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
  process.on('exit', () => {
    for (const child of live) signalAll(child.pid, processTree(child.pid), 'SIGKILL');
    removeTempDirs();
  });
}
