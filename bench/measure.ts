// One measurement: one metric through one forwarder, with the CPU time every process on the path
// spent on it (forwarder, sshd, sink, load generator) read from /proc around the load.
import { setTimeout as delay } from 'node:timers/promises';
import type { BenchConfig } from './config.js';
import type { Forwarder } from './forwarders.js';
import { churn, download, holdIdle, parallel, sequential, upload } from './load.js';
import type { MetricId } from './metrics.js';
import { waitDrained } from './ports.js';
import {
  describeOpen,
  type Memory,
  portSockets,
  type SystemCpu,
  systemCpu,
  treeCpuMs,
  treeMemory,
} from './proc.js';

const MiB = 1024 * 1024;
const MB = 1e6;

/** CPU milliseconds per process on the path, during one load. */
export interface CpuSplit {
  readonly forwarder: number;
  readonly sshd: number;
  readonly sink: number;
  readonly load: number;
  /** Everything else the machine did meanwhile (other processes, softirq networking not charged to a task). */
  readonly other: number;
  /** Hypervisor steal: a core we wanted ran someone else's VM. */
  readonly steal: number;
}

export interface Sample {
  /** In the metric's unit (metrics.ts). */
  readonly value: number;
  /** Wall time of the load. */
  readonly seconds: number;
  readonly cpu: CpuSplit;
  /** Bytes carried through the tunnel (throughput runs). */
  readonly bytes: number;
  /** Connections that completed (connection runs). */
  readonly connections: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly note?: string;
  /** The forwarder's memory where the metric reads it. */
  readonly memory?: Memory;
  /** …and before the load began (idle connections: the cost per connection is the difference). */
  readonly memoryBefore?: Memory;
  /** Connections of the previous load the forwarder had not closed DRAIN_MS later. */
  readonly lingering?: Lingering;
}

export interface Lingering {
  readonly count: number;
  /** Their TCP states, e.g. "3 ESTABLISHED (client side gone)". */
  readonly detail: string;
}

/** The processes besides the forwarder whose CPU is attributed to each load. */
export interface Observed {
  readonly sshdPid: number;
  readonly sinkPid: number;
}

interface CpuCounters {
  readonly own: Omit<CpuSplit, 'other' | 'steal'>;
  readonly system: SystemCpu;
}

function cpuNow(forwarderPid: number, observed: Observed): CpuCounters {
  const self = process.cpuUsage();
  return {
    own: {
      forwarder: treeCpuMs(forwarderPid),
      sshd: treeCpuMs(observed.sshdPid),
      sink: treeCpuMs(observed.sinkPid),
      load: (self.user + self.system) / 1000,
    },
    system: systemCpu(),
  };
}

function cpuSince(before: CpuCounters, forwarderPid: number, observed: Observed): CpuSplit {
  const now = cpuNow(forwarderPid, observed);
  const forwarder = now.own.forwarder - before.own.forwarder;
  const sshd = now.own.sshd - before.own.sshd;
  const sink = now.own.sink - before.own.sink;
  const load = now.own.load - before.own.load;
  const busy = now.system.busy - before.system.busy;
  return {
    forwarder,
    sshd,
    sink,
    load,
    other: Math.max(0, busy - forwarder - sshd - sink - load),
    steal: now.system.steal - before.system.steal,
  };
}

const DRAIN_MS = 5_000;

/**
 * A forwarder at rest: its resident memory once it has been idle for REST_MS, as a long-running
 * tunnel spends most of its life. fwd hands freed buffers back 6–7 s after the last byte
 * (packages/cli/src/runtime/memory-return.ts); ssh -L gets the same wait. The peak stays in
 * `peakRssMB`.
 */
const REST_MS = 8_000;

/** Memory can lag the last connection by a few allocations: the highest of a few readings. */
async function settledMemory(pid: number): Promise<Memory> {
  await delay(REST_MS);
  let best = treeMemory(pid);
  for (let i = 0; i < 3; i++) {
    await delay(100);
    const m = treeMemory(pid);
    if (m.rss > best.rss) best = m;
  }
  return best;
}

/** What one load measures; the fresh-process variant of idleRss is idleRss on a new forwarder. */
export type Load = Exclude<MetricId, 'idleRssFresh'>;

/** Connections a forwarder never closed, by forwarder: later drains wait for the rest only. */
const leftOpen = new WeakMap<Forwarder, number>();

/**
 * Waits until the previous measurement's connections are gone from the forwarder. Those it
 * still holds after DRAIN_MS are reported (not fatal) and tolerated from then on.
 */
async function drain(forwarder: Forwarder): Promise<Lingering | undefined> {
  const allowed = leftOpen.get(forwarder) ?? 0;
  if (await waitDrained(forwarder.port, DRAIN_MS, allowed)) return undefined;
  const open = portSockets(forwarder.port).open;
  leftOpen.set(forwarder, open);
  return { count: open - allowed, detail: describeOpen(forwarder.port) };
}

export async function measure(
  metric: Load,
  forwarder: Forwarder,
  config: BenchConfig,
  observed: Observed,
): Promise<Sample> {
  const lingering = await drain(forwarder);
  const sample = await runLoad(metric, forwarder, config, observed);
  return lingering ? { ...sample, lingering } : sample;
}

async function runLoad(
  metric: Load,
  forwarder: Forwarder,
  config: BenchConfig,
  observed: Observed,
): Promise<Sample> {
  const { port } = forwarder;
  const pid = forwarder.child.pid;
  const stall = config.stallMs;
  const before = cpuNow(pid, observed);
  switch (metric) {
    case 'upload':
    case 'download': {
      const mib = metric === 'upload' ? config.uploadMiB : config.downloadMiB;
      const run = metric === 'upload' ? upload : download;
      const t = await run(port, mib * MiB, stall);
      const cpu = cpuSince(before, pid, observed);
      return { value: mib / t.seconds, seconds: t.seconds, cpu, bytes: t.bytes, connections: 1, errors: 0 };
    }
    case 'sequential': {
      const r = await sequential(port, config.sequentialMax, config.sequentialSeconds, stall);
      const cpu = cpuSince(before, pid, observed);
      return {
        value: r.connections / r.seconds,
        seconds: r.seconds,
        cpu,
        bytes: 0,
        connections: r.connections,
        errors: r.errors,
        ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
        note: `${r.connections} conns, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
      };
    }
    case 'parallel': {
      const r = await parallel(port, config.parallelConnections, config.parallelKiB * 1024, stall);
      const cpu = cpuSince(before, pid, observed);
      return {
        value: r.seconds,
        seconds: r.seconds,
        cpu,
        bytes: 2 * r.connections * config.parallelKiB * 1024,
        connections: r.connections,
        errors: r.errors,
        ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
      };
    }
    case 'idleRss': {
      const idle = treeMemory(pid);
      const hold = await holdIdle(port, config.idleConnections, 100, stall);
      const cpu = cpuSince(before, pid, observed);
      const memory = await settledMemory(pid);
      await hold.release();
      return {
        value: memory.rss / MB,
        seconds: hold.seconds,
        cpu,
        bytes: 0,
        connections: hold.connections,
        errors: hold.errors,
        ...(hold.firstError === undefined ? {} : { firstError: hold.firstError }),
        memory,
        memoryBefore: idle,
        note: `${hold.connections} held, ${(idle.rss / MB).toFixed(1)} MB before opening them`,
      };
    }
    case 'churnRss': {
      const r = await churn(port, config.churnConnections, config.churnConcurrency, stall);
      const cpu = cpuSince(before, pid, observed);
      const drained = await waitDrained(port, DRAIN_MS, leftOpen.get(forwarder) ?? 0);
      const memory = await settledMemory(pid);
      return {
        value: memory.rss / MB,
        seconds: r.seconds,
        cpu,
        bytes: 0,
        connections: r.connections,
        errors: r.errors,
        ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
        memory,
        note: `${(r.connections / r.seconds).toFixed(0)} conn/s at ${config.churnConcurrency} concurrent${drained ? '' : ', NOT drained'}`,
      };
    }
  }
}
