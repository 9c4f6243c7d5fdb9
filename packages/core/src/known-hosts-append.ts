import { statSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Whether a known_hosts path keeps nothing written to it (`/dev/null` or another character
 * device): accept-new into it accepts every unknown key on every connection.
 */
export function cannotRecordKnownHosts(path: string): boolean {
  if (path === '/dev/null') return true;
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Writers queued per known_hosts file in this process: one check-and-append at a time. */
const queues = new Map<string, Promise<unknown>>();

/** A lock older than this was left by a process that died while holding it (a write takes ms). */
const STALE_LOCK_MS = 10_000;
/** How often a waiting writer looks again at another process's lock. */
const LOCK_RETRY_MS = 25;
/** After this long the write goes ahead without the lock: the re-check still holds in this process. */
const LOCK_WAIT_MS = 5_000;

/**
 * Runs `step` for `file` alone: after every earlier step for that file in this process, and
 * while holding `<file>.lock` (created with O_EXCL) against other processes. `step` re-reads
 * the file itself, so what it checked is what it appends to.
 *
 * @example await exclusively('/home/a/.ssh/known_hosts', async () => { ...re-read, check, append... })
 */
export function exclusively<T>(file: string, step: () => Promise<T>): Promise<T> {
  const previous = queues.get(file) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => withLock(file, step));
  const tail = run.catch(() => undefined);
  queues.set(file, tail);
  // The map keeps only the newest tail; drop it once nothing is queued behind it.
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

async function withLock<T>(file: string, step: () => Promise<T>): Promise<T> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const lock = `${file}.lock`;
  const held = await acquire(lock);
  try {
    return await step();
  } finally {
    if (held) await rm(lock, { force: true });
  }
}

/** True once `lock` is ours; false when waiting gave up (the caller goes ahead, see LOCK_WAIT_MS). */
async function acquire(lock: string): Promise<boolean> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A directory we may not write (a shared, read-only home): no lock to be had, no one to race.
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return false;
      if (code !== 'EEXIST') throw err;
    }
    const age = await stat(lock).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > STALE_LOCK_MS) {
      await rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  }
}

/** Appends one line with O_APPEND, first ending an unterminated last line; creates the file 0600. */
export async function appendLine(file: string, line: string): Promise<void> {
  let prefix = '';
  try {
    const existing = await readFile(file, 'utf8');
    if (existing.length > 0 && !existing.endsWith('\n')) prefix = '\n';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // The mode applies only when the file is created; an existing file keeps the user's choice.
  await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
}
