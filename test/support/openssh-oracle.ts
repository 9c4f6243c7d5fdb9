import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Test support: runs the real OpenSSH client on a config, as a controlled user. ssh takes the
 * user name and home from getpwuid(), not $HOME, so it runs in a fresh user and mount namespace
 * (`unshare -rm`) with a passwd file bind-mounted over /etc/passwd naming `alice`, home in a
 * temporary directory. Nothing connects: `ssh -G` only prints, and `ssh -v` runs with
 * `ProxyCommand true` (ssh runs `exec true`), which ends before any SSH byte, to show the expanded key paths.
 */
export class OpenSshOracle implements Disposable {
  readonly root = mkdtempSync(join(tmpdir(), 'fwd-openssh-oracle-'));
  readonly home = join(this.root, 'home');
  readonly user = 'alice';
  readonly #passwd = join(this.root, 'passwd');

  readonly env: Record<string, string>;

  constructor(env: Record<string, string> = {}) {
    this.env = env;
    mkdirSync(join(this.home, '.ssh'), { recursive: true });
    writeFileSync(this.#passwd, `${this.user}:x:0:0:Alice:${this.home}:/bin/sh\n`);
  }

  /** Why the oracle cannot run here, or undefined when it can. */
  static unavailable(): string | undefined {
    const probe = spawnSync('unshare', ['-rm', 'sh', '-c', 'ssh -V'], { encoding: 'utf8' });
    if (probe.error) return `unshare: ${probe.error.message}`;
    return probe.status === 0 ? undefined : `unshare -rm + ssh -V failed: ${probe.stderr.trim()}`;
  }

  /** Writes a file under the home directory (a `/`-rooted path is taken as is). */
  write(path: string, text: string): string {
    const full = path.startsWith('/') ? path : join(this.home, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text, { mode: 0o644 });
    return full;
  }

  #ssh(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const script = 'mount --bind "$0" /etc/passwd && exec ssh "$@"';
    const run = spawnSync('unshare', ['-rm', 'sh', '-c', script, this.#passwd, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.home, LC_ALL: 'C', ...this.env },
      timeout: 20_000,
    });
    return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? '' };
  }

  /** `ssh -G -F file host`: every setting, lower-case keyword → values in order; throws with ssh's error. */
  settings(configFile: string, host: string): Map<string, string[]> {
    const run = this.#ssh(['-G', '-F', configFile, host]);
    if (run.status !== 0) throw new Error(`ssh -G ${host}: ${run.stderr.trim()}`);
    const out = new Map<string, string[]>();
    for (const line of run.stdout.split('\n')) {
      const space = line.indexOf(' ');
      if (space < 0) continue;
      const key = line.slice(0, space);
      out.set(key, [...(out.get(key) ?? []), line.slice(space + 1)]);
    }
    return out;
  }

  /** ssh's error for a config it refuses (`ssh -G` exit status 255), or undefined when it accepts it. */
  refusal(configFile: string, host: string): string | undefined {
    const run = this.#ssh(['-G', '-F', configFile, host]);
    return run.status === 0 ? undefined : run.stderr.trim();
  }

  /** The identity and certificate files ssh loads, expanded (`ssh -v` lines "identity file X type N"). */
  keyFiles(configFile: string, host: string): { identity: string[]; certificate: string[] } {
    const run = this.#ssh([
      '-v',
      '-F',
      configFile,
      '-o',
      'BatchMode=yes',
      '-o',
      'ProxyCommand=true',
      '-o',
      'ProxyUseFdpass=no',
      host,
    ]);
    const identity: string[] = [];
    const certificate: string[] = [];
    for (const line of run.stderr.split('\n')) {
      const m = /^debug1: (identity|certificate) file (.*) type -?\d+$/.exec(line.trim());
      if (!m) continue;
      const list = m[1] === 'identity' ? identity : certificate;
      // ssh also tries `<key>-cert` after each key when no CertificateFile is set.
      if (m[1] === 'identity' && list.length > 0 && m[2] === `${list[list.length - 1]}-cert`) continue;
      list.push(m[2] as string);
    }
    return { identity, certificate };
  }

  [Symbol.dispose](): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
