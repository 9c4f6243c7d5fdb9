import { FwdError } from './errors.js';
import { percentExpand } from './percent-expand.js';

/** What `%` tokens of a ProxyCommand stand for (sshconnect.c expand_proxy_command). */
export interface ProxyCommandTokens {
  /** %h: the host name to connect to (HostName). */
  readonly host: string;
  /** %p */
  readonly port: number;
  /** %r: the remote user name. */
  readonly user: string;
  /** %n: the name as the user gave it (an alias of ~/.ssh/config); default `host`. */
  readonly originalHost?: string;
  /** %k: HostKeyAlias if set, else %n. */
  readonly hostKeyAlias?: string;
}

const ACCEPTED = '%%, %h, %k, %n, %p, %r';

/**
 * The shell command OpenSSH runs for a ProxyCommand: `exec ` + the command with `%h %p %r %n %k`
 * and `%%` expanded (misc.c percent_expand: any other `%x`, or a `%` at the end, is an error; no
 * `${VAR}` expansion, the shell does that). `exec` makes the shell become the command, so the
 * process fwd kills is the proxy itself.
 *
 * @example expandProxyCommand('ssh -W %h:%p gw', { host: 'node7', port: 22, user: 'alice' }) // 'exec ssh -W node7:22 gw'
 */
export function expandProxyCommand(command: string, tokens: ProxyCommandTokens): string {
  const original = tokens.originalHost ?? tokens.host;
  const values: Record<string, string> = {
    h: tokens.host,
    k: tokens.hostKeyAlias ?? original,
    n: original,
    p: String(tokens.port),
    r: tokens.user,
  };
  return percentExpand(`exec ${command}`, values, (key) => {
    throw new FwdError(
      'CONFIG_INVALID',
      key === ''
        ? `ProxyCommand "${command}" ends with a lone %: write %% for a percent sign`
        : `ProxyCommand "${command}" has the unknown token %${key} (it accepts ${ACCEPTED})`,
    );
  });
}

/** Throws CONFIG_INVALID for a ProxyCommand fwd cannot run (`-`, bad tokens); for `fwd check`. */
export function checkProxyCommand(command: string): void {
  if (command.trim() === '') throw new FwdError('CONFIG_INVALID', 'ProxyCommand is empty');
  if (command.trim() === '-') {
    throw new FwdError(
      'CONFIG_INVALID',
      "ProxyCommand - (the connection on ssh's own stdin/stdout) is not supported: give a command",
    );
  }
  expandProxyCommand(command, { host: 'h', port: 22, user: 'u' });
}
