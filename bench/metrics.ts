// The catalogue of what is measured per forwarder, per round: names, units, and which way is better.
import type { BenchConfig } from './config.js';

export const METRIC_IDS = [
  'upload',
  'download',
  'sequential',
  'parallel',
  'idleRss',
  'idleRssFresh',
  'churnRss',
] as const;
export type MetricId = (typeof METRIC_IDS)[number];

export interface MetricInfo {
  readonly label: string;
  readonly unit: string;
  /** Higher values are better (throughput, rate) or lower ones (time, memory). */
  readonly better: 'higher' | 'lower';
  /** Digits after the point in the table. */
  readonly digits: number;
}

export function metricInfo(id: MetricId, c: BenchConfig): MetricInfo {
  switch (id) {
    case 'upload':
      return {
        label: `upload (${c.uploadMiB} MiB, ack after half-close)`,
        unit: 'MiB/s',
        better: 'higher',
        digits: 0,
      };
    case 'download':
      return {
        label: `download (${c.downloadMiB} MiB, after client half-close)`,
        unit: 'MiB/s',
        better: 'higher',
        digits: 0,
      };
    case 'sequential':
      return { label: 'sequential connect + echo', unit: 'conn/s', better: 'higher', digits: 0 };
    case 'parallel':
      return {
        label: `${c.parallelConnections} parallel × ${c.parallelKiB} KiB echo, wall`,
        unit: 's',
        better: 'lower',
        digits: 2,
      };
    case 'idleRss':
      return {
        label: `RSS with ${c.idleConnections} idle open connections`,
        unit: 'MB',
        better: 'lower',
        digits: 1,
      };
    case 'idleRssFresh':
      return {
        label: `RSS with ${c.idleConnections} idle connections, fresh process (info)`,
        unit: 'MB',
        better: 'lower',
        digits: 1,
      };
    case 'churnRss':
      return {
        label: `RSS after ${c.churnConnections} churned connections`,
        unit: 'MB',
        better: 'lower',
        digits: 1,
      };
  }
}

/** candidate vs baseline, oriented so that > 1 means the candidate is better. */
export function orientedRatio(better: 'higher' | 'lower', baseline: number, candidate: number): number {
  return better === 'higher' ? candidate / baseline : baseline / candidate;
}
