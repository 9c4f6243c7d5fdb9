import { setTimeout as sleep } from 'node:timers/promises';
import {
  abortable,
  backoffDelay,
  deadline,
  type ForwardSpec,
  type ForwardStatus,
  FwdError,
  type GateContext,
} from '@fwd/core';
import { findTokenUrl, listenFor, pointUrlAt } from './app-url.js';
import { type RemoteShell, scontrolShowJob, shellCommand } from './slurm-commands.js';

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
      // Unsettled when the listeners could not be bound: the search stops with the tunnel.
      const statuses = await abortable(options.listening(), signal, 'waiting for the listeners').catch(
        () => undefined,
      );
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
  using bound = deadline(
    COMMAND_TIMEOUT_MS,
    () => new FwdError('COMMAND_FAILED', 'reading the job output: no answer'),
    options.signal,
  );
  const signal = bound.signal;
  try {
    const shell = await options.shell(signal);
    const result = await shell.exec(command, { signal, maxOutputBytes: HEAD_BYTES + 1024 });
    return result.code === 0 ? findTokenUrl(result.stdout) : undefined;
  } catch {
    // No session right now, or the file is not there yet: the next round tries again.
    return undefined;
  }
}

export interface AppUrlOptions {
  readonly job: string;
  /** The job's output file when already known (scontrol's StdOut from the lookup). */
  readonly stdout?: string;
  /** The login node's shell (or this machine's, on a local host). */
  readonly login: (signal: AbortSignal) => Promise<RemoteShell>;
  /** A shell on the job's node (via: node), which sees the file wherever the job writes it. */
  readonly node?: (signal: AbortSignal) => Promise<RemoteShell>;
  readonly forwards: readonly ForwardSpec[];
  readonly ctx: GateContext;
  /** Settles when the job ends: the search stops. */
  readonly ended: Promise<unknown>;
  readonly found: (url: string) => void;
}

/**
 * `slurm.urlFromOutput`: where the job writes its output (asked of scontrol unless known), then
 * {@link watchOutputUrl} on it until the URL shows up, the job ends or the tunnel closes. Runs in
 * the background; finds nothing (silently) when there is no session or no output file.
 */
export function watchAppUrl(options: AppUrlOptions): void {
  const { ctx, login } = options;
  const listening = ctx.listening;
  if (!listening) return;
  const over = new AbortController();
  void options.ended.then(() => over.abort());
  const signal = AbortSignal.any([ctx.signal, over.signal]);
  void (async () => {
    const path =
      options.stdout ??
      (await login(signal)
        .then((shell) => scontrolShowJob(shell, options.job, signal))
        .then((shown) => ('unknown' in shown ? undefined : shown.stdout))
        .catch(() => undefined));
    if (path === undefined) return;
    await watchOutputUrl({
      path,
      shell: options.node ?? login,
      forwards: options.forwards,
      listening: () => listening.call(ctx),
      signal,
      found: options.found,
    });
  })();
}
