import type { BackoffOptions } from './backoff.js';

/**
 * The defaults of every tunable, in one place: the library, tunnels.yaml and one-off flags all
 * start from these (design §1.1), so a number is never repeated.
 */
export const DEFAULTS: {
  readonly keepaliveMs: number;
  readonly keepaliveCountMax: number;
  readonly reconnect: Readonly<BackoffOptions>;
  readonly bindHost: string;
  readonly connectTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly holdMs: number;
  readonly maxHoldMs: number;
  readonly channelOpenTimeoutMs: number;
} = {
  /** SSH keepalive interval (OpenSSH ServerAliveInterval); dead after `keepaliveCountMax` misses. */
  keepaliveMs: 15_000,
  keepaliveCountMax: 3,
  /** Backoff between reconnect attempts, with jitter; forever unless the failure is fatal. */
  reconnect: { initialMs: 250, maxMs: 30_000 },
  /** Local listeners are private to this machine unless a bind address says otherwise. */
  bindHost: '127.0.0.1',
  /** Transport connect + SSH banner + key exchange (OpenSSH ConnectTimeout): a half-alive server fails fast. */
  connectTimeoutMs: 10_000,
  /** Authentication after the key exchange, not counting time a person spends at a prompt. */
  authTimeoutMs: 30_000,
  /** How long a connection accepted before its tunnel is ready waits, for a tunnel with no bound of its own. */
  holdMs: 30_000,
  /** The longest any connection is held, whatever the tunnel's own timeout (e.g. a Slurm job's). */
  maxHoldMs: 10 * 60_000,
  /** A channel the server neither confirms nor refuses (a session dying) stops being waited for. */
  channelOpenTimeoutMs: 30_000,
};
