import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Env } from './interpolate.js';
import { SshConfigError } from './ssh-config-lexer.js';
import type { Obtained } from './ssh-config-values.js';

/** What `%` tokens stand for on a connection (sshconnect.h DEFAULT_CLIENT_PERCENT_EXPAND_ARGS). */
export interface ConnectionTokens {
  /** The name as given (%n). */
  alias: string;
  /** The resolved HostName (%h). */
  hostName: string;
  port: number;
  /** Remote user (%r). */
  user: string;
  /** Local user (%u). */
  localUser: string;
  /** Home directory (%d, `~`). */
  homeDir: string;
  hostKeyAlias?: string;
}

/** The `%x` → value table OpenSSH uses for IdentityFile, CertificateFile, UserKnownHostsFile, IdentityAgent. */
export function tokenTable(t: ConnectionTokens): Record<string, string> {
  const thisHost = hostname();
  const port = String(t.port);
  return {
    C: createHash('sha1').update(`${thisHost}${t.hostName}${port}${t.user}`).digest('hex'),
    L: thisHost.split('.')[0] ?? thisHost,
    i: String(process.getuid?.() ?? ''),
    k: t.hostKeyAlias ?? t.alias,
    l: thisHost,
    n: t.alias,
    p: port,
    d: t.homeDir,
    h: t.hostName,
    r: t.user,
    u: t.localUser,
  };
}

/** `~`, `~/path` and `~localuser/path` as tilde_expand_filename() does; other users' homes are left as written. */
export function expandHome(path: string, homeDir: string, localUser: string): string {
  const match = /^~([^/]*)(?:\/+(.*))?$/.exec(path);
  if (match === null || (match[1] !== '' && match[1] !== localUser)) return path;
  return join(homeDir, match[2] ?? '') + (match[2] ? '' : '/');
}

/**
 * percent_dollar_expand(): `%x` from `tokens` (`%%` is `%`), `${VAR}` from the environment; an
 * unknown token or an unset variable is an error at the value's line, as ssh stops there too.
 */
export function expandTokens(
  value: Obtained<string>,
  tokens: Record<string, string>,
  env: Env,
  what: string,
): string {
  const fail = (why: string): never => {
    throw new SshConfigError(value.file, value.line, `${what} ${JSON.stringify(value.value)}: ${why}`);
  };
  return value.value.replace(
    /%(.?)|\$\{([^}]*)\}/g,
    (whole, key: string | undefined, name: string | undefined) => {
      if (name !== undefined) {
        if (name === '') fail('zero-length environment variable');
        return env[name] ?? fail(`environment variable ${whole} is not set`);
      }
      if (key === '%') return '%';
      return tokens[key ?? ''] ?? fail(`unknown token %${key}`);
    },
  );
}

/** A path setting as ssh uses it: `~` first, then tokens and `${VAR}`. */
export function expandPath(value: Obtained<string>, t: ConnectionTokens, env: Env, what: string): string {
  const home = { ...value, value: expandHome(value.value, t.homeDir, t.localUser) };
  return expandTokens(home, tokenTable(t), env, what);
}
