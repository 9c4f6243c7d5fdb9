// Collects each round's samples and boils them down: medians per side, ratios oriented so that
// > 1 means the candidate is better, and CPU per unit of work for each process on the path.
import type { BenchConfig } from './config.js';
import type { CpuSplit, Sample } from './measure.js';
import { METRIC_IDS, type MetricId, type MetricInfo, metricInfo, orientedRatio } from './metrics.js';

export type Side = 'baseline' | 'candidate';
export const SIDES: readonly Side[] = ['baseline', 'candidate'];

export interface Failure {
  readonly round: number;
  readonly message: string;
  /** Bytes wrong, half-close lost, forwarder died: the run as a whole fails. */
  readonly correctness: boolean;
}

export interface SideSummary {
  /** One per round that succeeded, in round order. */
  readonly values: number[];
  readonly median: number | undefined;
  readonly failure: Failure | undefined;
  /** Failed connections over all rounds (connection metrics). */
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly notes: string[];
  /** Median RSS before the load (idle connections), MB. */
  readonly restingMB: number | undefined;
}

export interface MetricSummary {
  readonly id: MetricId;
  readonly info: MetricInfo;
  readonly baseline: SideSummary;
  readonly candidate: SideSummary;
  /** Of the medians; undefined when either side has no value. */
  readonly ratio: number | undefined;
  /** Per round where both sides succeeded: shows the noise. */
  readonly roundRatios: number[];
}

/** CPU per unit of work: ms per GiB carried, or µs per connection. */
export interface CpuPerUnit {
  readonly unit: 'ms/GiB' | 'µs/conn';
  readonly forwarder: number;
  readonly sshd: number;
  readonly sink: number;
  readonly load: number;
  readonly other: number;
  readonly steal: number;
  /** Wall time per unit, same scale: CPU above it means several cores were busy. */
  readonly wall: number;
}

export interface CpuSummary {
  readonly metric: MetricId;
  readonly baseline: CpuPerUnit | undefined;
  readonly candidate: CpuPerUnit | undefined;
  /** baseline forwarder CPU / candidate forwarder CPU: > 1 = the candidate spends less. */
  readonly forwarderRatio: number | undefined;
}

/** Background load (cores) above which a run's figures are called disturbed. */
export const BUSY_CORES = 0.25;

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] ?? 0;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? hi) + hi) / 2;
}

export class Recorder {
  readonly #samples = new Map<string, Map<number, Sample>>();
  readonly #failures = new Map<string, Failure>();

  record(metric: MetricId, side: Side, round: number, sample: Sample): void {
    const key = `${metric}/${side}`;
    const byRound = this.#samples.get(key) ?? new Map<number, Sample>();
    byRound.set(round, sample);
    this.#samples.set(key, byRound);
  }

  fail(metric: MetricId, side: Side, failure: Failure): void {
    this.#failures.set(`${metric}/${side}`, failure);
  }

  /** A side that failed a metric is not measured on it again. */
  failed(metric: MetricId, side: Side): boolean {
    return this.#failures.has(`${metric}/${side}`);
  }

  samples(metric: MetricId, side: Side): Map<number, Sample> {
    return this.#samples.get(`${metric}/${side}`) ?? new Map<number, Sample>();
  }

  failures(): Array<{ metric: MetricId; side: Side } & Failure> {
    return [...this.#failures].map(([key, f]) => {
      const [metric, side] = key.split('/') as [MetricId, Side];
      return { metric, side, ...f };
    });
  }

  side(metric: MetricId, side: Side): SideSummary {
    const samples = [...this.samples(metric, side).values()];
    const values = samples.map((s) => s.value);
    return {
      values,
      median: median(values),
      failure: this.#failures.get(`${metric}/${side}`),
      errors: samples.reduce((n, s) => n + s.errors, 0),
      firstError: samples.find((s) => s.firstError !== undefined)?.firstError,
      notes: samples.flatMap((s) => (s.note === undefined ? [] : [s.note])),
      restingMB: median(samples.flatMap((s) => (s.memoryBefore ? [s.memoryBefore.rss / 1e6] : []))),
    };
  }

  metric(id: MetricId, config: BenchConfig): MetricSummary {
    const info = metricInfo(id, config);
    const baseline = this.side(id, 'baseline');
    const candidate = this.side(id, 'candidate');
    const b = this.samples(id, 'baseline');
    const c = this.samples(id, 'candidate');
    const roundRatios: number[] = [];
    for (const [round, bs] of b) {
      const cs = c.get(round);
      if (cs) roundRatios.push(orientedRatio(info.better, bs.value, cs.value));
    }
    const ratio =
      baseline.median !== undefined && candidate.median !== undefined && !candidate.failure
        ? orientedRatio(info.better, baseline.median, candidate.median)
        : undefined;
    return { id, info, baseline, candidate, ratio, roundRatios };
  }

  metrics(config: BenchConfig): MetricSummary[] {
    return METRIC_IDS.map((id) => this.metric(id, config));
  }

  /**
   * How busy the rest of the machine was: median over all measurements of the CPU nobody on the
   * path used, in cores. Above ~0.25 the figures of this run are disturbed.
   */
  backgroundCores(): number {
    const all = [...this.#samples.values()].flatMap((byRound) => [...byRound.values()]);
    return median(all.filter((s) => s.seconds > 0).map((s) => s.cpu.other / (s.seconds * 1000))) ?? 0;
  }

  cpu(metric: MetricId): CpuSummary {
    const per = (side: Side): CpuPerUnit | undefined =>
      cpuPerUnit(metric, [...this.samples(metric, side).values()]);
    const baseline = per('baseline');
    const candidate = per('candidate');
    const forwarderRatio =
      baseline && candidate && candidate.forwarder > 0 ? baseline.forwarder / candidate.forwarder : undefined;
    return { metric, baseline, candidate, forwarderRatio };
  }
}

const GiB = 1024 ** 3;

function cpuPerUnit(metric: MetricId, samples: Sample[]): CpuPerUnit | undefined {
  const perGiB = metric === 'upload' || metric === 'download';
  const units = (s: Sample): number => (perGiB ? s.bytes / GiB : s.connections);
  const usable = samples.filter((s) => units(s) > 0);
  if (usable.length === 0) return undefined;
  // ms per GiB, or µs per connection
  const scale = perGiB ? 1 : 1000;
  const of = (pick: (cpu: CpuSplit) => number): number =>
    median(usable.map((s) => (pick(s.cpu) * scale) / units(s))) ?? 0;
  return {
    unit: perGiB ? 'ms/GiB' : 'µs/conn',
    forwarder: of((c) => c.forwarder),
    sshd: of((c) => c.sshd),
    sink: of((c) => c.sink),
    load: of((c) => c.load),
    other: of((c) => c.other),
    steal: of((c) => c.steal),
    wall: median(usable.map((s) => (s.seconds * 1000 * scale) / units(s))) ?? 0,
  };
}
