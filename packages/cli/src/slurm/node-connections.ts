import {
  abortable,
  type BackoffOptions,
  FwdError,
  HostConnection,
  type HostKeyMode,
  type HostSpec,
  type HostStatus,
  type SshSession,
} from '@fwd/core';
import { CLUSTER_KNOWN_HOSTS, type NodeHostKeys, nodeHostKeys } from './node-host-keys.js';
import { type LoginHop, NodeRefusedError, nodeTransport, refusalHint } from './node-transport.js';
import { shellCommand } from './slurm-commands.js';

/** What fwd needs to SSH into the compute nodes behind one host of tunnels.yaml. */
export interface NodeAccess {
  /** The host's name in tunnels.yaml ("cluster"). */
  readonly host: string;
  /** Slurm runs on this machine (`local: true`): nodes are dialled over TCP, not through a login session. */
  readonly local: boolean;
  /** The host's session settings (user, keys, agent, prompts, keepalive): homes are shared, so they work on nodes. */
  readonly session: HostSpec['session'];
  /** Keys and certificates as they are on disk at each login (see HostSpec.freshCredentials). */
  readonly freshCredentials?: HostSpec['freshCredentials'];
  readonly reconnect?: BackoffOptions;
  /** The user's known_hosts files on this machine (accept-new records in the first). */
  readonly knownHostsFiles: readonly string[];
  /** System-wide known_hosts files on this machine: read, never written. */
  readonly globalKnownHostsFiles?: readonly string[];
  readonly hostKeyMode: HostKeyMode;
}

/** One tunnel's hold on a node connection; the last release closes it. */
export interface NodeLease {
  readonly connection: HostConnection;
  /** Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  readonly connection: HostConnection;
  readonly hostKeys: NodeHostKeys;
  readonly ready: Promise<void>;
  users: number;
}

/**
 * SSH sessions into compute nodes, one per job and node, shared by every tunnel of that job:
 * through the login session (a ProxyJump) or straight over TCP when fwd runs on the login node.
 * A lease resolves once the first session is up, or rejects when the node refuses (no job of
 * ours there: pam_slurm_adopt) or its host key does not check out.
 */
export class NodeConnections {
  readonly #access: NodeAccess;
  readonly #entries = new Map<string, Entry>();

  constructor(access: NodeAccess) {
    this.#access = access;
  }

  /**
   * A connection to `node` for job `job`. `login` gives the host's live session (any tunnel's
   * will do); a local host does not use it. Rejects when the first attempt is refused.
   */
  async lease(
    job: string,
    node: string,
    login: (signal: AbortSignal) => Promise<SshSession>,
    signal: AbortSignal,
  ): Promise<NodeLease> {
    const key = `${job}\0${node}`;
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = this.#open(
        job,
        node,
        this.#access.local ? undefined : { name: this.#access.host, acquire: login },
      );
      this.#entries.set(key, entry);
    }
    const held = entry;
    held.users++;
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users > 0) return;
      if (this.#entries.get(key) === held) this.#entries.delete(key);
      await held.connection.close();
      await held.hostKeys.close();
    };
    try {
      await abortable(held.ready, signal, 'connecting to the node');
    } catch (err) {
      await release();
      throw err;
    }
    return { connection: held.connection, release };
  }

  #open(job: string, node: string, login: LoginHop | undefined): Entry {
    const access = this.#access;
    const hop = login;
    const cluster = hop
      ? {
          where: hop.name,
          read: async () => {
            const shown = await (await hop.acquire(AbortSignal.timeout(30_000))).exec(
              shellCommand(['cat', CLUSTER_KNOWN_HOSTS]),
              { maxOutputBytes: 4 * 1024 * 1024 },
            );
            // No such file on the login node: an empty list, and messages will say so.
            return shown.code === 0 ? shown.stdout : '';
          },
        }
      : undefined;
    const hostKeys = nodeHostKeys({
      mode: access.hostKeyMode,
      files: access.knownHostsFiles,
      ...(access.globalKnownHostsFiles ? { globalFiles: access.globalKnownHostsFiles } : {}),
      ...(cluster ? { cluster } : {}),
    });
    const route = nodeTransport(node, hop);
    const spec: HostSpec = {
      name: `${node} (job ${job})`,
      address: { host: node, port: 22 },
      transport: route.transport,
      session: { ...access.session, hostKeys },
    };
    if (access.freshCredentials) spec.freshCredentials = access.freshCredentials;
    if (access.reconnect) spec.reconnect = access.reconnect;
    const connection = new HostConnection(spec, undefined);
    connection.on('up', () => route.established());
    const ready = firstSession(connection, node, hop?.name ?? 'this machine');
    // Observed by every lease; unobserved only if nobody leases, which cannot happen.
    ready.catch(() => undefined);
    connection.start();
    return { connection, hostKeys, ready, users: 0 };
  }
}

/**
 * Settles on the first attempt's outcome: up, or a failure. A refusal or a fatal error (auth,
 * host key) rejects; anything else (the login session dropped, a timeout) resolves, since the
 * connection keeps retrying and the tunnel shows it.
 */
function firstSession(connection: HostConnection, node: string, from: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = (status: HostStatus): void => {
      const outcome = firstOutcome(status, node, from);
      if (outcome !== 'pending') finish(outcome === 'proceed' ? undefined : outcome);
    };
    const finish = (error?: FwdError): void => {
      connection.off('status', check);
      if (error) reject(error);
      else resolve();
    };
    connection.on('status', check);
    check(connection.status);
  });
}

/**
 * `proceed` (up, or a transient failure the connection retries), `pending` (no outcome yet), or
 * why the first attempt failed for good.
 */
function firstOutcome(status: HostStatus, node: string, from: string): 'proceed' | 'pending' | FwdError {
  if (status.state === 'up') return 'proceed';
  if (status.state === 'closed') return new FwdError('TRANSPORT_CLOSED', `connection to ${node} closed`);
  const error = status.lastError;
  if (!error) return 'pending';
  if (error instanceof NodeRefusedError) return new FwdError('AUTH_FAILED', error.message, { cause: error });
  if (status.state !== 'failed') return 'proceed';
  if (error.code !== 'AUTH_FAILED') return error;
  return new FwdError(
    'AUTH_FAILED',
    `SSH into ${node} was refused: ${error.message}. ${refusalHint(node, from)}`,
    {
      cause: error,
    },
  );
}
