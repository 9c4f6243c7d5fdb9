import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FwdError } from './errors.js';
import { appendLine, cannotRecordKnownHosts, exclusively } from './known-hosts-append.js';
import {
  blobKeyType,
  fingerprint,
  formatKnownHostsLine,
  hostPatternsMatch,
  type KnownHostLine,
  knownHostsName,
  parseKnownHosts,
} from './known-hosts-file.js';

/** Decides whether a server's host key is the one we expect. */
export interface HostKeyPolicy {
  /** Resolves when the key is trusted; rejects with HOST_KEY_UNKNOWN / _CHANGED / _REVOKED. */
  verify(host: string, port: number, keyBlob: Buffer): Promise<void>;
  /** Key types already known for this host, so the handshake can ask for one of them first. */
  knownKeyTypes(host: string, port: number): Promise<string[]>;
}

export type HostKeyMode = 'strict' | 'accept-new';

export interface KnownHostsOptions {
  /** `strict` refuses unknown hosts; `accept-new` records them. A changed key is always refused. */
  mode?: HostKeyMode;
  /** The user's files; the first is where accept-new writes. Default ~/.ssh/known_hosts(2). */
  files?: string[];
  /** Files shipped by the system or the cluster; read, never written. */
  globalFiles?: string[];
  /** Hash names of lines written by accept-new (OpenSSH `HashKnownHosts`). */
  hashNewEntries?: boolean;
  /** Look keys up under this name instead of the host (OpenSSH `HostKeyAlias`). */
  hostKeyAlias?: string;
  /**
   * Told when accept-new accepts a key it cannot record (no user file, or /dev/null): that key
   * is not verified, now or next time.
   */
  warn?: (message: string) => void;
}

const DEFAULT_GLOBAL_FILES = ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];

/**
 * Host keys checked against OpenSSH known_hosts files, hashed entries and `[host]:port`
 * included. There is no accept-all mode.
 *
 * @example
 * const hostKeys = knownHosts({ mode: 'accept-new' });
 * await connect({ transport, username: 'alice', hostKeys });
 */
export function knownHosts(options: KnownHostsOptions = {}): HostKeyPolicy {
  const mode = options.mode ?? 'strict';
  const home = homedir();
  const userFiles = options.files ?? [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')];
  const globalFiles = options.globalFiles ?? DEFAULT_GLOBAL_FILES;
  const nameFor = (host: string, port: number): string =>
    options.hostKeyAlias !== undefined
      ? knownHostsName(options.hostKeyAlias, 22)
      : knownHostsName(host, port);

  async function linesFor(name: string): Promise<KnownHostLine[]> {
    const all = await Promise.all([...userFiles, ...globalFiles].map(readKnownHosts));
    return all.flat().filter((l) => hostPatternsMatch(l.hostPatterns, name));
  }

  return {
    async knownKeyTypes(host, port) {
      const lines = await linesFor(nameFor(host, port));
      return [...new Set(lines.filter((l) => l.marker === undefined).map((l) => l.keyType))];
    },
    async verify(host, port, keyBlob) {
      const name = nameFor(host, port);
      if (judge(await linesFor(name), name, keyBlob) === 'trusted') return;
      const type = blobKeyType(keyBlob) ?? 'unknown';
      const fp = fingerprint(keyBlob);
      if (mode === 'strict') {
        throw new FwdError(
          'HOST_KEY_UNKNOWN',
          `host key for ${name} is not known (${type} ${fp}); check the fingerprint with the server's admin, ` +
            `then add it (ssh-keyscan${port === 22 ? '' : ` -p ${port}`} ${host} >> ~/.ssh/known_hosts, ` +
            `or one interactive ssh login), or set hostKeys: accept-new`,
        );
      }
      // accept-new records in the first user file only, never in a global one.
      const target = userFiles[0];
      if (target === undefined || cannotRecordKnownHosts(target)) {
        const why =
          target === undefined
            ? 'there is no user known_hosts file (UserKnownHostsFile none)'
            : `${target} keeps nothing`;
        options.warn?.(
          `accepted the unknown host key of ${name} (${type} ${fp}) without recording it: ${why}; ` +
            'it is not verified, and any key will be accepted again next time',
        );
        return;
      }
      // Two first connections at once must not record two keys: check again, alone, then append.
      await exclusively(target, async () => {
        if (judge(await linesFor(name), name, keyBlob) === 'trusted') return;
        await appendLine(target, formatKnownHostsLine(name, keyBlob, options.hashNewEntries ?? false));
      });
    },
  };
}

/**
 * OpenSSH's check_host_key() on the lines for `name`: `trusted` when one holds this key,
 * `unknown` when none names the host; throws HOST_KEY_REVOKED for a @revoked key and
 * HOST_KEY_CHANGED when the host is known with other keys only.
 */
function judge(lines: KnownHostLine[], name: string, keyBlob: Buffer): 'trusted' | 'unknown' {
  const type = blobKeyType(keyBlob) ?? 'unknown';
  const fp = fingerprint(keyBlob);
  const revoked = lines.find((l) => l.marker === 'revoked' && l.keyBlob.equals(keyBlob));
  if (revoked) {
    throw new FwdError(
      'HOST_KEY_REVOKED',
      `host key ${type} ${fp} of ${name} is marked @revoked in ${revoked.file}:${revoked.line}; refusing to connect`,
    );
  }
  const candidates = lines.filter((l) => l.marker === undefined);
  if (candidates.some((l) => l.keyBlob.equals(keyBlob))) return 'trusted';
  const known = candidates.find((l) => l.keyType === type) ?? candidates[0];
  if (known) {
    throw new FwdError(
      'HOST_KEY_CHANGED',
      `host key for ${name} changed (now ${type} ${fp}) — possible attack, someone may be intercepting the ` +
        `connection; if the change is expected, remove line ${known.line} of ${known.file} ` +
        `(ssh-keygen -R '${name}' -f ${known.file}) and connect again`,
    );
  }
  return 'unknown';
}

async function readKnownHosts(file: string): Promise<KnownHostLine[]> {
  try {
    return parseKnownHosts(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
