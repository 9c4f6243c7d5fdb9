// What the kernel says about our processes and sockets (/proc): CPU time, memory, listeners.
// Everything here is synchronous and cheap enough to call between measurements.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  readonly ppid: number;
  /** utime + stime of the process itself, in clock ticks. */
  readonly ownTicks: number;
  /** cutime + cstime: children it has already reaped. */
  readonly reapedTicks: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    ticksPerSecond = Number(out) > 0 ? Number(out) : 100;
  }
  return ticksPerSecond;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  // comm may contain spaces and parentheses: fields are counted from the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i] ?? 0);
  return { ppid: n(1), ownTicks: n(11) + n(12), reapedTicks: n(13) + n(14) };
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** `root` and every live descendant (sshd sessions call setsid, so process groups miss them). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  for (let pid = stack.pop(); pid !== undefined; pid = stack.pop()) {
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU time (user + system, ms) used so far by `root` and its descendants, live or reaped. */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const stat = readStat(pid);
    if (stat) ticks += stat.ownTicks + stat.reapedTicks;
  }
  return (ticks * 1000) / clockTicks();
}

export interface Memory {
  /** Sum of VmRSS over the tree, bytes. */
  readonly rss: number;
  /** Sum of VmHWM (each process's peak RSS), bytes. */
  readonly peak: number;
}

export function treeMemory(root: number): Memory {
  let rss = 0;
  let peak = 0;
  for (const pid of processTree(root)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue;
    }
    rss += kib(status, 'VmRSS');
    peak += kib(status, 'VmHWM');
  }
  return { rss, peak };
}

function kib(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m?.[1] === undefined ? 0 : Number(m[1]) * 1024;
}

const TCP_LISTEN = '0A';
const TCP_TIME_WAIT = '06';
const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
};

interface TcpEntry {
  readonly localPort: number;
  readonly remotePort: number;
  readonly state: string;
}

/** Every TCP socket of the machine's network namespace, IPv4 and IPv6. */
function tcpEntries(): TcpEntry[] {
  const entries: TcpEntry[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (local === undefined || remote === undefined || state === undefined || !local.includes(':'))
        continue;
      const port = (addr: string): number => Number.parseInt(addr.slice(addr.lastIndexOf(':') + 1), 16);
      entries.push({ localPort: port(local), remotePort: port(remote), state });
    }
  }
  return entries;
}

export interface PortSockets {
  /** Someone listens on the port. */
  readonly listening: boolean;
  /** Sockets whose local end is the port and that a process still holds (not LISTEN, not TIME_WAIT). */
  readonly open: number;
}

/** Sockets with local port `port` on any address. */
export function portSockets(port: number): PortSockets {
  let listening = false;
  let open = 0;
  for (const e of tcpEntries()) {
    if (e.localPort !== port) continue;
    if (e.state === TCP_LISTEN) listening = true;
    else if (e.state !== TCP_TIME_WAIT) open++;
  }
  return { listening, open };
}

/**
 * What the connections still open on `port` look like, e.g. "3 ESTABLISHED (client side gone)":
 * for a forwarder that never closed them, the clue to why.
 */
export function describeOpen(port: number): string {
  const entries = tcpEntries();
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.localPort !== port || e.state === TCP_LISTEN || e.state === TCP_TIME_WAIT) continue;
    const clientAlive = entries.some(
      (c) => c.localPort === e.remotePort && c.remotePort === port && c.state !== TCP_TIME_WAIT,
    );
    const key = `${TCP_STATES[e.state] ?? e.state}${clientAlive ? '' : ' (client side gone)'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${key}`).join(', ');
}

/** The soft limit on open files this process (and so its children) has. */
export function openFileLimit(): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m?.[1] === undefined || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

export interface SystemCpu {
  /** CPU time all cores spent not idle (user, nice, system, irq, softirq), ms. */
  readonly busy: number;
  /** Time the hypervisor ran something else while we wanted a core, ms. */
  readonly steal: number;
}

/** Machine-wide counters from /proc/stat: what the rest of the system took during a load. */
export function systemCpu(): SystemCpu {
  const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [, user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = first
    .trim()
    .split(/\s+/)
    .map(Number);
  const ms = 1000 / clockTicks();
  return { busy: (user + nice + system + irq + softirq) * ms, steal: steal * ms };
}
