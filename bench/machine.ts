// The machine a run was taken on: results only mean something next to it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO } from './forwarders.js';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly kernel: string;
  readonly node: string;
  /** `ssh -V` of the client used as the baseline. */
  readonly openssh: string;
  /** The bench sshd's identification string. */
  readonly sshd: string;
  readonly ssh2: string;
  /** Loopback TCP's congestion control: with `bbr` the long-path rows stall (bench/README.md). */
  readonly tcpCongestionControl?: string;
  readonly date: string;
  readonly commit: string;
}

function quiet(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    // `ssh -V` prints on stderr, and some tools exit non-zero: take what they said.
    const e = err as { stderr?: string; stdout?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim();
  }
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export function describeMachine(sshdBanner: string): Machine {
  const cpuinfo = read('/proc/cpuinfo');
  const osRelease = read('/etc/os-release');
  const ssh2 = JSON.parse(read(join(REPO, 'node_modules/ssh2/package.json')) || '{}') as { version?: string };
  const dirty = quiet('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no']) !== '';
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? 'Linux',
    kernel: release(),
    node: process.version,
    openssh: quiet('sh', ['-c', 'ssh -V 2>&1']),
    sshd: sshdBanner,
    ssh2: ssh2.version ?? 'unknown',
    tcpCongestionControl: read('/proc/sys/net/ipv4/tcp_congestion_control').trim() || 'unknown',
    date: new Date().toISOString(),
    commit: `${quiet('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])}${dirty ? '+dirty' : ''}`,
  };
}
