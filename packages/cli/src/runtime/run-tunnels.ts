import {
  bytesPiped,
  FwdError,
  formatEndpoint,
  nativeCryptoAvailable,
  openTunnels,
  type Supervisor,
  type TunnelStatus,
} from '@fwd/core';
import type { Plan } from '../config/index.js';
import { type CliIO, complain, EXIT, isTTY } from '../io.js';
import { type Opener, systemOpener } from '../open/browser.js';
import { type OpenRequests, OpenWhenReady } from '../open/open-when-ready.js';
import { terminalPrompter } from '../prompts.js';
import type { UrlDecorator } from '../render/http-urls.js';
import { ndjsonRenderer } from '../render/ndjson.js';
import type { Renderer } from '../render/renderer.js';
import { tableRenderer } from '../render/table.js';
import { exitCodeFor, interruptSignal } from '../signals.js';
import { SlurmTunnels } from '../slurm/slurm-tunnels.js';
import { hangupStops, ignoreLostTerminal, reloadOnHangup } from './hangup.js';
import { type SpecContext, supervisorSpecFromPlan } from './host-specs.js';
import { LiveTunnels, type Reread } from './live-tunnels.js';
import { startMemoryReturn } from './memory-return.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';
import { websocketHop } from './websocket-hop.js';

export interface RunOptions {
  /** NDJSON even on a terminal. */
  json: boolean;
  /** Period of stats events/redraws; default 1 s on a terminal, 10 s for NDJSON. */
  statsIntervalMs?: number;
  /** Serve Prometheus metrics and /healthz here. */
  metrics?: { host: string; port: number };
  /** Where relative paths in the config (a relay's `ca`) are resolved; the config file's directory. */
  baseDir?: string;
  /** Advice shown before anything else (ports browsers refuse, ...). */
  warnings?: readonly string[];
  /** Adds the URL to open to the forwards of HTTP tunnels. */
  urls?: UrlDecorator;
  /** Set when this process is a background fwd (`fwd up -d`): NDJSON to its log, controlled by socket. */
  background?: BackgroundHooks;
  /** Open these tunnels' app URLs in a browser once up (`--open`, `open: true`); not in the background. */
  open?: OpenRequests;
  /** How to open one (default: this machine's browser); tests pass their own. */
  opener?: Opener;
  /** How to read the file again on SIGHUP or `fwd reload` (absent for one-offs: nothing to reload). */
  reread?: Reread;
}

/** How a background fwd's control side follows the run. */
export interface BackgroundHooks {
  /** Aborting stops the run like SIGTERM does (exit 0): `fwd down`. */
  readonly stop: AbortSignal;
  /** The tunnels are open (listeners bound): what they are, and how to reload, stop or start them. */
  started(live: LiveTunnels, supervisor: Supervisor): void;
  /** Every tunnel's first attempt is over: up, waiting, or failed. */
  settled(): void;
}

/** Stats period of a background fwd's log: a line a minute keeps a week's log small. */
const BACKGROUND_STATS_MS = 60_000;

/**
 * Runs a plan until Ctrl-C / SIGTERM, or until every tunnel has failed. Exit codes: 130 after
 * Ctrl-C, 0 after SIGTERM, 1 when all tunnels failed, 2 when the plan cannot even start.
 */
export async function runTunnels(plan: Plan, io: CliIO, options: RunOptions): Promise<number> {
  // Set once the tunnels run: SIGHUP then reloads the file, unless fwd's terminal went away.
  let onHangup: (() => boolean) | undefined;
  const interrupt = interruptSignal(undefined, undefined, () => onHangup?.() ?? false);
  ignoreLostTerminal([io.stdout, io.stderr]);
  // After a bulk transfer, freed buffers go back to the OS once forwarding rests (memory-return.ts).
  using _memory = startMemoryReturn(bytesPiped);
  try {
    const background = options.background;
    const onTerminal = !options.json && !background && isTTY(io.stdout);
    const stop = background ? AbortSignal.any([interrupt.signal, background.stop]) : interrupt.signal;
    const stdout = io.stdout as NodeJS.WriteStream;
    const renderer: Renderer = onTerminal
      ? tableRenderer(io.stdout, {
          color: io.env.NO_COLOR === undefined,
          columns: () => stdout.columns || 120,
        })
      : ndjsonRenderer(io.stdout);
    const prompter = terminalPrompter(io.stdin, io.stderr, {
      before: () => renderer.suspend(),
      after: () => renderer.resume(),
    });
    if (!nativeCryptoAvailable()) {
      renderer.note(
        'warn',
        // The fix depends on how fwd was installed: README "Install" explains both.
        'ssh2 native crypto binding missing: throughput will be >10× lower (reinstall with npm i -g --allow-scripts=@fwd/cli,ssh2,cpu-features,bufferutil @fwd/cli and a C compiler; in a checkout: npm ci)',
      );
    }
    for (const warning of options.warnings ?? []) renderer.note('warn', warning);
    const specContext: SpecContext = {
      prompter,
      warn: (m) => renderer.note('warn', m),
      transportFor: (hop) => websocketHop(hop, options.baseDir ?? io.cwd, (m) => renderer.note('warn', m)),
      // One Slurm side for the run: a reloaded tunnel shares the pollers of the ones kept.
      slurm: new SlurmTunnels(),
    };
    let spec: Awaited<ReturnType<typeof supervisorSpecFromPlan>>;
    try {
      spec = await supervisorSpecFromPlan(plan, specContext);
    } catch (err) {
      complain(io, err instanceof Error ? err.message : String(err));
      return EXIT.usage;
    }
    const supervisor = await openTunnels(spec, {
      signal: stop,
      statsIntervalMs:
        options.statsIntervalMs ?? (onTerminal ? 1_000 : background ? BACKGROUND_STATS_MS : 10_000),
    });
    const live = new LiveTunnels({
      supervisor,
      plan,
      decorate: options.urls ?? ((s) => s),
      specFor: (next) => supervisorSpecFromPlan(next, specContext),
      ...(options.reread ? { reread: options.reread } : {}),
      note: (level, message) => renderer.note(level, message),
    });
    const decorate = live.decorate;
    onHangup = () => !hangupStops() && reloadOnHangup(live);
    let metrics: MetricsServer | undefined;
    if (options.metrics) {
      try {
        metrics = await startMetricsServer(options.metrics, {
          tunnels: () => supervisor.snapshot(),
          hosts: () => supervisor.hosts(),
        });
      } catch (err) {
        await supervisor.close();
        throw err;
      }
      renderer.note('info', `metrics on http://${formatEndpoint(metrics.address)}/metrics and /healthz`);
    }
    // A background fwd opens nothing: `fwd up -d --open` opens from the foreground process.
    const opening =
      options.open && !background
        ? new OpenWhenReady({
            tunnels: options.open,
            opener: options.opener ?? systemOpener(io.env),
            note: (level, message) => renderer.note(level, message),
          })
        : undefined;
    supervisor.on('tunnel', (s) => {
      const shown = decorate(s);
      renderer.tunnel(shown);
      opening?.update(shown);
    });
    supervisor.on('host', (h) => renderer.host(h));
    supervisor.on('notice', (n) => renderer.notice(n));
    supervisor.on('stats', () => renderer.stats(live.statuses()));
    for (const status of supervisor.snapshot()) {
      renderer.tunnel(decorate(status));
      opening?.update(decorate(status));
    }
    if (background) {
      background.started(live, supervisor);
      void supervisor.settled().then(() => background.settled());
    }

    // Nothing left to run once every tunnel failed or ended (its job finished).
    const allOver = (all: TunnelStatus[]): boolean =>
      all.length > 0 && all.every((t) => t.state === 'failed' || t.state === 'ended');
    await new Promise<void>((resolve) => {
      if (stop.aborted || allOver(supervisor.snapshot())) return resolve();
      stop.addEventListener('abort', () => resolve(), { once: true });
      supervisor.on('tunnel', () => {
        if (allOver(supervisor.snapshot())) resolve();
      });
    });
    const final = supervisor.snapshot();
    const over = allOver(final);
    const failed = over && final.some((t) => t.state === 'failed' || t.ended?.ok === false);
    if (interrupt.received())
      renderer.note('info', `${interrupt.received()}: closing listeners and sessions`);
    else if (background?.stop.aborted) renderer.note('info', 'fwd down: closing listeners and sessions');
    opening?.close();
    await supervisor.close();
    await metrics?.close();
    renderer.finish(live.statuses());
    if (over && final.every((t) => t.state === 'failed')) complain(io, 'every tunnel failed');
    return exitCodeFor(interrupt.received(), failed);
  } catch (err) {
    if (err instanceof FwdError) {
      complain(io, `${err.message} [${err.code}]`);
      return EXIT.failure;
    }
    throw err;
  } finally {
    interrupt.dispose();
  }
}
