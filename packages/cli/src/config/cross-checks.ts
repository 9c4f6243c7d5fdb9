import { formatEndpoint } from '@fwd/core';
import type { ParsedForward } from './forward-spec.js';
import type { TunnelsConfig } from './normalize.js';
import { formatPath, type PathSegment } from './problems.js';
import { didYouMean } from './suggest.js';

/** What the cross-checks need besides the config. */
export interface CrossCheckContext {
  /** Every name under `hosts:`, including entries with schema problems (they are defined, just wrong). */
  hostNames: ReadonlySet<string>;
  /** Whether ~/.ssh/config applies to that name through a pattern other than `Host *`. */
  knownSshHosts?: (name: string) => boolean;
  forwardPaths: ReadonlyMap<ParsedForward, PathSegment[]>;
  /** Tunnels that have a `slurm:` key, valid or not (placeholders are then legitimate). */
  slurmDeclared: ReadonlySet<string>;
  report(path: PathSegment[], message: string): void;
}

/** Placeholders filled once a Slurm job runs. */
export const PLACEHOLDERS: readonly string[] = ['{node}', '{job}', '{user}'];

const WILDCARDS = new Set(['*', '', '0.0.0.0', '::']);

/** A jump entry written as a destination (`alice@login:2222`, `gw.example.org`) rather than a name. */
export function isDestination(jump: string): boolean {
  return /[@:.]/.test(jump);
}

function checkReferences(config: TunnelsConfig, ctx: CrossCheckContext): void {
  const known = (name: string) => ctx.hostNames.has(name) || (ctx.knownSshHosts?.(name) ?? false);
  const why = 'define it under hosts: or as a Host in ~/.ssh/config';
  for (const tunnel of config.tunnels) {
    if (tunnel.host !== '' && !isDestination(tunnel.host) && !known(tunnel.host)) {
      const hint = didYouMean(tunnel.host, ctx.hostNames);
      ctx.report(['tunnels', tunnel.name, 'host'], `unknown host "${tunnel.host}"${hint}; ${why}`);
    }
  }
  for (const host of config.hosts) {
    for (const jump of host.jump ?? []) {
      if (isDestination(jump) || known(jump)) continue;
      const hint = didYouMean(jump, ctx.hostNames);
      ctx.report(['hosts', host.name, 'jump'], `unknown jump host "${jump}"${hint}; ${why}`);
    }
  }
}

/**
 * Reports each cycle of `jump:` references among the file's hosts once, at its first host.
 * Depth-first without recursion: a chain of 30 000 jumps overflowed the stack.
 */
function checkJumpCycles(config: TunnelsConfig, ctx: CrossCheckContext): void {
  const jumps = new Map(
    config.hosts.map((h) => [h.name, (h.jump ?? []).filter((j) => ctx.hostNames.has(j))]),
  );
  const done = new Set<string>();
  for (const host of config.hosts) {
    if (done.has(host.name)) continue;
    // The path being explored, where each of its hosts sits on it, and which jump of each comes next.
    const trail: string[] = [host.name];
    const onTrail = new Map([[host.name, 0]]);
    const nextJump: number[] = [0];
    while (trail.length > 0) {
      const depth = trail.length - 1;
      const name = trail[depth] as string;
      const targets = jumps.get(name) ?? [];
      const i = nextJump[depth] as number;
      if (i >= targets.length) {
        done.add(name);
        onTrail.delete(name);
        trail.pop();
        nextJump.pop();
        continue;
      }
      nextJump[depth] = i + 1;
      const target = targets[i] as string;
      const start = onTrail.get(target);
      if (start !== undefined) {
        const cycle = [...trail.slice(start), target];
        ctx.report(['hosts', cycle[0] as string, 'jump'], `jump cycle: ${formatCycle(cycle)}`);
      } else if (!done.has(target)) {
        onTrail.set(target, trail.length);
        trail.push(target);
        nextJump.push(0);
      }
    }
  }
}

/** `a → b → a`; a long cycle shows its ends and how many hosts it has, not all of them. */
function formatCycle(cycle: string[]): string {
  if (cycle.length <= 8) return cycle.join(' → ');
  return [...cycle.slice(0, 3), `… (${cycle.length - 1} hosts) …`, ...cycle.slice(-2)].join(' → ');
}

/** Local listeners must not collide on this machine; remote ones must not collide on one server. */
function checkDuplicateBinds(config: TunnelsConfig, ctx: CrossCheckContext): void {
  const seen = new Map<string, { host: string; path: string }[]>();
  for (const tunnel of config.tunnels) {
    for (const forward of tunnel.forwards) {
      const path = ctx.forwardPaths.get(forward) ?? ['tunnels', tunnel.name];
      const isLocal = forward.kind === 'local' || forward.kind === 'dynamic';
      const scope = isLocal ? 'local' : `remote ${tunnel.host}`;
      const bind = forward.bind;
      // Port 0 asks for a fresh port, so it never collides.
      if ('port' in bind && bind.port === 0) continue;
      const key = 'path' in bind ? `${scope} path ${bind.path}` : `${scope} port ${bind.port}`;
      const host = 'path' in bind ? '' : (bind.host ?? '');
      const earlier = (seen.get(key) ?? []).find(
        (e) => 'path' in bind || e.host === host || WILDCARDS.has(e.host) || WILDCARDS.has(host),
      );
      if (earlier) {
        const what = isLocal
          ? `local address ${formatEndpoint(bind, '*')}`
          : `remote address ${formatEndpoint(bind, '*')}`;
        ctx.report(path, `${what} is already used by ${earlier.path}`);
      }
      const same = seen.get(key);
      if (same) same.push({ host, path: formatPath(path) });
      else seen.set(key, [{ host, path: formatPath(path) }]);
    }
  }
}

function placeholderProblems(forward: ParsedForward, hasSlurm: boolean): string | undefined {
  const texts = [forward.bind, 'target' in forward ? forward.target : undefined].flatMap((a) =>
    a === undefined ? [] : ['path' in a ? a.path : (a.host ?? '')],
  );
  for (const text of texts) {
    for (const found of text.match(/\{[^}]*\}/g) ?? []) {
      if (!PLACEHOLDERS.includes(found))
        return `unknown placeholder ${found} (known: ${PLACEHOLDERS.join(', ')})`;
      if (found !== '{user}' && !hasSlurm) return `${found} is only known for a tunnel with slurm:`;
    }
  }
  return undefined;
}

function checkForwards(config: TunnelsConfig, ctx: CrossCheckContext): void {
  for (const tunnel of config.tunnels) {
    for (const forward of tunnel.forwards) {
      const path = ctx.forwardPaths.get(forward) ?? ['tunnels', tunnel.name];
      if (forward.kind === 'remote-dynamic') {
        ctx.report(
          path,
          `bad forward "${forward.spec}": a reverse SOCKS proxy (-R with only a port) is not supported`,
        );
        continue;
      }
      const placeholder = placeholderProblems(forward, ctx.slurmDeclared.has(tunnel.name));
      if (placeholder !== undefined) ctx.report(path, `bad forward "${forward.spec}": ${placeholder}`);
    }
    if (tunnel.via === 'node' && !ctx.slurmDeclared.has(tunnel.name)) {
      ctx.report(['tunnels', tunnel.name, 'via'], 'via: node needs slurm: (the node is where the job runs)');
    }
  }
}

/**
 * Where forwards may start: a local host has no session of its own, so its tunnels follow a Slurm
 * job into its node; a unix socket a job creates exists only on its node, so `via: login` cannot
 * reach it.
 */
function checkVia(config: TunnelsConfig, ctx: CrossCheckContext): void {
  const localHosts = new Set(config.hosts.filter((h) => h.local).map((h) => h.name));
  for (const tunnel of config.tunnels) {
    const slurm = ctx.slurmDeclared.has(tunnel.name);
    if (localHosts.has(tunnel.host)) {
      if (!slurm) {
        ctx.report(
          ['tunnels', tunnel.name, 'host'],
          `host ${tunnel.host} is this machine (local: true): only Slurm tunnels (slurm:) run over it, into the job's node`,
        );
      } else if (tunnel.via === 'login') {
        ctx.report(
          ['tunnels', tunnel.name, 'via'],
          `host ${tunnel.host} is this machine (local: true): there is no login session to forward from; use via: node`,
        );
      }
      continue;
    }
    if (slurm && tunnel.via === 'login') {
      const socket = tunnel.forwards.find((f) => f.kind === 'local' && 'path' in f.target);
      if (socket) {
        ctx.report(
          ctx.forwardPaths.get(socket) ?? ['tunnels', tunnel.name, 'via'],
          `bad forward "${socket.spec}": a unix socket the job creates exists only on its node; use via: node (the default for socket targets)`,
        );
      }
    }
  }
}

/**
 * The checks that look across entries: host and jump references, jump cycles, colliding bind
 * addresses, placeholders outside Slurm tunnels, unsupported forward kinds, and where forwards
 * start (local hosts, sockets on nodes).
 */
export function crossCheck(config: TunnelsConfig, ctx: CrossCheckContext): void {
  checkReferences(config, ctx);
  checkJumpCycles(config, ctx);
  checkDuplicateBinds(config, ctx);
  checkForwards(config, ctx);
  checkVia(config, ctx);
}
