// The long-path rows: `ssh -L` and the candidate reach the same sshd through a proxy that delays
// each direction by RTT/2 (bench/delay-proxy-main.ts; this kernel has no netem), then download and
// upload, R rounds alternating. What a researcher at home sees: one channel carries at most one
// receive window per round trip, so the window, not the CPU, decides the download rate.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Child, spawnChild } from './children.js';
import type { BenchConfig } from './config.js';
import {
  type CandidateSpec,
  type Forwarder,
  prepareHome,
  REPO,
  type Route,
  StartError,
  startBaseline,
  startCandidate,
} from './forwarders.js';
import { CorrectnessError } from './load.js';
import { measure, type Observed } from './measure.js';
import { orientedRatio } from './metrics.js';
import { freePort, waitListening } from './ports.js';
import { median } from './summary.js';

export interface LongPathPair {
  /** MiB/s per round. */
  readonly ssh: number[];
  readonly fwd: number[];
  /** fwd ÷ ssh (medians): > 1 = fwd faster. */
  readonly ratio: number | undefined;
  /** Candidate forwarder CPU, ms per GiB (median). */
  readonly fwdCpuMsPerGiB: number | undefined;
}

export interface LongPathRow {
  readonly rttMs: number;
  readonly mib: number;
  /**
   * MiB/s of each forwarder's first download, before the rounds (not in the medians): for fwd the
   * first channel of a fresh process and session, whose window starts at 2 MiB.
   */
  readonly firstDownload: { readonly ssh: number; readonly fwd: number };
  readonly download: LongPathPair;
  readonly upload: LongPathPair;
}

export type LongPathResult =
  | { readonly status: 'n/a'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string; readonly correctness: boolean }
  | { readonly status: 'measured'; readonly rows: LongPathRow[] };

/** Starts the proxy child in front of the sshd, and a route (known_hosts, HOME) through it. */
async function pathTo(route: Route, rttMs: number, dir: string): Promise<{ proxy: Child; route: Route }> {
  const port = await freePort();
  const proxy = spawnChild(
    `delay-proxy-${rttMs}ms`,
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'bench/delay-proxy-main.ts'),
      String(port),
      String(route.sshd.port),
      String(rttMs),
    ],
    { cwd: REPO },
  );
  await waitListening(port, proxy, 20_000);
  const knownHosts = join(dir, `known_hosts_${rttMs}ms`);
  // the same host key, under the proxy's address
  const line = readFileSync(route.sshd.knownHosts, 'utf8').replace(/^\S+/, `[127.0.0.1]:${port}`);
  writeFileSync(knownHosts, line);
  const sshd = { ...route.sshd, port, knownHosts };
  return { proxy, route: { ...route, sshd, home: prepareHome(join(dir, `via-${rttMs}ms`), sshd) } };
}

export async function runLongPath(
  config: BenchConfig,
  spec: CandidateSpec,
  route: Route,
  dir: string,
  observed: Observed,
  log: (msg: string) => void,
): Promise<LongPathResult> {
  if (config.longPathRtts.length === 0) return { status: 'n/a', reason: 'skipped (BENCH_WAN_RTT=0)' };
  const rows: LongPathRow[] = [];
  const sized = { ...config, uploadMiB: config.longPathMiB, downloadMiB: config.longPathMiB };
  for (const rttMs of config.longPathRtts) {
    const started: Child[] = [];
    try {
      const path = await pathTo(route, rttMs, dir);
      started.push(path.proxy);
      const ssh = await startBaseline(path.route, `baseline-${rttMs}ms`);
      started.push(ssh.child);
      const fwd = await startCandidate(spec, path.route, `candidate-${rttMs}ms`);
      started.push(fwd.child);
      // Warm-up, as on loopback: one transfer each way through each forwarder. A long-running
      // fwd has carried earlier channels (JIT-compiled, window learned); the first is reported apart.
      const first = { ssh: 0, fwd: 0 };
      for (const [side, forwarder] of [
        ['ssh', ssh],
        ['fwd', fwd],
      ] as const) {
        first[side] = (await measure('download', forwarder, sized, observed)).value;
        await measure('upload', forwarder, sized, observed);
        log(`long path ${rttMs} ms first download ${forwarder.label}: ${first[side].toFixed(1)} MiB/s`);
      }
      const values = {
        download: { ssh: [] as number[], fwd: [] as number[], cpu: [] as number[] },
        upload: { ssh: [] as number[], fwd: [] as number[], cpu: [] as number[] },
      };
      for (let round = 1; round <= config.longPathRounds; round++) {
        for (const metric of ['download', 'upload'] as const) {
          const order: Array<['ssh' | 'fwd', Forwarder]> =
            round % 2 === 1
              ? [
                  ['ssh', ssh],
                  ['fwd', fwd],
                ]
              : [
                  ['fwd', fwd],
                  ['ssh', ssh],
                ];
          for (const [side, forwarder] of order) {
            const s = await measure(metric, forwarder, sized, observed);
            values[metric][side].push(s.value);
            if (side === 'fwd') values[metric].cpu.push((s.cpu.forwarder * 1024 ** 3) / s.bytes);
            log(
              `long path ${rttMs} ms round ${round} ${metric} ${forwarder.label}: ${s.value.toFixed(1)} MiB/s`,
            );
          }
        }
      }
      const pair = (v: { ssh: number[]; fwd: number[]; cpu: number[] }): LongPathPair => {
        const s = median(v.ssh);
        const f = median(v.fwd);
        return {
          ssh: v.ssh,
          fwd: v.fwd,
          ratio: s !== undefined && f !== undefined ? orientedRatio('higher', s, f) : undefined,
          fwdCpuMsPerGiB: median(v.cpu),
        };
      };
      rows.push({
        rttMs,
        mib: config.longPathMiB,
        firstDownload: first,
        download: pair(values.download),
        upload: pair(values.upload),
      });
    } catch (err) {
      return {
        status: 'failed',
        reason: `RTT ${rttMs} ms: ${(err as Error).message}`,
        correctness: err instanceof CorrectnessError || err instanceof StartError,
      };
    } finally {
      for (const child of started.reverse()) await child.stop();
    }
  }
  return { status: 'measured', rows };
}

/** "a 1 GB download over a 50 ms link: ssh -L 34 s, fwd 8 s" from the medians. */
export function inWords(row: LongPathRow): string {
  const seconds = (mibps: number | undefined): string =>
    mibps === undefined ? '–' : `${(1e9 / 1024 ** 2 / mibps).toFixed(0)} s`;
  return (
    `a 1 GB download over a ${row.rttMs} ms link: ssh -L ${seconds(median(row.download.ssh))}, ` +
    `fwd ${seconds(median(row.download.fwd))}`
  );
}
