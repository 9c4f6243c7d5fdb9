// docs/bench.svg, drawn by hand from the results: ratio bars (with the per-round range) against
// their targets, memory and start-up figures against theirs, and the machine of the run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricId } from './metrics.js';
import type { BenchResults } from './results.js';
import { BUSY_CORES } from './summary.js';
import type { Status } from './targets.js';
import { COLD_START_TARGET_MS, IDLE_RSS_TARGET_MB, RATIO_TARGETS, WS_RATIO_TARGET } from './targets.js';

const WIDTH = 900;
const LABEL_X = 16;
const BAR_X = 290;
const BAR_W = 380;
/** Right edge of the target column. */
const TARGET_X = WIDTH - 16;
const ROW_H = 24;
const BAR_H = 14;
const COLOR: Record<Status | 'info' | 'ssh', string> = {
  pass: '#2f9e44',
  fail: '#e03131',
  'n/a': '#adb5bd',
  info: '#868e96',
  ssh: '#a5b4c8',
};

interface RatioRow {
  readonly label: string;
  readonly value: number | undefined;
  readonly target: number | undefined;
  readonly status: Status | 'info';
  readonly note?: string;
  /** Lowest and highest per-round ratio: the noise, drawn as a whisker. */
  readonly spread?: readonly [number, number];
}

interface AbsoluteRow {
  readonly label: string;
  readonly unit: 'MB' | 'ms';
  readonly fwd: number | undefined;
  readonly ssh: number | undefined;
  readonly sshLabel: string;
  readonly target: number | undefined;
  readonly status: Status | 'info';
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const n1 = (v: number): string => v.toFixed(1);

function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n1(x)}" y="${n1(y)}"${attrs ? ` ${attrs}` : ''}>${esc(s)}</text>`;
}

function rect(x: number, y: number, w: number, h: number, fill: string): string {
  return `<rect x="${n1(x)}" y="${n1(y)}" width="${n1(Math.max(0, w))}" height="${h}" rx="2" fill="${fill}"/>`;
}

function line(x1: number, y1: number, x2: number, y2: number, attrs: string): string {
  return `<line x1="${n1(x1)}" y1="${n1(y1)}" x2="${n1(x2)}" y2="${n1(y2)}" ${attrs}/>`;
}

const TARGET_LINE = 'stroke="#212529" stroke-width="2" stroke-dasharray="3,2"';
const SMALL = 'font-size="11"';
const MUTED = 'fill="#495057"';

function spreadOf(values: readonly number[]): { spread?: readonly [number, number] } {
  return values.length > 1 ? { spread: [Math.min(...values), Math.max(...values)] } : {};
}

function ratioRows(r: BenchResults): RatioRow[] {
  const status = (id: string): Status => r.targets.find((t) => t.id === id)?.status ?? 'n/a';
  const compared = (id: MetricId, label: string): RatioRow => {
    const m = r.metrics.find((x) => x.id === id);
    return {
      label,
      value: m?.ratio,
      target: RATIO_TARGETS[id],
      status: status(id),
      ...spreadOf(m?.roundRatios ?? []),
    };
  };
  const rows: RatioRow[] = [
    compared('upload', 'upload MiB/s'),
    compared('download', 'download MiB/s'),
    compared('sequential', 'sequential connections/s'),
    compared(
      'parallel',
      `${r.config.parallelConnections} parallel × ${r.config.parallelKiB} KiB, ÷ wall time`,
    ),
  ];
  const ws = r.websocket;
  if (ws.status === 'measured') {
    for (const [name, pair] of [
      ['upload', ws.upload],
      ['download', ws.download],
    ] as const) {
      const perRound = pair.ws.flatMap((w, i) => (pair.tcp[i] ? [w / pair.tcp[i]] : []));
      rows.push({
        label: `websocket ÷ TCP transport, ${name}`,
        value: pair.ratio,
        target: WS_RATIO_TARGET,
        status: status(`ws-${name}`),
        ...spreadOf(perRound),
      });
    }
  } else {
    const note = ws.status === 'failed' ? 'failed' : 'n/a (ws transport not built)';
    rows.push({
      label: 'websocket ÷ TCP transport',
      value: undefined,
      target: WS_RATIO_TARGET,
      status: status('ws'),
      note,
    });
  }
  const cpu = (id: MetricId): number | undefined => r.cpu.find((c) => c.metric === id)?.forwarderRatio;
  for (const [id, label] of [
    ['upload', 'forwarder CPU per GiB up, ssh ÷ fwd'],
    ['download', 'forwarder CPU per GiB down, ssh ÷ fwd'],
    ['churnRss', 'forwarder CPU per connection, ssh ÷ fwd'],
  ] as const) {
    rows.push({ label, value: cpu(id), target: undefined, status: 'info' });
  }
  return rows;
}

function absoluteRows(r: BenchResults): AbsoluteRow[] {
  const m = (id: MetricId) => r.metrics.find((x) => x.id === id);
  const status = (id: string): Status => r.targets.find((t) => t.id === id)?.status ?? 'n/a';
  const rss = (id: MetricId, label: string, target: number | undefined, s: Status | 'info'): AbsoluteRow => ({
    label,
    unit: 'MB',
    fwd: m(id)?.candidate.median,
    ssh: m(id)?.baseline.median,
    sshLabel: 'ssh -L',
    target,
    status: s,
  });
  const idle = r.config.idleConnections;
  return [
    rss('idleRss', `RSS, ${idle} idle connections`, IDLE_RSS_TARGET_MB, status('idle-rss')),
    rss('idleRssFresh', `RSS, ${idle} idle, fresh process`, undefined, 'info'),
    rss('churnRss', `RSS after ${r.config.churnConnections} churned`, undefined, 'info'),
    {
      label: 'cold fwd --version, median',
      unit: 'ms',
      fwd: r.coldStart?.fwd.medianMs,
      ssh: r.coldStart?.sshV.medianMs,
      sshLabel: 'ssh -V',
      target: COLD_START_TARGET_MS,
      status: status('cold-start'),
    },
  ];
}

function drawRatios(parts: string[], rows: readonly RatioRow[], top: number): number {
  const xMax = Math.min(5, Math.ceil(Math.max(2.5, ...rows.map((row) => (row.value ?? 0) * 1.1)) * 2) / 2);
  const xOf = (v: number): number => BAR_X + (Math.min(Math.max(v, 0), xMax) / xMax) * BAR_W;
  const bottom = top + rows.length * ROW_H;
  for (let v = 0; v <= xMax + 1e-9; v += 0.5) {
    const x = xOf(v);
    parts.push(line(x, top, x, bottom, v === 1 ? 'stroke="#495057" stroke-width="1.5"' : 'stroke="#e9ecef"'));
    parts.push(text(x, bottom + 14, `${v}×`, `text-anchor="middle" fill="#868e96" ${SMALL}`));
  }
  rows.forEach((row, i) => {
    const rowY = top + i * ROW_H;
    const barY = rowY + (ROW_H - BAR_H) / 2;
    const baseline = barY + BAR_H - 2;
    parts.push(text(LABEL_X, baseline, row.label));
    if (row.value === undefined || !Number.isFinite(row.value)) {
      parts.push(text(BAR_X + 6, baseline, row.note ?? 'n/a', 'fill="#868e96" font-style="italic"'));
    } else {
      parts.push(rect(BAR_X, barY, xOf(row.value) - BAR_X, BAR_H, COLOR[row.status]));
      let labelX = xOf(row.value) + 5;
      if (row.spread) {
        const [lo, hi] = row.spread;
        const mid = barY + BAR_H / 2;
        const stroke = 'stroke="#343a40"';
        parts.push(line(xOf(lo), mid, xOf(hi), mid, stroke));
        parts.push(line(xOf(lo), mid - 4, xOf(lo), mid + 4, stroke));
        parts.push(line(xOf(hi), mid - 4, xOf(hi), mid + 4, stroke));
        labelX = Math.max(labelX, xOf(hi) + 5);
      }
      // clear of the target's dashed line too
      if (row.target !== undefined && Math.abs(labelX - xOf(row.target)) < 30) labelX = xOf(row.target) + 10;
      // a whisker past the axis is cut there; the label says how far it went
      const beyond = row.spread && row.spread[1] > xMax ? ` (a round at ${row.spread[1].toFixed(1)}×)` : '';
      parts.push(
        text(labelX, baseline, `${row.value.toFixed(2)}×${row.value > xMax ? ' ›' : ''}${beyond}`, SMALL),
      );
    }
    if (row.target !== undefined) {
      const tx = xOf(row.target);
      parts.push(line(tx, rowY + 1, tx, rowY + ROW_H - 1, TARGET_LINE));
      parts.push(text(TARGET_X, baseline, `target ≥ ${row.target}×`, `text-anchor="end" ${MUTED} ${SMALL}`));
    }
  });
  return bottom + 14;
}

function drawAbsolute(parts: string[], rows: readonly AbsoluteRow[], top: number): number {
  // one scale per unit, so the memory rows can be compared with each other
  const scale = new Map<string, number>();
  for (const row of rows) {
    const need = Math.max((row.target ?? 0) * 1.25, (row.fwd ?? 0) * 1.05, (row.ssh ?? 0) * 1.05, 1);
    scale.set(row.unit, Math.max(scale.get(row.unit) ?? 0, need));
  }
  let y = top;
  for (const row of rows) {
    const max = scale.get(row.unit) ?? 1;
    const xOf = (v: number): number => BAR_X + (v / max) * BAR_W;
    parts.push(text(LABEL_X, y + BAR_H - 2, row.label));
    const bars: Array<[string, number | undefined, string]> = [
      ['fwd', row.fwd, COLOR[row.status]],
      [row.sshLabel, row.ssh, COLOR.ssh],
    ];
    bars.forEach(([name, value, color], j) => {
      const by = y + j * (BAR_H + 3);
      if (value === undefined) {
        parts.push(
          text(BAR_X + 6, by + BAR_H - 2, `${name}: n/a`, `fill="#868e96" font-style="italic" ${SMALL}`),
        );
        return;
      }
      parts.push(rect(BAR_X, by, xOf(value) - BAR_X, BAR_H, color));
      parts.push(text(xOf(value) + 5, by + BAR_H - 2, `${name} ${value.toFixed(0)} ${row.unit}`, SMALL));
    });
    const rowH = 2 * (BAR_H + 3);
    if (row.target !== undefined) {
      const tx = xOf(row.target);
      parts.push(line(tx, y - 2, tx, y + rowH - 1, TARGET_LINE));
      parts.push(
        text(
          TARGET_X,
          y + BAR_H - 2,
          `target ≤ ${row.target} ${row.unit}`,
          `text-anchor="end" ${MUTED} ${SMALL}`,
        ),
      );
    }
    y += rowH + 10;
  }
  return y;
}

export function renderChart(r: BenchResults): string {
  const parts: string[] = [];
  let y = 28;
  parts.push(
    text(LABEL_X, y, `fwd vs OpenSSH ssh -L: ${r.candidate.label}`, 'font-size="17" font-weight="600"'),
  );
  y += 19;
  parts.push(
    text(
      LABEL_X,
      y,
      `one sshd on loopback, both sides ${r.cipher}, ${r.config.rounds} alternating rounds, medians`,
      MUTED,
    ),
  );
  y += 16;
  parts.push(
    text(
      LABEL_X,
      y,
      'green: target met · red: missed · grey: no target · whiskers: range of the per-round ratios',
      MUTED,
    ),
  );
  y += 28;
  parts.push(text(LABEL_X, y, 'ratio, > 1 = fwd better', 'font-weight="600"'));
  y = drawRatios(parts, ratioRows(r), y + 8) + 28;
  parts.push(
    text(LABEL_X, y, 'absolute, lower is better: fwd (upper bar), OpenSSH (lower bar)', 'font-weight="600"'),
  );
  y = drawAbsolute(parts, absoluteRows(r), y + 10) + 10;
  const m = r.machine;
  for (const f of [
    `${m.cpuModel} · ${m.cores} cores · ${m.memoryGiB} GiB · ${m.os} · kernel ${m.kernel}`,
    `Node ${m.node} · ssh2 ${m.ssh2} · ${m.openssh} · sshd ${m.sshd.replace(/^SSH-2\.0-/, '')}`,
    `${m.date.slice(0, 16).replace('T', ' ')} UTC · commit ${m.commit} · ${Math.round(r.durationSeconds)} s · ` +
      `background load ${r.backgroundCores.toFixed(2)} cores${r.backgroundCores > BUSY_CORES ? ' (busy: disturbed)' : ''} · npm run bench`,
  ]) {
    parts.push(text(LABEL_X, y, f, `${MUTED} ${SMALL}`));
    y += 15;
  }
  const height = Math.ceil(y + 4);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12" fill="#212529">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts.map((p) => `  ${p}`),
    '</svg>',
    '',
  ].join('\n');
}

export function writeChart(file: string, r: BenchResults): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderChart(r));
}
