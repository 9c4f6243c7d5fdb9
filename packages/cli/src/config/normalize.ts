import { DEFAULTS, type HostKeyMode, type ReadyCheck } from '@fwd/core';
import { formatDuration, parseDuration } from './duration.js';
import { type ForwardFlag, type ParsedForward, parseForward } from './forward-spec.js';
import type { PathSegment, SourcePosition } from './problems.js';
import type { HostEntry, TransportEntry, TunnelEntry, TunnelsFile } from './schema.js';
import { parseSize } from './size.js';

/** Settings every host inherits. */
export interface ConfigDefaults {
  /** Unset unless the file says so, so that ~/.ssh/config's ServerAliveInterval can apply. */
  keepaliveMs?: number;
  reconnect: { initialMs: number; maxMs: number };
  /** Unset unless the file says so, so that ~/.ssh/config's StrictHostKeyChecking can apply. */
  hostKeys?: HostKeyMode;
  /** Local bind address for forwards that name none; already applied to `forwards`. */
  bind: string;
  /** Largest receive window of a forwarded channel, bytes; unset = core's default. */
  windowBytes?: number;
  /** How long early connections wait for a tunnel; unset = its own timeout or core's default. */
  holdMs?: number;
}

/** A host entry, validated. Unset fields fall back to ~/.ssh/config in the plan. */
export interface HostConfig {
  name: string;
  position: SourcePosition;
  /** This machine: Slurm commands run here, forwards hop into the job's node (see schema). */
  local?: boolean;
  host?: string;
  user?: string;
  port?: number;
  identityFiles?: string[];
  certificateFiles?: string[];
  /** ProxyJump entries, outermost first: names from `hosts:`/~/.ssh/config or `[user@]host[:port]`. */
  jump?: string[];
  transport?: TransportEntry;
  /** Overrides `defaults.window` for this host. */
  windowBytes?: number;
}

/**
 * How a tunnel finds its Slurm job. `warnBeforeMs`: warn this long before its time limit ends it
 * (default 10 min and 1 min).
 */
export type SlurmConfig = { timeoutMs?: number; urlFromOutput?: boolean; warnBeforeMs?: number[] } & (
  | { mode: 'job'; job: string }
  | { mode: 'name'; name: string }
  | { mode: 'submit'; run: { script: string } | { wrap: string }; args: string[]; cancelOnExit: boolean }
);

/** A tunnel entry, validated, with every forward parsed and default bind addresses applied. */
export interface TunnelConfig {
  name: string;
  position: SourcePosition;
  /** The name of the host (a key of `hosts:` or a Host of ~/.ssh/config). */
  host: string;
  forwards: ParsedForward[];
  slurm?: SlurmConfig;
  ready?: ReadyCheck;
  via?: 'login' | 'node';
  /** Open the app's URL in a browser once up. */
  open?: boolean;
  /** `hold:` (or `defaults.hold`) in ms. */
  holdMs?: number;
}

/** A whole tunnels.yaml after validation. */
export interface TunnelsConfig {
  file: string;
  defaults: ConfigDefaults;
  hosts: HostConfig[];
  tunnels: TunnelConfig[];
}

/** Callbacks the normaliser uses to find positions and report problems. */
export interface NormalizeContext {
  file: string;
  /** True when the schema found nothing wrong at or below `path` (so its type can be trusted). */
  clean(path: PathSegment[]): boolean;
  keyPosition(path: PathSegment[]): SourcePosition;
  /** Reports at the value of `path`, or at its key when `atKey` (for "this entry lacks ..."). */
  report(path: PathSegment[], message: string, atKey?: boolean): void;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Entries of a mapping, or none when the schema found something else there. */
const entriesOf = <T>(value: Record<string, T> | undefined): [string, T][] =>
  isRecord(value) ? Object.entries(value).filter((e): e is [string, T] => isRecord(e[1])) : [];

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Milliseconds of a schema-checked duration (the schema already rejected malformed ones). */
function ms(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const parsed = parseDuration(text);
  return parsed.ok ? parsed.value : fallback;
}

/** Bytes of a schema-checked size (the schema already rejected malformed ones). */
function bytes(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseSize(text);
  return parsed.ok ? parsed.value : undefined;
}

/** A `hold:` in ms, reported when it is over core's cap (no connection waits longer). */
function holdMs(text: string | undefined, path: PathSegment[], ctx: NormalizeContext): number | undefined {
  if (text === undefined || !ctx.clean(path)) return undefined;
  const value = ms(text, DEFAULTS.holdMs);
  if (value > DEFAULTS.maxHoldMs) ctx.report(path, `at most ${formatDuration(DEFAULTS.maxHoldMs)}`);
  return value;
}

function normalizeDefaults(file: TunnelsFile, ctx: NormalizeContext): ConfigDefaults {
  const d = ctx.clean(['defaults']) ? (file.defaults ?? {}) : {};
  const out: ConfigDefaults = {
    ...(d.keepalive !== undefined ? { keepaliveMs: ms(d.keepalive, DEFAULTS.keepaliveMs) } : {}),
    reconnect: {
      initialMs: ms(d.reconnect?.initial, DEFAULTS.reconnect.initialMs),
      maxMs: ms(d.reconnect?.max, DEFAULTS.reconnect.maxMs),
    },
    bind: d.bind ?? DEFAULTS.bindHost,
  };
  if (d.hostKeys !== undefined) out.hostKeys = d.hostKeys;
  const window = bytes(d.window);
  if (window !== undefined) out.windowBytes = window;
  const hold = holdMs(d.hold, ['defaults', 'hold'], ctx);
  if (hold !== undefined) out.holdMs = hold;
  if (out.reconnect.initialMs > out.reconnect.maxMs) {
    ctx.report(['defaults', 'reconnect', 'initial'], 'reconnect.initial is longer than reconnect.max');
  }
  return out;
}

function normalizeHost(name: string, entry: HostEntry, ctx: NormalizeContext): HostConfig {
  const host: HostConfig = { name, position: ctx.keyPosition(['hosts', name]) };
  if (entry.local === true) {
    host.local = true;
    for (const key of ['host', 'port', 'jump', 'transport'] as const) {
      if (entry[key] === undefined) continue;
      ctx.report(
        ['hosts', name, key],
        `a local: true host is this machine: ${key}: does not apply (only user: and identityFile:, for SSH into nodes)`,
      );
    }
  }
  if (entry.host !== undefined) host.host = entry.host;
  if (entry.user !== undefined) host.user = entry.user;
  if (entry.port !== undefined) host.port = entry.port;
  if (entry.identityFile !== undefined) host.identityFiles = list(entry.identityFile);
  if (entry.certificateFile !== undefined) host.certificateFiles = list(entry.certificateFile);
  const window = bytes(entry.window);
  if (window !== undefined) host.windowBytes = window;
  // `jump: a,b` is accepted like OpenSSH's ProxyJump list.
  const jump = list(entry.jump).flatMap((j) => j.split(',').map((s) => s.trim()));
  if (jump.length > 0) host.jump = jump;
  if (entry.transport !== undefined) host.transport = entry.transport;
  if (jump.length > 0 && entry.transport !== undefined && entry.transport.type !== 'tcp') {
    ctx.report(
      ['hosts', name, 'transport'],
      'a host reached through jump: cannot have its own transport; set it on the first jump host',
    );
  }
  return host;
}

function normalizeForwards(
  name: string,
  entry: TunnelEntry,
  bind: string,
  ctx: NormalizeContext,
  paths: Map<ParsedForward, PathSegment[]>,
): ParsedForward[] {
  const forwards: ParsedForward[] = [];
  for (const flag of ['local', 'remote', 'dynamic'] as const satisfies readonly ForwardFlag[]) {
    const value = entry[flag];
    if (value === undefined || !ctx.clean(['tunnels', name, flag])) continue;
    const specs = list<string | number>(value);
    for (const [i, spec] of specs.entries()) {
      const path: PathSegment[] = Array.isArray(value) ? ['tunnels', name, flag, i] : ['tunnels', name, flag];
      const parsed = parseForward(flag, spec);
      if (!parsed.ok) {
        ctx.report(path, `bad forward "${spec}": ${parsed.error}`);
        continue;
      }
      const forward = parsed.value;
      // The default bind address applies to listeners on this machine only; the server decides for -R.
      if (
        (forward.kind === 'local' || forward.kind === 'dynamic') &&
        'port' in forward.bind &&
        forward.bind.host === undefined
      ) {
        forward.bind = { host: bind, port: forward.bind.port };
      }
      forwards.push(forward);
      paths.set(forward, path);
    }
  }
  return forwards;
}

function normalizeSlurm(name: string, entry: TunnelEntry, ctx: NormalizeContext): SlurmConfig | undefined {
  const s = entry.slurm;
  const path: PathSegment[] = ['tunnels', name, 'slurm'];
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return undefined;
  // Checked even when other slurm fields are faulty: it needs only which keys are present.
  const modes = (['job', 'name', 'submit'] as const).filter((k) => s[k] !== undefined);
  if (modes.length !== 1) {
    ctx.report(
      path,
      modes.length === 0
        ? 'needs one of job:, name: or submit:'
        : `has both ${modes.join(' and ')}; keep one`,
    );
    return undefined;
  }
  if (!ctx.clean(path)) return undefined;
  const timing = {
    ...(s.timeout === undefined ? {} : { timeoutMs: ms(s.timeout, 0) }),
    ...(s.urlFromOutput === undefined ? {} : { urlFromOutput: s.urlFromOutput }),
    ...(s.warnBefore === undefined ? {} : { warnBeforeMs: s.warnBefore.map((d) => ms(d, 0)) }),
  };
  if (s.job !== undefined) return { mode: 'job', job: String(s.job), ...timing };
  if (s.name !== undefined) return { mode: 'name', name: s.name, ...timing };
  const submit = s.submit ?? {};
  if ((submit.script === undefined) === (submit.wrap === undefined)) {
    ctx.report([...path, 'submit'], 'needs exactly one of script: or wrap:');
    return undefined;
  }
  const run = submit.script !== undefined ? { script: submit.script } : { wrap: submit.wrap ?? '' };
  return {
    mode: 'submit',
    run,
    args: submit.args ?? [],
    cancelOnExit: submit.cancelOnExit ?? true,
    ...timing,
  };
}

function normalizeTunnel(
  name: string,
  entry: TunnelEntry,
  defaults: ConfigDefaults,
  ctx: NormalizeContext,
  paths: Map<ParsedForward, PathSegment[]>,
): TunnelConfig {
  const fieldClean = (key: string) => ctx.clean(['tunnels', name, key]);
  const tunnel: TunnelConfig = {
    name,
    position: ctx.keyPosition(['tunnels', name]),
    host: fieldClean('host') && typeof entry.host === 'string' ? entry.host : '',
    forwards: normalizeForwards(name, entry, defaults.bind, ctx, paths),
  };
  if (entry.local === undefined && entry.remote === undefined && entry.dynamic === undefined) {
    ctx.report(['tunnels', name], 'no forwards: add local:, remote: or dynamic:', true);
  }
  const slurm = normalizeSlurm(name, entry, ctx);
  if (slurm !== undefined) tunnel.slurm = slurm;
  if (entry.ready !== undefined && fieldClean('ready')) {
    if ('http' in entry.ready && !entry.ready.http.startsWith('/')) {
      ctx.report(['tunnels', name, 'ready', 'http'], 'expected a path starting with /, like /api');
    }
    tunnel.ready = 'http' in entry.ready ? { kind: 'http', path: entry.ready.http } : { kind: 'tcp' };
  }
  if (entry.via !== undefined && fieldClean('via')) tunnel.via = entry.via;
  if (entry.open !== undefined && fieldClean('open')) tunnel.open = entry.open;
  const hold = holdMs(entry.hold, ['tunnels', name, 'hold'], ctx) ?? defaults.holdMs;
  if (hold !== undefined) tunnel.holdMs = hold;
  return tunnel;
}

/** A normalised file, plus where each forward was written (for later cross-checks). */
export interface Normalized {
  config: TunnelsConfig;
  forwardPaths: Map<ParsedForward, PathSegment[]>;
  /** Tunnels with a `slurm:` key, even an invalid one. */
  slurmDeclared: Set<string>;
}

/**
 * Turns a schema-checked file into a `TunnelsConfig`: durations in ms, forwards parsed, defaults
 * applied, Slurm and ready options in tagged form. Fields the schema already faulted are skipped
 * one by one, so that every other problem still gets reported.
 */
export function normalizeFile(file: TunnelsFile, ctx: NormalizeContext): Normalized {
  const defaults = normalizeDefaults(file, ctx);
  const forwardPaths = new Map<ParsedForward, PathSegment[]>();
  const hosts = entriesOf(file.hosts)
    .filter(([name]) => ctx.clean(['hosts', name]))
    .map(([name, entry]) => normalizeHost(name, entry, ctx));
  const tunnels = entriesOf(file.tunnels).map(([name, entry]) =>
    normalizeTunnel(name, entry, defaults, ctx, forwardPaths),
  );
  const slurmDeclared = new Set(
    entriesOf(file.tunnels)
      .filter(([, t]) => t.slurm !== undefined)
      .map(([n]) => n),
  );
  return { config: { file: ctx.file, defaults, hosts, tunnels }, forwardPaths, slurmDeclared };
}
