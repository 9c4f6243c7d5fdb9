// The two sides of every comparison: OpenSSH `ssh -N -L` (the baseline) and the candidate,
// a command template that defaults to the fwd CLI when it supports -L, else the stand-in in
// bench/candidates/. Each runs as its own process group with its own local port.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Child, spawnChild } from './children.js';
import { echoOnce, echoPayload } from './load.js';
import { freePort, waitListening } from './ports.js';
import { CIPHER, type Sshd } from './sshd.js';

export const REPO = resolve(import.meta.dirname, '..');
export const CLI_MAIN = join(REPO, 'packages/cli/dist/main.js');
const STAND_IN = join(REPO, 'bench/.build/candidates/core-forwarder.js');

export type CandidateKind = 'cli' | 'stand-in' | 'custom';

export interface CandidateSpec {
  readonly kind: CandidateKind;
  readonly label: string;
  /** Shell command with {NODE} {LPORT} {TPORT} {SSHPORT} {KEY} {USER} {KNOWN_HOSTS} {HOME}. */
  readonly template: string;
}

export interface Forwarder {
  readonly label: string;
  /** The local port it forwards from. */
  readonly port: number;
  readonly child: Child;
  /** What it was started with, placeholders filled in. */
  readonly command: string;
}

/** Where a forwarder sends its connections, and what it needs to get there. */
export interface Route {
  readonly sshd: Sshd;
  readonly targetPort: number;
  /** A HOME whose .ssh/known_hosts trusts the bench sshd (made by {@link prepareHome}). */
  readonly home: string;
}

const ONE_OFF = '-L 127.0.0.1:{LPORT}:127.0.0.1:{TPORT} -p {SSHPORT} -i {KEY}';

/** A private HOME for the forwarders: nothing from the user's ~/.ssh leaks into the run. */
export function prepareHome(dir: string, sshd: Sshd): string {
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  copyFileSync(sshd.knownHosts, join(home, '.ssh', 'known_hosts'));
  return home;
}

/** BENCH_CANDIDATE: a template, or `cli` / `stand-in` to force one; unset = the CLI if it can -L. */
export function resolveCandidate(log: (msg: string) => void): CandidateSpec {
  const wanted = process.env.BENCH_CANDIDATE?.trim() ?? '';
  if (wanted !== '' && wanted !== 'cli' && wanted !== 'stand-in') {
    return {
      kind: 'custom',
      label: process.env.BENCH_CANDIDATE_NAME ?? 'custom candidate',
      template: wanted,
    };
  }
  const help = wanted === 'stand-in' ? undefined : cliHelp();
  if (help !== undefined && /(^|[\s[,])-L\b/m.test(help)) {
    const flags = [
      ONE_OFF,
      /(^|[\s[,])-o\b/m.test(help) ? `-o Ciphers=${CIPHER}` : '',
      /--known-hosts\b/.test(help) ? '--known-hosts {KNOWN_HOSTS}' : '', // else HOME's known_hosts
    ].filter((f) => f !== '');
    return {
      kind: 'cli',
      label: 'fwd CLI',
      // The bin itself, as users run it: its shebang carries node flags (--optimize-for-size).
      template: `${CLI_MAIN} ${flags.join(' ')} {USER}@127.0.0.1`,
    };
  }
  if (wanted === 'cli')
    throw new Error(`BENCH_CANDIDATE=cli, but ${CLI_MAIN} does not offer -L (see its --help)`);
  log(
    wanted === 'stand-in'
      ? 'candidate: the stand-in bench/candidates/core-forwarder.ts (BENCH_CANDIDATE=stand-in)'
      : `fwd CLI with -L not found (${CLI_MAIN}); using the stand-in bench/candidates/core-forwarder.ts`,
  );
  buildStandIn();
  return { kind: 'stand-in', label: 'stand-in (@fwd/core)', template: standInTemplate() };
}

/** The stand-in's command, also used for the websocket row's like-for-like TCP side. */
export function standInTemplate(extra = ''): string {
  return `{NODE} ${STAND_IN} ${ONE_OFF} -o Ciphers=${CIPHER} --known-hosts {KNOWN_HOSTS} ${extra} {USER}@127.0.0.1`
    .replace(/\s+/g, ' ')
    .trim();
}

/** Compiles bench/candidates to plain JS: tsx would add its loader thread (~35 MB) to the RSS we measure. */
export function buildStandIn(): void {
  execFileSync(join(REPO, 'node_modules/.bin/tsc'), ['-p', join(REPO, 'bench/candidates/tsconfig.json')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

function cliHelp(): string | undefined {
  if (!existsSync(CLI_MAIN)) return undefined;
  const r = spawnSync(process.execPath, [CLI_MAIN, '--help'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? `${r.stdout}\n${r.stderr}` : undefined;
}

function fill(template: string, route: Route, localPort: number): string {
  const values: Record<string, string> = {
    NODE: process.execPath,
    LPORT: String(localPort),
    TPORT: String(route.targetPort),
    SSHPORT: String(route.sshd.port),
    KEY: route.sshd.clientKey,
    USER: route.sshd.user,
    KNOWN_HOSTS: route.sshd.knownHosts,
    HOME: route.home,
  };
  return template.replace(/\{([A-Z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function forwarderEnv(route: Route): NodeJS.ProcessEnv {
  const { SSH_AUTH_SOCK: _agent, ...env } = process.env;
  return { ...env, HOME: route.home };
}

const START_TIMEOUT_MS = 20_000;

/** A forwarder that would not come up: the run fails, like a correctness failure. */
export class StartError extends Error {
  override name = 'StartError';
}

/**
 * Ready = listening and one echo made it through: a forwarder may bind before its SSH session is
 * up, and the first measurement must not pay for the login.
 */
async function waitForwarding(port: number, child: Child): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    await waitListening(port, child, START_TIMEOUT_MS);
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  for (;;) {
    try {
      (await echoOnce(port, echoPayload(1), Math.max(1, deadline - Date.now()))).destroy();
      return;
    } catch (err) {
      if (!child.alive || Date.now() >= deadline) {
        const why = (err as Error).message;
        throw new StartError(
          `${child.name} listens on ${port} but does not forward (${why}):\n${child.logTail()}`,
        );
      }
    }
    await delay(100); // refused or reset while the session comes up: try again
  }
}

/** `ssh -N -L` with the bench cipher, the bench known_hosts and nothing from ~/.ssh/config. */
export async function startBaseline(route: Route, name = 'baseline'): Promise<Forwarder> {
  const port = await freePort();
  const args = [
    '-N',
    '-F',
    'none',
    '-c',
    CIPHER,
    '-i',
    route.sshd.clientKey,
    '-p',
    String(route.sshd.port),
    ...[
      'BatchMode=yes',
      'ExitOnForwardFailure=yes',
      'ControlMaster=no',
      'ControlPath=none',
      'IdentitiesOnly=yes',
    ]
      .concat(['StrictHostKeyChecking=yes', `UserKnownHostsFile=${route.sshd.knownHosts}`])
      .concat(['GlobalKnownHostsFile=/dev/null', 'Compression=no', 'LogLevel=ERROR'])
      .flatMap((o) => ['-o', o]),
    '-L',
    `127.0.0.1:${port}:127.0.0.1:${route.targetPort}`,
    `${route.sshd.user}@127.0.0.1`,
  ];
  const child = spawnChild(name, 'ssh', args, { env: forwarderEnv(route) });
  await waitForwarding(port, child);
  return { label: 'ssh -L', port, child, command: `ssh ${args.join(' ')}` };
}

export async function startCandidate(
  spec: CandidateSpec,
  route: Route,
  name = 'candidate',
): Promise<Forwarder> {
  const port = await freePort();
  const command = fill(spec.template, route, port);
  // exec: the forwarder itself is the group leader whose CPU and memory we read.
  const child = spawnChild(name, '/bin/sh', ['-c', `exec ${command}`], { env: forwarderEnv(route) });
  await waitForwarding(port, child);
  return { label: spec.label, port, child, command };
}

/** What a stand-in announced on its ready line about ssh2's native crypto binding. */
export function nativeCryptoOf(forwarder: Forwarder): boolean | undefined {
  const m = /native-crypto=(true|false)/.exec(readFileSync(forwarder.child.logFile, 'utf8'));
  return m ? m[1] === 'true' : undefined;
}
