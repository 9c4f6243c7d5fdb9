// The run's knobs, all from the environment, with defaults that keep `npm run bench` under five
// minutes on a 2-core machine.
import { join } from 'node:path';
import { REPO } from './forwarders.js';

export interface BenchConfig {
  /** Rounds; each alternates baseline and candidate (odd rounds baseline first). */
  readonly rounds: number;
  readonly uploadMiB: number;
  readonly downloadMiB: number;
  /** Sequential connect+echo: at most this many connections… */
  readonly sequentialMax: number;
  /** …or this many seconds, whichever comes first. */
  readonly sequentialSeconds: number;
  readonly parallelConnections: number;
  readonly parallelKiB: number;
  readonly idleConnections: number;
  readonly churnConnections: number;
  readonly churnConcurrency: number;
  /** A connection making no progress this long has stalled. */
  readonly stallMs: number;
  readonly versionRuns: number;
  /** Run the websocket row when the ws transport is there (BENCH_WS=0 skips it). */
  readonly websocket: boolean;
  /** Round trips of the long-path rows, ms (BENCH_WAN_RTT=50,100; 0 skips them). */
  readonly longPathRtts: number[];
  /** MiB each way per long-path transfer. */
  readonly longPathMiB: number;
  readonly longPathRounds: number;
  /** Exit non-zero when a target is missed, not only on correctness failures. */
  readonly strict: boolean;
  readonly resultsFile: string;
  readonly chartFile: string;
}

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return value;
}

function pair(name: string, fallback: [number, number]): [number, number] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+)x(\d+)$/.exec(raw);
  if (!m) throw new Error(`${name}=${raw}: expected CONNSxKIB, e.g. 2000x16`);
  return [Number(m[1]), Number(m[2])];
}

function rtts(raw: string): number[] {
  if (raw.trim() === '0') return [];
  const values = raw.split(',').map((x) => Number(x.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) {
    throw new Error(`BENCH_WAN_RTT=${raw}: expected round trips in ms, e.g. 50,100 (0 skips)`);
  }
  return values;
}

export function loadConfig(): BenchConfig {
  const [parallelConnections, parallelKiB] = pair('BENCH_PAR', [2000, 16]);
  return {
    rounds: Math.round(num('R', 5)),
    uploadMiB: num('BENCH_UP_MIB', 256),
    downloadMiB: num('BENCH_DOWN_MIB', 256),
    sequentialMax: num('BENCH_SEQ_MAX', 2000),
    sequentialSeconds: num('BENCH_SEQ_S', 4),
    parallelConnections,
    parallelKiB,
    idleConnections: num('BENCH_IDLE', 1000),
    churnConnections: num('BENCH_CHURN', 10_000),
    churnConcurrency: num('BENCH_CHURN_CONCURRENCY', 50),
    stallMs: num('BENCH_STALL_S', 20) * 1000,
    versionRuns: num('BENCH_VERSION_RUNS', 10),
    websocket: process.env.BENCH_WS !== '0',
    longPathRtts: rtts(process.env.BENCH_WAN_RTT ?? '50,100'),
    longPathMiB: num('BENCH_WAN_MIB', 64),
    longPathRounds: Math.round(num('BENCH_WAN_R', 9)),
    strict: process.env.BENCH_STRICT === '1',
    resultsFile: process.env.BENCH_OUT ?? join(REPO, 'bench/results.json'),
    chartFile: process.env.BENCH_CHART ?? join(REPO, 'docs/bench.svg'),
  };
}
