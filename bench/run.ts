// `npm run bench`: fwd against OpenSSH `ssh -N -L` through one local sshd, alternating the two
// for R rounds; prints the table, writes bench/results.json and docs/bench.svg.
// Exit: 0 measured (targets may be missed; the table says so), 1 correctness failure (bytes,
// half-close, a forwarder died or did not start), 2 harness error, 3 targets missed with BENCH_STRICT=1.
import { createInterface } from 'node:readline';
import { writeChart } from './chart.js';
import { type Child, cleanup, installCleanupHandlers, makeTempDir, spawnChild } from './children.js';
import { type ColdStart, coldStart } from './cold-start.js';
import { type BenchConfig, loadConfig } from './config.js';
import {
  CLI_MAIN,
  type Forwarder,
  nativeCryptoOf,
  prepareHome,
  REPO,
  resolveCandidate,
  StartError,
  startBaseline,
  startCandidate,
} from './forwarders.js';
import { runLongPath } from './long-path.js';
import { describeMachine } from './machine.js';
import type { Observed } from './measure.js';
import { openFileLimit, treeMemory } from './proc.js';
import { printReport } from './report.js';
import { type BenchResults, writeResults } from './results.js';
import { type RunFailure, runRounds, warmUp } from './rounds.js';
import { CIPHER, ensureSshdInstalled, startSshd } from './sshd.js';
import type { Side } from './summary.js';
import { checkTargets } from './targets.js';
import { runWsRow } from './ws-row.js';

const t0 = performance.now();
function log(msg: string): void {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${msg}\n`);
}

/** The sink child: prints "listening PORT" once it accepts connections. */
async function startSink(): Promise<{ child: Child; port: number }> {
  const child = spawnChild('sink', process.execPath, ['--import', 'tsx', `${REPO}/bench/sink-main.ts`], {
    pipeStdout: true,
    cwd: REPO,
  });
  const stdout = child.process.stdout;
  if (!stdout) throw new Error('sink has no stdout');
  let port: number | undefined;
  for await (const line of createInterface({ input: stdout })) {
    port = Number(/^listening (\d+)$/.exec(line)?.[1]) || undefined;
    if (port !== undefined) break;
  }
  if (port === undefined) {
    await child.exited;
    throw new Error(`sink did not start:\n${child.logTail()}`);
  }
  stdout.resume(); // readline paused it on break; keep the pipe drained
  return { child, port };
}

async function coldStarts(config: BenchConfig): Promise<{ fwd: ColdStart; sshV: ColdStart }> {
  const fwd = await coldStart(CLI_MAIN, ['--version'], config.versionRuns);
  const sshV = await coldStart('ssh', ['-V'], config.versionRuns);
  log(
    `cold fwd --version: median ${fwd.medianMs.toFixed(0)} ms, min ${fwd.minMs.toFixed(0)} ms ("${fwd.output}")`,
  );
  return { fwd, sshV };
}

/** A row after the rounds (websocket, long path) that lost bytes fails the run like a round would. */
function extraFailure(
  what: string,
  row: { status: string; reason?: string; correctness?: boolean },
): RunFailure[] {
  if (row.status !== 'failed' || !row.correctness) return [];
  return [
    { metric: 'run', side: 'candidate', round: 0, message: `${what}: ${row.reason}`, correctness: true },
  ];
}

async function main(): Promise<number> {
  installCleanupHandlers();
  const config = loadConfig();
  ensureSshdInstalled(log);
  const fdLimit = openFileLimit();
  if (fdLimit < 4 * config.parallelConnections + 1024) {
    log(`WARNING: open-file limit ${fdLimit} is low for ${config.parallelConnections} parallel connections`);
  }
  const spec = resolveCandidate(log);
  // before any load, on a quiet machine
  const cold = spec.kind === 'cli' ? await coldStarts(config) : undefined;

  const dir = makeTempDir('fwd-bench-');
  const sshd = await startSshd(dir);
  const sink = await startSink();
  log(`sshd ${sshd.banner} on 127.0.0.1:${sshd.port} (user ${sshd.user}); sink on :${sink.port}`);
  const route = { sshd, targetPort: sink.port, home: prepareHome(dir, sshd) };
  const observed: Observed = { sshdPid: sshd.child.pid, sinkPid: sink.child.pid };
  const start: Record<Side, (name: string) => Promise<Forwarder>> = {
    baseline: (name) => startBaseline(route, name),
    candidate: (name) => startCandidate(spec, route, name),
  };
  const baseline = await start.baseline('baseline');
  let candidate: Forwarder;
  try {
    candidate = await start.candidate('candidate');
  } catch (err) {
    if (!(err instanceof StartError)) throw err;
    console.log(`\n**CANDIDATE FAILED TO START** (${spec.label}): ${err.message}`);
    return 1;
  }
  log(
    `baseline ssh -L :${baseline.port} (pid ${baseline.child.pid}); candidate :${candidate.port} (pid ${candidate.child.pid})`,
  );
  log(`candidate: ${candidate.command}`);

  const ctx = { config, observed, forwarders: { baseline, candidate }, start, log };
  await warmUp(ctx);
  const { recorder, runFailures, leftOpen } = await runRounds(ctx);
  const peakRssMB = {
    baseline: treeMemory(baseline.child.pid).peak / 1e6,
    candidate: treeMemory(candidate.child.pid).peak / 1e6,
  };
  const nativeCrypto = nativeCryptoOf(candidate);
  await candidate.child.stop();
  await baseline.child.stop();

  const longPath = await runLongPath(config, spec, route, dir, observed, log);
  if (longPath.status !== 'measured') log(`long-path rows: ${longPath.status}: ${longPath.reason}`);
  const websocket = await runWsRow(config, route, observed, log);
  if (websocket.status !== 'measured') log(`websocket row: ${websocket.status}: ${websocket.reason}`);

  const metrics = recorder.metrics(config);
  const extraFailures = [...extraFailure('websocket row', websocket), ...extraFailure('long path', longPath)];
  const failures = [...recorder.failures().filter((f) => f.correctness), ...runFailures, ...extraFailures];
  const { resultsFile, chartFile, ...shownConfig } = config;
  const results: BenchResults = {
    schema: 1,
    machine: describeMachine(sshd.banner),
    durationSeconds: (performance.now() - t0) / 1000,
    config: shownConfig,
    cipher: CIPHER,
    baseline: { label: baseline.label, command: baseline.command },
    candidate: { kind: spec.kind, label: spec.label, command: candidate.command, nativeCrypto },
    metrics,
    cpu: (['upload', 'download', 'sequential', 'parallel', 'churnRss'] as const).map((m) => recorder.cpu(m)),
    backgroundCores: recorder.backgroundCores(),
    peakRssMB,
    leftOpen,
    coldStart: cold,
    websocket,
    longPath,
    targets: checkTargets(metrics, websocket, cold?.fwd, longPath),
    correctness: { ok: failures.length === 0, failures },
  };
  printReport(results);
  writeResults(resultsFile, results);
  writeChart(chartFile, results);
  log(`wrote ${resultsFile} and ${chartFile}; run took ${results.durationSeconds.toFixed(0)} s`);
  if (!results.correctness.ok) return 1;
  if (config.strict && results.targets.some((t) => t.status === 'fail')) return 3;
  return 0;
}

main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`HARNESS ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanup();
    process.exit(2);
  },
);
