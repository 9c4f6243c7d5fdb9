import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FwdError, fingerprint, type HostKeyMode, type HostKeyPolicy, knownHosts } from '@fwd/core';

/** The cluster's list of node keys as its login node has it (clusters ship one for all nodes). */
export const CLUSTER_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

export interface NodeHostKeysOptions {
  /** `strict` (the default everywhere) refuses a node no list knows; `accept-new` records it. */
  readonly mode: HostKeyMode;
  /** The user's known_hosts files on this machine (accept-new writes in the first). */
  readonly files: readonly string[];
  /** System-wide known_hosts files on this machine: read, never written. */
  readonly globalFiles?: readonly string[];
  /**
   * The cluster's own list, read on its login node over the (already verified) login session:
   * how a laptop verifies nodes it has never seen. Absent when fwd runs on the login node (its
   * /etc/ssh/ssh_known_hosts is then among `files`).
   */
  readonly cluster?: {
    /** The login host's name, for messages. */
    readonly where: string;
    read(): Promise<string>;
  };
}

/** A host key policy for compute nodes; `close()` removes its private copy of the cluster's list. */
export interface NodeHostKeys extends HostKeyPolicy {
  close(): Promise<void>;
}

/**
 * Checks a node's host key against this machine's known_hosts files and the cluster's
 * /etc/ssh/ssh_known_hosts, as OpenSSH checks user and global files together: a key listed in
 * either is trusted, one @revoked in either is refused, a different key for the node in either
 * is HOST_KEY_CHANGED. Core's parser does the matching (hashed names, patterns): the cluster's
 * list is copied to a private temporary file while the node connection lives.
 */
export function nodeHostKeys(options: NodeHostKeysOptions): NodeHostKeys {
  const files = [...options.files];
  const globalFiles = [...(options.globalFiles ?? [])];
  const recorder = knownHosts({ mode: options.mode, files, globalFiles });
  const cluster = options.cluster;
  if (!cluster) return { ...recorder, close: async () => undefined };
  const mine = knownHosts({ mode: 'strict', files, globalFiles });
  const listed = `${cluster.where}:${CLUSTER_KNOWN_HOSTS}`;
  let copy: Promise<{ dir: string; policy: HostKeyPolicy }> | undefined;
  let closed = false;

  const clusterPolicy = async (): Promise<HostKeyPolicy | undefined> => {
    if (closed) return undefined;
    copy ??= (async () => {
      const text = await cluster.read();
      const dir = await mkdtemp(join(tmpdir(), 'fwd-cluster-keys-'));
      const file = join(dir, 'ssh_known_hosts');
      await writeFile(file, text, { mode: 0o600 });
      return { dir, policy: knownHosts({ mode: 'strict', files: [], globalFiles: [file] }) };
    })();
    try {
      return (await copy).policy;
    } catch {
      // The login session went away while reading: no list this time, try again next time.
      copy = undefined;
      return undefined;
    }
  };

  return {
    async knownKeyTypes(host, port) {
      const policy = await clusterPolicy();
      const types = await Promise.all([
        mine.knownKeyTypes(host, port),
        policy?.knownKeyTypes(host, port) ?? [],
      ]);
      return [...new Set(types.flat())];
    },
    async verify(host, port, keyBlob) {
      const policy = await clusterPolicy();
      const [own, theirs] = await Promise.all([
        outcome(mine.verify(host, port, keyBlob)),
        policy ? outcome(policy.verify(host, port, keyBlob)) : 'unknown',
      ]);
      const key = `${blobType(keyBlob)} ${fingerprint(keyBlob)}`;
      if (own instanceof FwdError && own.code === 'HOST_KEY_REVOKED') throw own;
      if (theirs instanceof FwdError && theirs.code === 'HOST_KEY_REVOKED') {
        throw new FwdError(
          'HOST_KEY_REVOKED',
          `host key ${key} of node ${host} is marked @revoked in ${listed}; refusing to connect`,
        );
      }
      if (own === 'ok' || theirs === 'ok') return;
      if (own instanceof FwdError && own.code === 'HOST_KEY_CHANGED') throw own;
      if (theirs instanceof FwdError && theirs.code === 'HOST_KEY_CHANGED') {
        throw new FwdError(
          'HOST_KEY_CHANGED',
          `host key of node ${host} (now ${key}) does not match the one in ${listed} — possible attack, someone ` +
            `may be intercepting the connection, or the node was reinstalled; tell the cluster's admins`,
        );
      }
      if (options.mode === 'accept-new') return recorder.verify(host, port, keyBlob);
      throw new FwdError(
        'HOST_KEY_UNKNOWN',
        `host key of node ${host} is not known (${key}): it is neither in your known_hosts files nor in ${listed}` +
          `${policy ? '' : ' (which could not be read)'}; ask the cluster's admins for the nodes' keys and add ` +
          `${host}'s to ~/.ssh/known_hosts, or set hostKeys: accept-new`,
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      const made = await copy?.catch(() => undefined);
      if (made) await rm(made.dir, { recursive: true, force: true });
    },
  };
}

/** 'ok', 'unknown' (no line for the host), or the FwdError that said otherwise; other errors propagate. */
async function outcome(verifying: Promise<void>): Promise<'ok' | 'unknown' | FwdError> {
  try {
    await verifying;
    return 'ok';
  } catch (err) {
    if (!(err instanceof FwdError)) throw err;
    return err.code === 'HOST_KEY_UNKNOWN' ? 'unknown' : err;
  }
}

/** The key type named at the start of an SSH public key blob ("ssh-ed25519"). */
function blobType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && length < 64 && blob.length >= 4 + length
    ? blob.subarray(4, 4 + length).toString('latin1')
    : 'unknown';
}
