// The targets of issues 8 and 18, checked against one run. Ratios are oriented so that > 1 = fwd better.
import type { ColdStart } from './cold-start.js';
import type { LongPathResult } from './long-path.js';
import type { MetricId } from './metrics.js';
import type { MetricSummary } from './summary.js';
import type { WsResult } from './ws-row.js';

export type Status = 'pass' | 'fail' | 'n/a';

export interface TargetCheck {
  readonly id: string;
  readonly label: string;
  /** The target as people read it, e.g. "≥ 1.0× ssh -L". */
  readonly wanted: string;
  readonly value: number | undefined;
  readonly status: Status;
  /** Why n/a, or what else failed (errors). */
  readonly why?: string;
}

/** Ratio targets (> 1 = fwd better) by metric; the chart draws these lines. */
export const RATIO_TARGETS: Partial<Record<MetricId, number>> = {
  upload: 1.0,
  download: 1.0,
  sequential: 1.0,
  parallel: 2.0, // wall time ≤ 0.5 of ssh -L
};
export const WS_RATIO_TARGET = 0.9;
/** Long path: downloads use fwd's own window (≥ 4×); uploads are bound by sshd's window (≥ 1×). */
export const LONG_PATH_TARGETS = { download: 4.0, upload: 1.0 } as const;
export const IDLE_RSS_TARGET_MB = 100;
export const COLD_START_TARGET_MS = 80;

function atLeast(
  id: string,
  label: string,
  value: number | undefined,
  limit: number,
  why?: string,
): TargetCheck {
  const wanted = `≥ ${limit.toFixed(1)}`;
  if (value === undefined) return { id, label, wanted, value, status: 'n/a', ...(why ? { why } : {}) };
  return { id, label, wanted, value, status: value >= limit ? 'pass' : 'fail' };
}

function atMost(
  id: string,
  label: string,
  value: number | undefined,
  limit: number,
  unit: string,
): TargetCheck {
  const wanted = `≤ ${limit} ${unit}`;
  if (value === undefined) return { id, label, wanted, value, status: 'n/a' };
  return { id, label, wanted, value, status: value <= limit ? 'pass' : 'fail' };
}

export function checkTargets(
  metrics: readonly MetricSummary[],
  ws: WsResult,
  cold: ColdStart | undefined,
  longPath: LongPathResult,
): TargetCheck[] {
  const m = (id: MetricId): MetricSummary | undefined => metrics.find((x) => x.id === id);
  const failed = (s: MetricSummary | undefined): string | undefined => s?.candidate.failure?.message;
  const checks: TargetCheck[] = [];
  for (const [id, label] of [
    ['upload', 'upload vs ssh -L'],
    ['download', 'download vs ssh -L'],
    ['sequential', 'sequential conn/s vs ssh -L'],
  ] as const) {
    checks.push(atLeast(id, label, m(id)?.ratio, RATIO_TARGETS[id] ?? 1, failed(m(id))));
  }
  const par = m('parallel');
  const parCheck = atLeast(
    'parallel',
    'parallel wall time, ssh -L ÷ fwd',
    par?.ratio,
    RATIO_TARGETS.parallel ?? 2,
    failed(par),
  );
  const parErrors = par?.candidate.errors ?? 0;
  checks.push(
    parErrors > 0 ? { ...parCheck, status: 'fail', why: `${parErrors} failed connections` } : parCheck,
  );
  if (ws.status === 'measured') {
    checks.push(atLeast('ws-upload', 'websocket ÷ TCP transport, upload', ws.upload.ratio, WS_RATIO_TARGET));
    checks.push(
      atLeast('ws-download', 'websocket ÷ TCP transport, download', ws.download.ratio, WS_RATIO_TARGET),
    );
  } else {
    const status: Status = ws.status === 'failed' ? 'fail' : 'n/a';
    const label = 'websocket ÷ TCP transport';
    checks.push({
      id: 'ws',
      label,
      wanted: `≥ ${WS_RATIO_TARGET}`,
      value: undefined,
      status,
      why: ws.reason,
    });
  }
  if (longPath.status === 'measured') {
    for (const row of longPath.rows) {
      for (const dir of ['download', 'upload'] as const) {
        checks.push(
          atLeast(
            `wan-${row.rttMs}-${dir}`,
            `${dir} over a ${row.rttMs} ms path vs ssh -L`,
            row[dir].ratio,
            LONG_PATH_TARGETS[dir],
          ),
        );
      }
    }
  } else {
    checks.push({
      id: 'wan',
      label: 'long path vs ssh -L',
      wanted: `≥ ${LONG_PATH_TARGETS.download.toFixed(1)} down`,
      value: undefined,
      status: longPath.status === 'failed' ? 'fail' : 'n/a',
      why: longPath.reason,
    });
  }
  const idle = m('idleRss');
  checks.push(
    atMost('idle-rss', 'RSS with idle connections', idle?.candidate.median, IDLE_RSS_TARGET_MB, 'MB'),
  );
  const coldCheck = atMost(
    'cold-start',
    'cold fwd --version (median)',
    cold?.medianMs,
    COLD_START_TARGET_MS,
    'ms',
  );
  checks.push(cold ? coldCheck : { ...coldCheck, why: 'no fwd CLI yet' });
  return checks;
}
