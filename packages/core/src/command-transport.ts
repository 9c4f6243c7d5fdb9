import { spawn } from 'node:child_process';
import { ChildProcessStream } from './child-process-stream.js';
import { abortError, FwdError } from './errors.js';
import { checkProxyCommand, expandProxyCommand, type ProxyCommandTokens } from './proxy-command.js';
import type { Transport } from './transport.js';

export interface CommandTransportOptions extends ProxyCommandTokens {
  /** As ~/.ssh/config writes a ProxyCommand: `%h %p %r %n %k %%` are expanded at each connect. */
  command: string;
  /** The shell that runs it; default $SHELL, else /bin/sh (as OpenSSH does). */
  shell?: string;
  /** The command's environment; default this process's. */
  env?: NodeJS.ProcessEnv;
  /** Told each line the command writes on stderr (a login URL to open, a warning). */
  onStderr?: (line: string) => void;
}

/**
 * SSH over a command's stdin/stdout, like OpenSSH's ProxyCommand (`cloudflared access ssh`,
 * `ssh -W %h:%p gateway`, `aws ssm start-session`, ...). Each connect runs a new process:
 * `$SHELL -c "exec COMMAND"`, in a process group of its own, without the terminal (it must not
 * prompt; fwd prompts for its own logins). Closing or aborting kills the group. Host keys are
 * checked for `host:port`. The command is run at connect time only: never to probe reachability.
 *
 * @example
 * await connect({ transport: commandTransport({ command: 'ssh -W %h:%p gw', host: 'node7', port: 22, user: 'alice' }), username: 'alice' });
 */
export function commandTransport(options: CommandTransportOptions): Transport {
  checkProxyCommand(options.command);
  const port = options.port ?? 22;
  const what = `ProxyCommand "${options.command}"`;
  return {
    description: `command ${options.command}`,
    endpoint: { host: options.host, port },
    probe: false,
    connect(signal: AbortSignal): Promise<ChildProcessStream> {
      if (signal.aborted) return Promise.reject(abortError(signal, `run ${what}`));
      const script = expandProxyCommand(options.command, { ...options, port });
      const shell = options.shell ?? (process.env.SHELL || '/bin/sh');
      const child = spawn(shell, ['-c', script], {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, so that closing kills what it started too, and a Ctrl-C on
        // fwd's terminal reaches fwd (which closes the session in order) rather than the proxy.
        detached: true,
        env: options.env ?? process.env,
      });
      const stream = new ChildProcessStream(child, {
        what,
        ...(options.onStderr ? { onStderr: options.onStderr } : {}),
      });
      return new Promise((resolve, reject) => {
        const onAbort = (): void => {
          settle();
          stream.destroy();
          reject(abortError(signal, `run ${what}`));
        };
        const onError = (err: Error): void => {
          settle();
          stream.destroy();
          reject(
            new FwdError('CONFIG_INVALID', `cannot run ${what} with ${shell}: ${err.message}`, {
              cause: err,
            }),
          );
        };
        const settle = (): void => {
          signal.removeEventListener('abort', onAbort);
          child.off('error', onError);
          child.off('spawn', onSpawn);
        };
        const onSpawn = (): void => {
          settle();
          resolve(stream);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        child.once('error', onError);
        child.once('spawn', onSpawn);
      });
    },
  };
}
