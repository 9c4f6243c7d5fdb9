import type { Client, ClientChannel } from 'ssh2';
import { fromChannelOpenError } from './error-translation.js';
import { abortError, FwdError } from './errors.js';

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
  const limit = options.maxOutputBytes ?? 4 * 1024 * 1024;
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
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const collect = (into: Buffer[]) => (chunk: Buffer) => {
          if (size + chunk.length > limit) {
            truncated = true;
            return;
          }
          size += chunk.length;
          into.push(chunk);
        };
        ch.on('data', collect(out));
        ch.stderr.on('data', collect(errOut));
        let code: number | null = null;
        let exitSignal: string | undefined;
        ch.on('exit', (c: number | null, s?: string) => {
          code = c;
          exitSignal = s ?? undefined;
        });
        ch.on('close', () => {
          signal?.removeEventListener('abort', onAbort);
          resolve({
            code,
            signal: exitSignal,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            truncated,
          });
        });
        ch.end(options.stdin);
      });
    } catch (err) {
      signal?.removeEventListener('abort', onAbort);
      reject(new FwdError('TRANSPORT_CLOSED', `session to ${where} is closed`, { cause: err }));
    }
  });
}
