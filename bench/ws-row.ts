// The extra row "websocket transport through the relay vs fwd's own TCP transport". Both sides
// are the stand-in forwarder (@fwd/core), differing only in the transport, so the ratio isolates
// the websocket + relay hop; the relay is `fwd relay` as users run it (the bin, with its node
// flags), in its own process, and its CPU per GiB is reported. n/a while it is not built.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Child } from './children.js';
import { spawnChild } from './children.js';
import type { BenchConfig } from './config.js';
import {
  buildStandIn,
  CLI_MAIN,
  type Forwarder,
  REPO,
  type Route,
  standInTemplate,
  startCandidate,
} from './forwarders.js';
import { CorrectnessError } from './load.js';
import { measure, type Observed } from './measure.js';
import { orientedRatio } from './metrics.js';
import { freePort, waitListening } from './ports.js';
import { treeCpuMs } from './proc.js';
import { median } from './summary.js';

const WS_DIST = join(REPO, 'packages/ws-transport/dist/index.js');
const GiB = 1024 ** 3;

export interface WsPair {
  readonly tcp: number[];
  readonly ws: number[];
  /** ws MiB/s ÷ tcp MiB/s (medians). */
  readonly ratio: number | undefined;
  /** CPU ms per GiB carried, per round: each forwarder (client side) and the relay process. */
  readonly cpuMsPerGiB: { readonly tcp: number[]; readonly ws: number[]; readonly relay: number[] };
}

export type WsResult =
  | { readonly status: 'n/a'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string; readonly correctness: boolean }
  | { readonly status: 'measured'; readonly upload: WsPair; readonly download: WsPair };

/** Why the row cannot run yet, or undefined when it can. */
async function unavailable(): Promise<string | undefined> {
  if (!existsSync(WS_DIST)) return 'ws transport not built (packages/ws-transport/dist)';
  if (!existsSync(CLI_MAIN)) return 'fwd relay not built (packages/cli/dist)';
  const mod = (await import(pathToFileURL(WS_DIST).href)) as Record<string, unknown>;
  const missing = ['websocketTransport', 'startRelay'].filter((name) => typeof mod[name] !== 'function');
  return missing.length > 0 ? `@fwd/ws-transport does not export ${missing.join(', ')} yet` : undefined;
}

export async function runWsRow(
  config: BenchConfig,
  route: Route,
  observed: Observed,
  log: (msg: string) => void,
): Promise<WsResult> {
  const reason = config.websocket ? await unavailable() : 'skipped (BENCH_WS=0)';
  if (reason !== undefined) return { status: 'n/a', reason };
  buildStandIn();
  const started: Child[] = [];
  try {
    const relayPort = await freePort();
    const token = randomBytes(16).toString('hex');
    const relay = spawnChild(
      'ws-relay',
      CLI_MAIN,
      ['relay', '--listen', `127.0.0.1:${relayPort}`, '--allow', `127.0.0.1:${route.sshd.port}`],
      { env: { ...process.env, FWD_RELAY_TOKENS: token } },
    );
    started.push(relay);
    await waitListening(relayPort, relay, 20_000);
    const start = async (name: string, extra: string): Promise<Forwarder> => {
      const f = await startCandidate(
        { kind: 'stand-in', label: name, template: standInTemplate(extra) },
        route,
        name,
      );
      started.push(f.child);
      return f;
    };
    const tcp = await start('ws-row-tcp', '');
    const ws = await start('ws-row-ws', `--ws ws://127.0.0.1:${relayPort}/ --token ${token}`);
    const values = {
      upload: { tcp: [] as number[], ws: [] as number[] },
      download: { tcp: [] as number[], ws: [] as number[] },
    };
    const cpu = {
      upload: { tcp: [] as number[], ws: [] as number[], relay: [] as number[] },
      download: { tcp: [] as number[], ws: [] as number[], relay: [] as number[] },
    };
    for (let round = 1; round <= config.rounds; round++) {
      for (const metric of ['upload', 'download'] as const) {
        const order =
          round % 2 === 1
            ? ([
                ['tcp', tcp],
                ['ws', ws],
              ] as const)
            : ([
                ['ws', ws],
                ['tcp', tcp],
              ] as const);
        for (const [side, forwarder] of order) {
          const relayBefore = treeCpuMs(relay.pid);
          const s = await measure(metric, forwarder, config, observed);
          const gib = s.bytes / GiB;
          values[metric][side].push(s.value);
          cpu[metric][side].push(s.cpu.forwarder / gib);
          if (side === 'ws') cpu[metric].relay.push((treeCpuMs(relay.pid) - relayBefore) / gib);
          const relayNote = side === 'ws' ? `, relay ${(cpu[metric].relay.at(-1) ?? 0).toFixed(0)}` : '';
          log(
            `ws row round ${round} ${metric} ${side}: ${s.value.toFixed(0)} MiB/s, CPU ms/GiB: forwarder ${(s.cpu.forwarder / gib).toFixed(0)}${relayNote}`,
          );
        }
      }
    }
    const pair = (metric: 'upload' | 'download'): WsPair => {
      const v = values[metric];
      const t = median(v.tcp);
      const w = median(v.ws);
      const ratio = t !== undefined && w !== undefined ? orientedRatio('higher', t, w) : undefined;
      const c = cpu[metric];
      log(
        `ws row ${metric}: ratio ${ratio?.toFixed(2)}; median CPU ms/GiB: tcp forwarder ${median(c.tcp)?.toFixed(0)}, ws forwarder ${median(c.ws)?.toFixed(0)}, relay ${median(c.relay)?.toFixed(0)}`,
      );
      return { ...v, ratio, cpuMsPerGiB: c };
    };
    return { status: 'measured', upload: pair('upload'), download: pair('download') };
  } catch (err) {
    return { status: 'failed', reason: (err as Error).message, correctness: err instanceof CorrectnessError };
  } finally {
    for (const child of started.reverse()) await child.stop();
  }
}
