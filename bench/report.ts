// The run as markdown tables on stdout: the comparison with its targets, then where the CPU went.
import { inWords } from './long-path.js';
import type { BenchResults } from './results.js';
import { BUSY_CORES, type CpuPerUnit, type MetricSummary, type SideSummary } from './summary.js';
import { COLD_START_TARGET_MS, RATIO_TARGETS, type Status, type TargetCheck } from './targets.js';

const MARK: Record<Status, string> = { pass: '✅ met', fail: '❌ missed', 'n/a': '– n/a' };

function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** KiB each held connection added, from the growth in MB; -0 shown as 0. */
function perConnectionKiB(growthMB: number, connections: number): string {
  return (Math.round((growthMB * 1e6) / 1024 / connections) + 0).toFixed(0);
}

function cell(side: SideSummary, digits: number, heldConnections?: number): string {
  if (side.failure) return `**FAIL** (${side.failure.message})`;
  const errors =
    side.errors > 0 ? ` (${side.errors} errors${side.firstError ? `: ${side.firstError}` : ''})` : '';
  // idle connections: what the process held before opening them, and what each one costs
  const resting =
    heldConnections && side.restingMB !== undefined && side.median !== undefined
      ? ` (${side.restingMB.toFixed(0)} before; ${perConnectionKiB(side.median - side.restingMB, heldConnections)} KiB/conn)`
      : '';
  return `${fixed(side.median, digits)}${resting}${errors}`;
}

function range(values: readonly number[]): string {
  if (values.length < 2) return '';
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
}

function targetFor(r: BenchResults, id: string): TargetCheck | undefined {
  return r.targets.find((t) => t.id === id);
}

function metricRow(r: BenchResults, m: MetricSummary): string {
  const targetId = { idleRss: 'idle-rss' }[m.id as string] ?? m.id;
  const t = targetFor(r, targetId);
  const ratioTarget = RATIO_TARGETS[m.id];
  const wanted = t ? (ratioTarget !== undefined ? `${t.wanted}×` : t.wanted) : '';
  const trend =
    m.id === 'churnRss' && m.candidate.values.length > 1
      ? ` (per round: ${m.candidate.values.map((v) => v.toFixed(0)).join(' → ')})`
      : '';
  const held = m.id === 'idleRss' || m.id === 'idleRssFresh' ? r.config.idleConnections : undefined;
  return `| ${m.info.label}, ${m.info.unit} | ${cell(m.baseline, m.info.digits, held)} | ${cell(m.candidate, m.info.digits, held)}${trend} | ${fixed(m.ratio, 2)} | ${range(m.roundRatios)} | ${wanted} | ${t ? MARK[t.status] : ''} |`;
}

function cpuCells(c: CpuPerUnit | undefined): string {
  if (!c) return '– | – | – | – | – | –';
  return [c.forwarder, c.sshd, c.sink, c.load, c.other, c.wall].map((v) => v.toFixed(0)).join(' | ');
}

/** Why the long-path rows of a BBR machine are not the forwarders' numbers (bench/README.md). */
export const BBR_STALLS =
  "loopback TCP uses bbr here: the delay proxy's loopback hops stall for seconds once more than ~2 MiB " +
  "is in flight, so fwd's long-path downloads vary run to run; `sysctl -w net.ipv4.tcp_congestion_control=cubic` " +
  "(Linux's default) for the numbers of the forwarders themselves";

export function printReport(r: BenchResults): void {
  const out: string[] = [];
  const mm = Math.floor(r.durationSeconds / 60);
  const ss = Math.round(r.durationSeconds % 60);
  out.push('');
  out.push(
    `## fwd bench: ${r.candidate.label} vs OpenSSH \`ssh -L\`, cipher ${r.cipher}, one sshd, ` +
      `R=${r.config.rounds} (medians), ${mm}m${String(ss).padStart(2, '0')}s`,
  );
  const m = r.machine;
  out.push(
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, ${m.openssh}; ` +
      `sshd ${m.sshd}; ssh2 ${m.ssh2}; TCP ${m.tcpCongestionControl ?? 'unknown'}; ${m.date}; commit ${m.commit}`,
  );
  out.push(`candidate: ${r.candidate.command}`);
  const busy = r.backgroundCores;
  out.push(
    busy > BUSY_CORES
      ? `**WARNING: the machine was busy: other processes used ${busy.toFixed(2)} cores during the measurements (median); figures are disturbed**`
      : `background load during the measurements: ${busy.toFixed(2)} cores (median)`,
  );
  if (r.longPath.status === 'measured') {
    for (const row of r.longPath.rows) out.push(`**Long haul: ${inWords(row)}**`);
    if (m.tcpCongestionControl === 'bbr') out.push(`**WARNING: ${BBR_STALLS}**`);
  }
  if (r.candidate.nativeCrypto === false)
    out.push('**WARNING: the candidate runs without ssh2’s native crypto binding**');
  out.push('');
  out.push('| metric | ssh -L | fwd | ratio (>1 = fwd better) | per-round ratios | target | |');
  out.push('|---|---|---|---|---|---|---|');
  for (const metric of r.metrics) out.push(metricRow(r, metric));
  const cold = targetFor(r, 'cold-start');
  if (r.coldStart) {
    const { fwd, sshV } = r.coldStart;
    out.push(
      `| cold \`fwd --version\`, ms (median of ${fwd.runsMs.length}; min) | ssh -V: ${sshV.medianMs.toFixed(0)} | ` +
        `${fwd.medianMs.toFixed(0)} (min ${fwd.minMs.toFixed(0)}) | | | ≤ ${COLD_START_TARGET_MS} ms | ${cold ? MARK[cold.status] : ''} |`,
    );
  } else {
    out.push(
      `| cold \`fwd --version\` | | n/a (${cold?.why ?? 'not run'}) | | | ≤ ${COLD_START_TARGET_MS} ms | ${MARK['n/a']} |`,
    );
  }
  const ws = r.websocket;
  if (ws.status === 'measured') {
    for (const [name, pair] of [
      ['upload', ws.upload],
      ['download', ws.download],
    ] as const) {
      const t = targetFor(r, `ws-${name}`);
      const med = (v: number[]): string =>
        fixed(v.length ? [...v].sort((a, b) => a - b)[v.length >> 1] : undefined, 0);
      out.push(
        `| websocket via relay vs fwd’s TCP transport, ${name} MiB/s | tcp: ${med(pair.tcp)} | ws: ${med(pair.ws)} (relay CPU ${med(pair.cpuMsPerGiB?.relay ?? [])} ms/GiB) | ` +
          `${fixed(pair.ratio, 2)} | | ${t?.wanted ?? ''} | ${t ? MARK[t.status] : ''} |`,
      );
    }
  } else {
    const t = targetFor(r, 'ws');
    out.push(
      `| websocket via relay vs fwd’s TCP transport | | ${ws.status === 'failed' ? '**FAIL**' : 'n/a'} (${ws.reason}) | | | ≥ 0.9 | ${t ? MARK[t.status] : ''} |`,
    );
  }
  const lp = r.longPath;
  if (lp.status === 'measured') {
    const med = (v: number[]): string =>
      fixed(v.length ? [...v].sort((a, b) => a - b)[v.length >> 1] : undefined, 1);
    for (const row of lp.rows) {
      for (const dir of ['download', 'upload'] as const) {
        const t = targetFor(r, `wan-${row.rttMs}-${dir}`);
        const pair = row[dir];
        const rounds = pair.ssh.map((s, i) => (pair.fwd[i] ?? 0) / s);
        out.push(
          `| ${dir} over a ${row.rttMs} ms round trip (${row.mib} MiB), MiB/s | ${med(pair.ssh)} | ${med(pair.fwd)} | ` +
            `${fixed(pair.ratio, 2)} | ${range(rounds)} | ${t ? `${t.wanted}×` : ''} | ${t ? MARK[t.status] : ''} |`,
        );
      }
      const first = row.firstDownload;
      out.push(
        `| first download of a fresh session over ${row.rttMs} ms (info, before the rounds), MiB/s | ` +
          `${fixed(first.ssh, 1)} | ${fixed(first.fwd, 1)} | ${fixed(first.fwd / first.ssh, 2)} | | | |`,
      );
    }
  } else {
    const t = targetFor(r, 'wan');
    out.push(
      `| long path (delay proxy) | | ${lp.status === 'failed' ? '**FAIL**' : 'n/a'} (${lp.reason}) | | | | ${t ? MARK[t.status] : ''} |`,
    );
  }
  out.push(
    `| peak RSS over the run (Σ VmHWM), MB | ${r.peakRssMB.baseline.toFixed(1)} | ${r.peakRssMB.candidate.toFixed(1)} | | | | |`,
  );
  for (const side of ['baseline', 'candidate'] as const) {
    const left = r.leftOpen.filter((x) => x.side === side);
    if (left.length === 0) continue;
    const name = side === 'baseline' ? 'ssh -L' : 'fwd';
    const total = left.reduce((n, x) => n + x.count, 0);
    out.push('');
    out.push(`**WARNING: ${name} kept ${total} connections open after their clients had closed:**`);
    for (const x of left) out.push(`  after ${x.after}: ${x.count} (${x.detail})`);
  }
  out.push('');
  out.push('### Where the time goes: CPU per unit of work (medians over rounds; steadier than the ratios)');
  out.push('');
  out.push(
    '| load | side | forwarder | sshd | sink | load gen | rest of machine | wall | forwarder CPU, ssh ÷ fwd |',
  );
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of r.cpu) {
    const unit = c.baseline?.unit ?? c.candidate?.unit ?? '';
    const name = {
      upload: `upload ${r.config.uploadMiB} MiB`,
      download: `download ${r.config.downloadMiB} MiB`,
      sequential: 'sequential connect + echo',
      parallel: `${r.config.parallelConnections} parallel × ${r.config.parallelKiB} KiB`,
      churnRss: `churn: ${r.config.churnConnections} × (connect, echo, close), ${r.config.churnConcurrency} at a time`,
    }[c.metric as string];
    out.push(`| ${name}, ${unit} | ssh -L | ${cpuCells(c.baseline)} | |`);
    out.push(`| | fwd | ${cpuCells(c.candidate)} | ${fixed(c.forwarderRatio, 2)} |`);
  }
  out.push('');
  const count = (s: Status): number => r.targets.filter((t) => t.status === s).length;
  out.push(`targets: ${count('pass')} met, ${count('fail')} missed, ${count('n/a')} n/a`);
  for (const t of r.targets.filter((x) => x.status === 'fail')) {
    out.push(`  missed: ${t.label}: ${fixed(t.value, 2)} (want ${t.wanted})${t.why ? `: ${t.why}` : ''}`);
  }
  if (r.correctness.ok) out.push('correctness: every byte checked, half-close kept, forwarders alive: OK');
  else {
    out.push('**CORRECTNESS FAILURE**');
    for (const f of r.correctness.failures)
      out.push(`  ${f.side} ${f.metric} (round ${f.round}): ${f.message}`);
  }
  console.log(out.join('\n'));
}
