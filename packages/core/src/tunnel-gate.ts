import type { HostConnection } from './host-connection.js';
import type { SshSession } from './ssh-session.js';
import type { ForwardSpec, ForwardStatus, TunnelFacts } from './tunnel-status.js';

/** Why a gated tunnel ended for good, e.g. its Slurm job finished. */
export interface TunnelEnd {
  /** True for a normal end (job COMPLETED, or cancelled by us); false for FAILED, TIMEOUT... */
  readonly ok: boolean;
  /** Shown to the user: "job 4242 COMPLETED", "job 4242 FAILED (NonZeroExitCode)". */
  readonly reason: string;
}

/** Something worth telling the user once, as it happens (not a state): "job 4242 ends in 10 min". */
export interface TunnelNotice {
  readonly tunnel: string;
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly facts?: TunnelFacts;
}

export interface GateContext {
  /**
   * The host's live session (waits for one); for running commands such as squeue. Rejects with
   * CONFIG_INVALID for a tunnel without a host session (its gate must bring its own route).
   */
  acquire(signal?: AbortSignal): Promise<SshSession>;
  /** Aborted when the tunnel is closed. */
  readonly signal: AbortSignal;
  /**
   * Progress shown next to the state: "job 4242 pending (Priority)"; after open, the detail.
   * `facts` (when given) replace the tunnel's facts: what scripts read (`job`, `node`, `endsAt`).
   */
  progress(detail: string, facts?: TunnelFacts): void;
  /** Tells the user something once (a warning before a job's time limit, a job cancelled). */
  notice(level: TunnelNotice['level'], message: string, facts?: TunnelFacts): void;
  /**
   * The forwards with the addresses they really listen on (port 0 resolved), once `open` has
   * resolved and they are bound; never settles if they could not be (race it with `signal`).
   */
  listening?(): Promise<readonly ForwardStatus[]>;
}

export interface GateOpen {
  /**
   * The forwards to open now that their targets are known, in the order of the tunnel's own
   * `forwards`; one whose bind equals the one bound at start keeps that listener (and the
   * connections held on it).
   */
  readonly forwards: readonly ForwardSpec[];
  /** Resolves when the tunnel must end (never rejects). */
  readonly ended: Promise<TunnelEnd>;
  /**
   * Carry channels over this connection instead of the host's (e.g. a session into the job's
   * node); required for a tunnel without a host session.
   */
  readonly via?: HostConnection;
  /** Shown after the state once open: "job 4242 on node1". */
  readonly detail?: string;
}

/**
 * What a tunnel waits for before it can forward — the supervisor knows nothing of Slurm; the
 * CLI's Slurm support is a gate. `open` rejects with a FwdError to fail the tunnel. Until it
 * resolves, connections to the tunnel's listeners are held, not refused.
 */
export interface TunnelGate {
  open(context: GateContext): Promise<GateOpen>;
  /** Called once when the tunnel stops (e.g. scancel the job we submitted); may still send notices. */
  close?(): Promise<void>;
}
