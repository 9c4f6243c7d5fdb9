// bench/results.json: everything one run measured, with the machine it ran on. The table and
// the chart are both drawn from this object.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ColdStart } from './cold-start.js';
import type { BenchConfig } from './config.js';
import type { CandidateKind } from './forwarders.js';
import type { LongPathResult } from './long-path.js';
import type { Machine } from './machine.js';
import type { MetricId } from './metrics.js';
import type { LeftOpen } from './rounds.js';
import type { CpuSummary, Failure, MetricSummary, Side } from './summary.js';
import type { TargetCheck } from './targets.js';
import type { WsResult } from './ws-row.js';

export interface BenchResults {
  readonly schema: 1;
  readonly machine: Machine;
  readonly durationSeconds: number;
  readonly config: Omit<BenchConfig, 'resultsFile' | 'chartFile'>;
  readonly cipher: string;
  readonly baseline: { readonly label: string; readonly command: string };
  readonly candidate: {
    readonly kind: CandidateKind;
    readonly label: string;
    readonly command: string;
    /** ssh2's native AES-GCM binding, as the stand-in reports it. */
    readonly nativeCrypto: boolean | undefined;
  };
  readonly metrics: MetricSummary[];
  readonly cpu: CpuSummary[];
  /** Median CPU the rest of the machine used during the measurements, in cores. */
  readonly backgroundCores: number;
  /** Peak RSS (Σ VmHWM over the process tree) over the whole run, MB. */
  readonly peakRssMB: { readonly baseline: number; readonly candidate: number };
  /** Connections a forwarder kept after their clients had gone (a leak, or slow teardown). */
  readonly leftOpen: LeftOpen[];
  readonly coldStart: { readonly fwd: ColdStart; readonly sshV: ColdStart } | undefined;
  readonly websocket: WsResult;
  /** Through a delay proxy (RTT 50 and 100 ms by default): the long-haul rows. */
  readonly longPath: LongPathResult;
  readonly targets: TargetCheck[];
  readonly correctness: {
    readonly ok: boolean;
    readonly failures: Array<{ readonly metric: MetricId | 'run'; readonly side: Side } & Failure>;
  };
}

/** Five significant digits are plenty for numbers this noisy, and keep the diff of the file readable. */
function rounded(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(5)) : value;
}

export function writeResults(file: string, results: BenchResults): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, rounded, 2)}\n`);
}
