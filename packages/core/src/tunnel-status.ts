import { type BindAddress, type ForwardTarget, formatEndpoint } from './endpoints.js';
import type { FwdErrorCode } from './errors.js';
import type { HostState } from './host-connection.js';
import type { ForwardStats } from './listening-forward.js';
import type { TunnelEnd } from './tunnel-gate.js';

/** One forward of a tunnel, as `-L`, `-R` and `-D` describe them. */
export type ForwardSpec =
  | { readonly kind: 'local'; readonly bind: BindAddress; readonly target: ForwardTarget }
  | { readonly kind: 'remote'; readonly bind: BindAddress; readonly target: ForwardTarget }
  | { readonly kind: 'dynamic'; readonly bind: BindAddress };

export type TunnelState = 'connecting' | 'waiting' | 'up' | 'reconnecting' | 'failed' | 'ended' | 'stopped';

/** A forward as it is now: where connections come in, and where they go. */
export interface ForwardStatus {
  readonly kind: ForwardSpec['kind'];
  /** Local address bound (local, dynamic) or the server's listening address with its real port (remote). */
  readonly listen: string;
  /** "localhost:8888", "/run/app.sock", "SOCKS" for dynamic; as written ("{node}:8888") until a gate says. */
  readonly target: string;
}

/** Flat facts a gate reports about what it follows (a Slurm job: `job`, `node`, `endsAt`...). */
export type TunnelFacts = Readonly<Record<string, string | number | boolean>>;

export interface TunnelStatus extends ForwardStats {
  readonly name: string;
  readonly host: string;
  readonly state: TunnelState;
  /** What it is waiting for, or where it runs: "job 4242 pending (Priority)", "job 4242 on node1". */
  readonly detail: string | undefined;
  readonly forwards: readonly ForwardStatus[];
  readonly lastError: { readonly code: FwdErrorCode; readonly message: string } | undefined;
  /** Set once the tunnel ended for good (its job finished). */
  readonly ended: TunnelEnd | undefined;
  /** When the state last changed (epoch ms). */
  readonly since: number;
  readonly reconnects: number;
  /** Connections accepted before the tunnel was ready, waiting for it (held, not reset). */
  readonly connectionsWaiting: number;
  /** What the tunnel's gate last reported, if it has one. */
  readonly facts: TunnelFacts | undefined;
}

/** Everything the state of a tunnel is decided from, read off its parts. */
export interface StateInputs {
  readonly ended: boolean;
  readonly stopped: boolean;
  /** The tunnel's own failure (a bind, its gate), or its host failed for good. */
  readonly failed: boolean;
  /** False until the targets are known (a gate has opened; always true without a gate). */
  readonly opened: boolean;
  /** The connection carrying the channels; undefined when there is none yet (gated, no host). */
  readonly route: HostState | undefined;
  /** Remote forwards asked for but not granted, and whether the last request was refused. */
  readonly remotesMissing: number;
  readonly remoteRefused: boolean;
  /** A ready check is still waiting for the app to answer. */
  readonly readyPending: boolean;
}

/** The one rule that turns a tunnel's parts into the state users see. */
export function deriveTunnelState(i: StateInputs): TunnelState {
  if (i.ended) return 'ended';
  if (i.stopped) return 'stopped';
  if (i.failed) return 'failed';
  const route = i.route === 'closed' ? 'stopped' : i.route;
  // Before a gate opens its tunnel is waiting, once the host (if any) is there to ask.
  if (!i.opened) return route === undefined || route === 'up' ? 'waiting' : route;
  if (route !== 'up') return route ?? 'connecting';
  if (i.remotesMissing > 0) return i.remoteRefused ? 'reconnecting' : 'connecting';
  return i.readyPending ? 'waiting' : 'up';
}

/** The detail line: how a job ended, else what the ready check waits for, else the gate's latest. */
export function tunnelDetail(parts: {
  readonly end: TunnelEnd | undefined;
  readonly readyLine: string | undefined;
  readonly gateLine: string | undefined;
}): string | undefined {
  return parts.end?.reason ?? parts.readyLine ?? parts.gateLine;
}

/** What a status shows of a forward before its listener is bound, or once bound at `bound`. */
export function forwardStatus(
  spec: ForwardSpec,
  listen: { readonly bound: string | undefined; readonly remote: string | undefined },
): ForwardStatus {
  const target = spec.kind === 'dynamic' ? 'SOCKS' : formatEndpoint(spec.target);
  if (spec.kind === 'remote') {
    return {
      kind: spec.kind,
      listen: listen.remote ?? `${formatEndpoint(spec.bind, 'localhost')} (server)`,
      target,
    };
  }
  return { kind: spec.kind, listen: listen.bound ?? formatEndpoint(spec.bind), target };
}

/** Emits only what a user would see change: the key of a status without its counters and clock. */
export function reportKey(status: TunnelStatus): string {
  return JSON.stringify([
    status.state,
    status.detail,
    status.lastError,
    status.forwards,
    status.connectionsWaiting,
    status.facts,
  ]);
}

export function emptyStats(): ForwardStats {
  return {
    bytesToRemote: 0,
    bytesFromRemote: 0,
    connectionsOpen: 0,
    connectionsTotal: 0,
    connectionErrors: 0,
  };
}

/** The sum of several forwards' figures (live ones and retired ones). */
export function sumStats(all: readonly ForwardStats[]): ForwardStats {
  const sum = emptyStats();
  for (const s of all) {
    sum.bytesToRemote += s.bytesToRemote;
    sum.bytesFromRemote += s.bytesFromRemote;
    sum.connectionsOpen += s.connectionsOpen;
    sum.connectionsTotal += s.connectionsTotal;
    sum.connectionErrors += s.connectionErrors;
  }
  return sum;
}
