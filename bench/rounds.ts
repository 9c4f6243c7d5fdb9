// The measurement loop: R rounds, every metric in each, baseline and candidate alternating which
// goes first, so slow drift of a shared machine lands on both sides alike.
import type { BenchConfig } from './config.js';
import { type Forwarder, StartError } from './forwarders.js';
import { CorrectnessError } from './load.js';
import { measure, type Observed, type Sample } from './measure.js';
import { METRIC_IDS, type MetricId, metricInfo } from './metrics.js';
import { type Failure, Recorder, type Side } from './summary.js';

export interface RoundsContext {
  readonly config: BenchConfig;
  readonly observed: Observed;
  readonly forwarders: Record<Side, Forwarder>;
  /** Starts another forwarder of a side (for the fresh-process metric). */
  readonly start: Record<Side, (name: string) => Promise<Forwarder>>;
  readonly log: (msg: string) => void;
}

export type RunFailure = { readonly metric: 'run'; readonly side: Side } & Failure;

/** Connections a forwarder kept open after the load that made them had closed its side. */
export interface LeftOpen {
  readonly side: Side;
  readonly round: number;
  /** The load whose connections they were (the one before the measurement that found them). */
  readonly after: string;
  readonly count: number;
  readonly detail: string;
}

export interface RoundsOutcome {
  readonly recorder: Recorder;
  /** A forwarder that died mid-run. */
  readonly runFailures: RunFailure[];
  readonly leftOpen: LeftOpen[];
}

function describe(metric: MetricId, s: Sample, config: BenchConfig): string {
  const info = metricInfo(metric, config);
  const c = s.cpu;
  const cpu =
    `CPU ms: fwd ${c.forwarder.toFixed(0)} sshd ${c.sshd.toFixed(0)} sink ${c.sink.toFixed(0)} ` +
    `load ${c.load.toFixed(0)} other ${c.other.toFixed(0)}${c.steal > 0 ? ` steal ${c.steal.toFixed(0)}` : ''}`;
  const errors = s.errors > 0 ? `, ${s.errors} errors (${s.firstError})` : '';
  return `${s.value.toFixed(info.digits)} ${info.unit}${errors}${s.note ? `, ${s.note}` : ''}; ${cpu}`;
}

/** Same work at small sizes, not recorded: both forwarders start the rounds warm (JIT, caches). */
export async function warmUp(ctx: RoundsContext): Promise<void> {
  // 64 MiB: enough for a Node forwarder's heap and buffers to reach their steady size
  const small = {
    ...ctx.config,
    uploadMiB: 64,
    downloadMiB: 64,
    sequentialMax: 200,
    parallelConnections: 200,
  };
  for (const f of Object.values(ctx.forwarders)) {
    for (const metric of ['upload', 'download', 'sequential', 'parallel'] as const) {
      await measure(metric, f, small, ctx.observed).catch((err: Error) =>
        ctx.log(`warm-up ${metric} ${f.label}: ${err.message}`),
      );
    }
  }
}

async function measureOnce(ctx: RoundsContext, metric: MetricId, side: Side, round: number): Promise<Sample> {
  if (metric !== 'idleRssFresh') return measure(metric, ctx.forwarders[side], ctx.config, ctx.observed);
  // a process that has carried nothing yet: its footprint without the earlier loads' high-water mark
  const fresh = await ctx.start[side](`${side}-fresh-${round}`);
  try {
    return await measure('idleRss', fresh, ctx.config, ctx.observed);
  } finally {
    await fresh.child.stop();
  }
}

/**
 * The throughput loads' R rounds first, then the memory rows' R rounds: measuring RSS at rest
 * lets fwd hand memory back (packages/cli/src/runtime/memory-return.ts), and the transfer after
 * that pays page faults to take it again, which would land in the CPU rows as a rest's cost,
 * not a transfer's (bench/README.md, Memory).
 */
function* schedule(rounds: number): Generator<[number, MetricId]> {
  const memoryRow = (m: MetricId): boolean => m === 'idleRss' || m === 'idleRssFresh' || m === 'churnRss';
  for (const memory of [false, true]) {
    for (let round = 1; round <= rounds; round++) {
      for (const metric of METRIC_IDS) if (memoryRow(metric) === memory) yield [round, metric];
    }
  }
}

export async function runRounds(ctx: RoundsContext): Promise<RoundsOutcome> {
  const { config, log } = ctx;
  const recorder = new Recorder();
  const runFailures: RunFailure[] = [];
  const leftOpen: LeftOpen[] = [];
  const previous: Record<Side, string> = { baseline: 'warm-up', candidate: 'warm-up' };
  for (const [round, metric] of schedule(config.rounds)) {
    const order: Side[] = round % 2 === 1 ? ['baseline', 'candidate'] : ['candidate', 'baseline'];
    for (const side of order) {
      const f = ctx.forwarders[side];
      if (recorder.failed(metric, side) || !f.child.alive) continue;
      try {
        const sample = await measureOnce(ctx, metric, side, round);
        recorder.record(metric, side, round, sample);
        log(`round ${round}/${config.rounds} ${metric} ${f.label}: ${describe(metric, sample, config)}`);
        if (sample.lingering) {
          const { count, detail } = sample.lingering;
          leftOpen.push({ side, round, after: previous[side], count, detail });
          log(`WARNING: ${f.label} kept ${count} connections of ${previous[side]} open: ${detail}`);
        }
      } catch (err) {
        // wrong bytes, a lost half-close, or a forwarder that died or would not start
        const correctness = err instanceof CorrectnessError || err instanceof StartError || !f.child.alive;
        const message = (err as Error).message;
        recorder.fail(metric, side, { round, message, correctness });
        log(
          `round ${round} ${metric} ${f.label}: ${correctness ? 'CORRECTNESS FAILURE' : 'FAILED'}: ${message}`,
        );
      }
      if (metric !== 'idleRssFresh') previous[side] = `${metric} (round ${round})`;
      if (!f.child.alive && !runFailures.some((x) => x.side === side)) {
        const exit = await f.child.exited;
        const message = `${f.label} exited (code ${exit.code}, signal ${exit.signal}) during ${metric}:\n${f.child.logTail()}`;
        runFailures.push({ metric: 'run', side, round, message, correctness: true });
        log(message);
      }
    }
  }
  return { recorder, runFailures, leftOpen };
}
