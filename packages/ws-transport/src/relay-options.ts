import type { TcpAddress } from '@fwd/core';
import type { TokenVerifier } from './relay-auth.js';

// What a relay is started with and what it reports: the public face of startRelay().

export interface RelayOptions {
  /** Where to listen; host defaults to 127.0.0.1 (behind a reverse proxy), port 0 picks one. */
  listen: { host?: string; port: number };
  /** The only SSH hosts clients may reach, compared by name and port (names are never resolved). */
  allow: readonly TcpAddress[];
  /** Where a client that names no target goes; default the first `allow` entry. Always allowed. */
  defaultTarget?: TcpAddress;
  /** Accepted bearer tokens (at least one, each ≥16 characters), or a prepared verifier. */
  tokens: readonly string[] | TokenVerifier;
  /** Serve wss:// directly; without it the relay speaks plain ws:// for a TLS-terminating proxy. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Client connections beyond which new ones are refused (503 on plain HTTP, closed under TLS):
   * tunnels and connections still handshaking alike. Default 2048.
   */
  maxConnections?: number;
  /** From TCP accept to a complete upgrade request (TLS included); then the connection is cut. Default 5 s. */
  handshakeTimeoutMs?: number;
  /** Close a tunnel after this long without a byte either way; 0 (default) = never. */
  idleTimeoutMs?: number;
  /** Ping interval to find dead clients; a client that misses one whole interval is dropped. Default 30 s; 0 = off. */
  pingIntervalMs?: number;
  /** Largest websocket message accepted; bigger ones close that tunnel (1009). Default 1 MiB. */
  maxPayload?: number;
  /** Bound on connecting to the SSH host. Default 10 s. */
  connectTimeoutMs?: number;
  /** One structured event per call, ready for `JSON.stringify`; never contains a token. */
  log?: (event: RelayLogEvent) => void;
  /** Aborting starts a graceful close (default drain). */
  signal?: AbortSignal;
}

export interface RelayLogEvent {
  readonly ts: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface RelayStats {
  readonly status: 'ok' | 'draining' | 'closed';
  readonly connectionsActive: number;
  /** Client connections that have not completed an upgrade request yet. */
  readonly handshakesPending: number;
  readonly connectionsTotal: number;
  readonly rejected: number;
  readonly bytesToTargets: number;
  readonly bytesFromTargets: number;
  /** Bytes held in the relay's buffers right now (towards clients and towards SSH hosts). */
  readonly bytesQueued: number;
  readonly uptimeMs: number;
}

export interface RelayCloseOptions {
  /** How long open tunnels may go on before they are closed (1001). Default 10 s. */
  drainMs?: number;
}

/** A running relay. Closing it stops accepting, drains tunnels up to a deadline, then closes them. */
export interface Relay extends AsyncDisposable {
  readonly address: { readonly host: string; readonly port: number };
  readonly stats: RelayStats;
  /** Resolves once the relay has closed (after {@link close} or the signal). Never rejects. */
  readonly closed: Promise<void>;
  /**
   * Replaces the accepted tokens for every handshake from now on (open tunnels go on): token
   * rotation without a restart. Throws CONFIG_INVALID, as startRelay does, and then keeps the old ones.
   */
  setTokens(tokens: readonly string[] | TokenVerifier): void;
  /** Idempotent. */
  close(options?: RelayCloseOptions): Promise<void>;
}
