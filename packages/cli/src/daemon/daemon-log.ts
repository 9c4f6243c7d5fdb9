import { existsSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';

/**
 * How a starting daemon's log becomes NAME.log. `fwd up -d` opens a log of the start's own
 * (NAME.log.starting-PID) for the daemon's stdout and stderr; the daemon, once it has won the name
 * (bound the control socket), keeps the previous run's log as NAME.log.1 and renames its own to
 * NAME.log. Renaming keeps the open descriptor, so nothing written is lost; a start that loses a
 * race for the name never touches the running daemon's log; logs never grow beyond two runs.
 */
export const STARTING_LOG_ENV = 'FWD_STARTING_LOG';

/** The log a start writes to until its daemon owns the name. */
export function startingLogPath(log: string, pid: number): string {
  return `${log}.starting-${pid}`;
}

/** The daemon's side, once the name is its own: NAME.log → NAME.log.1, then its log → NAME.log. */
export async function adoptLog(starting: string, log: string): Promise<void> {
  await rename(log, `${log}.1`).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await rename(starting, log);
}

/** The foreground's side, when it is done waiting: where the daemon's output is now. */
export function currentLog(starting: string, log: string): string {
  return existsSync(starting) ? starting : log;
}

/** A start whose daemon never owned the name leaves no file behind. */
export async function discardStartingLog(starting: string): Promise<void> {
  await unlink(starting).catch(() => undefined);
}
