import type { HostConnection } from './host-connection.js';
import type { SshSession } from './ssh-session.js';
import type { ForwardSpec, ForwardStatus } from './tunnel-runtime.js';

/** Why a gated tunnel ended for good, e.g. its Slurm job finished. */
export interface TunnelEnd {
  /** True for a normal end (job COMPLETED, or cancelled by us); false for FAILED, TIMEOUT... */
  readonly ok: boolean;
  /** Shown to the user: "job 4242 COMPLETED", "job 4242 FAILED (NonZeroExitCode)". */
  readonly reason: string;
}

export interface GateContext {
  /** The host's live session (waits for one); for running commands such as squeue. */
  acquire(signal?: AbortSignal): Promise<SshSession>;
  /** Aborted when the tunnel is closed. */
  readonly signal: AbortSignal;
  /** Progress shown next to the `waiting` state: "job 4242 pending (Priority)"; after open, the detail. */
  progress(detail: string): void;
  /**
   * The forwards with the addresses they really listen on (port 0 resolved), once `open` has
   * resolved and they are bound; never settles if they could not be (race it with `signal`).
   */
  listening?(): Promise<readonly ForwardStatus[]>;
}

export interface GateOpen {
  /** The forwards to open now that their targets are known. */
  readonly forwards: readonly ForwardSpec[];
  /** Resolves when the tunnel must end (never rejects). */
  readonly ended: Promise<TunnelEnd>;
  /** Carry channels over this connection instead of the host's (e.g. a session into the job's node). */
  readonly via?: HostConnection;
  /** Shown after the state once open: "job 4242 on node1". */
  readonly detail?: string;
}

/**
 * What a tunnel waits for before it can forward — the supervisor knows nothing of Slurm; the
 * CLI's Slurm support is a gate. `open` rejects with a FwdError to fail the tunnel.
 */
export interface TunnelGate {
  open(context: GateContext): Promise<GateOpen>;
  /** Called once when the run stops (e.g. scancel the job we submitted). */
  close?(): Promise<void>;
}
