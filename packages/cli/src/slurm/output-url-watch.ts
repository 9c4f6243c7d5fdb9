import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, type ForwardSpec, type ForwardStatus } from '@fwd/core';
import { findTokenUrl, listenFor, pointUrlAt } from './app-url.js';
import { type RemoteShell, shellCommand } from './slurm-commands.js';

/** Enough for the first lines of any server's log, where the URL is; never the whole file. */
const HEAD_BYTES = 256 * 1024;
const COMMAND_TIMEOUT_MS = 15_000;

export interface OutputUrlOptions {
  /** The job's output file: `StdOut=` of `scontrol show job`. */
  readonly path: string;
  /** A shell that sees the file: the node's session, the login session, or this machine. */
  readonly shell: (signal: AbortSignal) => Promise<RemoteShell>;
  /** The tunnel's forwards, targets filled in (to find the one serving the URL's port). */
  readonly forwards: readonly ForwardSpec[];
  /** Where they listen once bound (GateContext.listening). */
  readonly listening: () => Promise<readonly ForwardStatus[]>;
  /** Aborted when the search must stop: the tunnel closed or the job ended. */
  readonly signal: AbortSignal;
  /** Called at most once, with the URL pointed at this machine's listener. */
  readonly found: (url: string) => void;
}

/**
 * Reads the head of a job's output file until a `?token=` URL appears (Jupyter prints it a few
 * seconds after it starts), with backoff, then reports it pointed at the tunnel's local address.
 * The file's text and the token go nowhere else: read failures are retried silently.
 */
export async function watchOutputUrl(options: OutputUrlOptions): Promise<void> {
  const { signal } = options;
  const command = shellCommand(['head', '-c', String(HEAD_BYTES), '--', options.path]);
  for (let attempt = 0; !signal.aborted; attempt++) {
    const url = await readUrl(options, command);
    if (url !== undefined) {
      const statuses = await untilAborted(options.listening(), signal);
      const listen = statuses && listenFor(url, options.forwards, statuses);
      if (listen && !signal.aborted) options.found(pointUrlAt(url, listen));
      return;
    }
    try {
      await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 5_000 }), undefined, { signal });
    } catch {
      return;
    }
  }
}

async function readUrl(options: OutputUrlOptions, command: string): Promise<string | undefined> {
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(COMMAND_TIMEOUT_MS)]);
  try {
    const shell = await options.shell(signal);
    const result = await shell.exec(command, { signal, maxOutputBytes: HEAD_BYTES + 1024 });
    return result.code === 0 ? findTokenUrl(result.stdout) : undefined;
  } catch {
    // No session right now, or the file is not there yet: the next round tries again.
    return undefined;
  }
}

/** The promise's value, or undefined once `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise
      .then(resolve, () => resolve(undefined))
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}
