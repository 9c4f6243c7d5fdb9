import { DEFAULTS } from '@fwd/core';
import { UsageError } from '../usage-error.js';
import { isDestination } from './cross-checks.js';
import { type ForwardFlag, type ParsedForward, parseForward } from './forward-spec.js';
import type { HostConfig, TunnelConfig, TunnelsConfig } from './normalize.js';
import { type PlanHop, planHop } from './plan-hop.js';
import type { ConfigProblem } from './problems.js';
import {
  parseDestination,
  resolveSshHost,
  type SshConfigOptions,
  type SshDestination,
} from './ssh-config.js';

export type { PlanHop };

/** A host fwd opens one SSH connection to, shared by all its tunnels. */
export interface PlanHost extends PlanHop {
  /** This machine (`local: true`): no SSH to it; `user`, keys and known_hosts are for SSH into nodes. */
  local?: boolean;
  /** Hops to go through, outermost first; each is already flattened (no nested chains). */
  jumpChain: PlanHop[];
  reconnect: { initialMs: number; maxMs: number };
  /** Largest receive window of a forwarded channel (`window:`), bytes; unset = core's default. */
  windowBytes?: number;
}

/**
 * A tunnel ready to open: as validated, less its position in the file. `host` is the `name` of the
 * PlanHost it runs over; `via` is settled for a Slurm tunnel: as written, else `node` on a local
 * host or with a unix-socket target (it exists only on the job's node), else `login`.
 */
export type PlanTunnel = Omit<TunnelConfig, 'position'>;

/** Everything `fwd up` needs, resolved; no further lookups. */
export interface Plan {
  hosts: PlanHost[];
  tunnels: PlanTunnel[];
}

/** A plan, or the problems that prevent one. */
export interface PlanResult {
  plan?: Plan;
  problems: ConfigProblem[];
}

/** Longest jump chain: real ones have one or two hops; each is an SSH session inside the last. */
const MAX_JUMPS = 32;

interface Resolver {
  /** A name, or a `[user@]host[:port]` destination. */
  ref(text: string): SshDestination;
  hop(ref: SshDestination): { hop: PlanHop; jumps: SshDestination[] };
  chain(ref: SshDestination, trail: string[]): PlanHop[];
}

function resolver(config: TunnelsConfig, ssh: SshConfigOptions): Resolver {
  const yamlHosts = new Map(config.hosts.map((h): [string, HostConfig] => [h.name, h]));
  const self: Resolver = {
    ref(text) {
      const parsed = isDestination(text) ? parseDestination(text) : { host: text };
      if (parsed === undefined)
        throw new UsageError(`bad destination "${text}": expected [user@]host[:port]`);
      return parsed;
    },
    hop(ref) {
      const yaml = yamlHosts.get(ref.host);
      // Like ssh's `user@host` and -p: given before ~/.ssh/config is read, so Match user sees them.
      const preset: { user?: string; port?: number } = {};
      const user = ref.user ?? yaml?.user;
      const port = ref.port ?? yaml?.port;
      if (user !== undefined) preset.user = user;
      if (port !== undefined) preset.port = port;
      const resolved = resolveSshHost(ref.host, ssh, preset);
      const hop = planHop(ref, yaml, resolved, config.defaults, ssh.homeDir);
      if (yaml?.local) {
        // This machine: ~/.ssh/config still gives the user, keys, agent and known_hosts for SSH into nodes.
        delete hop.proxyCommand;
        return { hop: { ...hop, hostName: 'localhost', port: 22, transport: { type: 'tcp' } }, jumps: [] };
      }
      // The YAML entry is more specific than ~/.ssh/config, so its jump: replaces ProxyJump.
      const jumps = yaml?.jump !== undefined ? yaml.jump.map(self.ref) : resolved.proxyJump;
      return { hop, jumps };
    },
    // Like `ProxyJump a,b`: a is reached through its own chain, b through a (b's own ProxyJump is ignored).
    chain(ref, trail) {
      if (trail.includes(ref.host)) throw new UsageError(`jump cycle: ${[...trail, ref.host].join(' → ')}`);
      // Bounds the recursion (and the trail copies) for a file that chains thousands of hosts.
      if (trail.length >= MAX_JUMPS)
        throw new UsageError(`more than ${MAX_JUMPS} jumps to reach ${trail[0]}`);
      const [first, ...rest] = self.hop(ref).jumps;
      if (first === undefined) return [];
      // ssh ignores the ProxyCommand of a host it reaches through a jump (-J wins over it).
      const reached = (r: SshDestination): PlanHop => {
        const { proxyCommand: _, ...hop } = self.hop(r).hop;
        return hop;
      };
      return [...self.chain(first, [...trail, ref.host]), self.hop(first).hop, ...rest.map(reached)];
    },
  };
  return self;
}

/**
 * Resolves a loaded config against ~/.ssh/config into a plan: one `PlanHost` per host that a tunnel
 * uses, with user, port, keys, agent, known_hosts, host key mode and jump chain settled. Fields of
 * a `hosts:` entry override ~/.ssh/config; a host without `host:` takes its HostName or its name.
 * Reads ssh config files; no network.
 *
 * @example
 * const { plan, problems } = buildPlan(config, { homeDir: os.homedir(), user: os.userInfo().username, env: process.env });
 */
export function buildPlan(config: TunnelsConfig, ssh: SshConfigOptions): PlanResult {
  const resolve = resolver(config, ssh);
  const yamlHosts = new Map(config.hosts.map((h) => [h.name, h]));
  const problems: ConfigProblem[] = [];
  const hosts = new Map<string, PlanHost>();
  for (const tunnel of config.tunnels) {
    if (hosts.has(tunnel.host)) continue;
    const yaml = yamlHosts.get(tunnel.host);
    try {
      const ref = resolve.ref(tunnel.host);
      // Named as the tunnel refers to it, even when that is a destination like alice@gw:2222.
      const hop = { ...resolve.hop(ref).hop, name: tunnel.host };
      const jumpChain = resolve.chain(ref, []);
      if (jumpChain.length > 0) delete hop.proxyCommand;
      hosts.set(tunnel.host, {
        ...hop,
        ...(yaml?.local ? { local: true } : {}),
        jumpChain,
        reconnect: config.defaults.reconnect,
        ...windowOf(yaml?.windowBytes ?? config.defaults.windowBytes),
      });
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const where = yaml ?? tunnel;
      const path = yaml ? `hosts.${yaml.name}` : `tunnels.${tunnel.name}`;
      problems.push({
        file: config.file,
        ...where.position,
        path,
        message: error.message,
      });
    }
  }
  if (problems.length > 0) return { problems };
  const tunnels = config.tunnels.map(({ position: _, ...t }): PlanTunnel => {
    if (t.via !== undefined || t.slurm === undefined) return t;
    const socketTarget = t.forwards.some((f) => f.kind === 'local' && 'path' in f.target);
    return { ...t, via: hosts.get(t.host)?.local || socketTarget ? 'node' : 'login' };
  });
  return { plan: { hosts: [...hosts.values()], tunnels }, problems };
}

/** The arguments of an OpenSSH-style one-off: `fwd -L .. -R .. -D .. [-J jump] [-p port] [-i key] [user@]host`. */
export interface OneOffArgs {
  destination: string;
  port?: number;
  identityFile?: string;
  jump?: string;
  local: string[];
  remote: string[];
  dynamic: string[];
}

/**
 * Builds the same kind of plan as `buildPlan` from one-off command-line arguments, with the
 * defaults of tunnels.yaml (bind 127.0.0.1, keepalive 15s, reconnect 250ms..30s).
 *
 * @example planFromArgs({ destination: 'alice@login', local: ['8080:localhost:9990'], remote: [], dynamic: [] }, sshOptions)
 */
export function planFromArgs(args: OneOffArgs, ssh: SshConfigOptions): PlanResult {
  const file = 'command line';
  const problems: ConfigProblem[] = [];
  const at = { line: 0, col: 0 };
  const destination = parseDestination(args.destination);
  if (destination === undefined) {
    return {
      problems: [{ file, ...at, path: 'destination', message: `bad destination "${args.destination}"` }],
    };
  }
  const bind = DEFAULTS.bindHost;
  const forwards: ParsedForward[] = [];
  const flags: [ForwardFlag, string, string[]][] = [
    ['local', '-L', args.local],
    ['remote', '-R', args.remote],
    ['dynamic', '-D', args.dynamic],
  ];
  for (const [flag, option, specs] of flags) {
    for (const spec of specs) {
      const parsed = parseForward(flag, spec);
      if (!parsed.ok)
        problems.push({ file, ...at, path: option, message: `bad forward "${spec}": ${parsed.error}` });
      else if (parsed.value.kind === 'remote-dynamic') {
        problems.push({
          file,
          ...at,
          path: option,
          message: `bad forward "${spec}": a reverse SOCKS proxy is not supported`,
        });
      } else {
        const f = parsed.value;
        if ((f.kind === 'local' || f.kind === 'dynamic') && 'port' in f.bind && f.bind.host === undefined)
          f.bind = { host: bind, port: f.bind.port };
        forwards.push(f);
      }
    }
  }
  if (forwards.length === 0 && problems.length === 0) {
    problems.push({ file, ...at, path: '', message: 'nothing to forward: give at least one -L, -R or -D' });
  }
  if (problems.length > 0) return { problems };
  const host: HostConfig = { name: destination.host, position: at };
  const port = args.port ?? destination.port;
  if (port !== undefined) host.port = port;
  if (destination.user !== undefined) host.user = destination.user;
  if (args.identityFile !== undefined) host.identityFiles = [args.identityFile];
  if (args.jump !== undefined) host.jump = args.jump.split(',').map((j) => j.trim());
  const config: TunnelsConfig = {
    file,
    defaults: { reconnect: { ...DEFAULTS.reconnect }, bind },
    hosts: [host],
    tunnels: [{ name: destination.host, position: at, host: destination.host, forwards }],
  };
  return buildPlan(config, ssh);
}

const windowOf = (windowBytes: number | undefined): { windowBytes?: number } =>
  windowBytes === undefined ? {} : { windowBytes };
