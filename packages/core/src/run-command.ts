import type { Client, ClientChannel } from 'ssh2';
import { fromChannelOpenError } from './error-translation.js';
import { abortError, FwdError } from './errors.js';
import { DEFAULT_MAX_OUTPUT_BYTES, OutputCapture } from './output-capture.js';

export interface RunCommandOptions {
  signal?: AbortSignal;
  /** Bytes written to the command's stdin, then EOF. */
  stdin?: string | Buffer;
  /** Output beyond this is dropped (and `truncated` set): commands are for small answers. */
  maxOutputBytes?: number;
}

export interface CommandResult {
  /** Exit status; null when the command died from a signal or the channel closed without one. */
  readonly code: number | null;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly truncated: boolean;
}

/** Runs one command over an exec channel and collects its output. */
export function runCommand(
  client: Client,
  where: string,
  command: string,
  options: RunCommandOptions,
): Promise<CommandResult> {
  const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const signal = options.signal;
  return new Promise<CommandResult>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal, `run "${command}" on ${where}`));
    let channel: ClientChannel | undefined;
    const onAbort = (): void => {
      channel?.signal('TERM');
      channel?.close();
      reject(abortError(signal, `run "${command}" on ${where}`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      client.exec(command, (err, ch) => {
        if (err) {
          signal?.removeEventListener('abort', onAbort);
          return reject(fromChannelOpenError(err, `a command channel`, where));
        }
        channel = ch;
        const output = new OutputCapture(limit);
        ch.on('data', output.stdout);
        ch.stderr.on('data', output.stderr);
        let code: number | null = null;
        let exitSignal: string | undefined;
        ch.on('exit', (c: number | null, s?: string) => {
          code = c;
          exitSignal = s ?? undefined;
        });
        ch.on('close', () => {
          signal?.removeEventListener('abort', onAbort);
          resolve({ code, signal: exitSignal, ...output.result() });
        });
        ch.end(options.stdin);
      });
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      reject(new FwdError('TRANSPORT_CLOSED', `session to ${where} is closed`, { cause: err }));
    }
  });
}
