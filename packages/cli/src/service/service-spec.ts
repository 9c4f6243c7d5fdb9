/** What a login service runs: one `fwd up FILE`, named after the file like a background fwd. */
export interface ServiceSpec {
  /** The daemon name of the file (`tunnels-3f2a1c`), so one file has one service. */
  readonly name: string;
  /** The tunnels file, absolute. */
  readonly file: string;
  /** The program and its arguments: node, its flags, fwd's main.js, `up`, the file, flags. */
  readonly argv: readonly string[];
  /** ssh-agent's socket when it lives somewhere stable ($XDG_RUNTIME_DIR), for keys that need it. */
  readonly agentSocket?: string;
  /** The fwd version that wrote it, for the header. */
  readonly version: string;
}

/** How often a service's fwd writes its counters to the log: a line a minute, as a background fwd. */
export const SERVICE_STATS_INTERVAL = '60s';
