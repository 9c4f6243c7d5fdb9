// The extra row "websocket transport through the relay vs fwd's own TCP transport". Both sides
// are the stand-in forwarder (@fwd/core), differing only in the transport, so the ratio isolates
// the websocket + relay hop; the relay runs in its own process. n/a while packages/ws-transport/dist
// does not export websocketTransport and startRelay.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Child } from './children.js';
import { spawnChild } from './children.js';
import type { BenchConfig } from './config.js';
import {
  buildStandIn,
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
import { median } from './summary.js';

const WS_DIST = join(REPO, 'packages/ws-transport/dist/index.js');
const RELAY = join(REPO, 'bench/.build/candidates/ws-relay.js');

export interface WsPair {
  readonly tcp: number[];
  readonly ws: number[];
  /** ws MiB/s ÷ tcp MiB/s (medians). */
  readonly ratio: number | undefined;
}

export type WsResult =
  | { readonly status: 'n/a'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string; readonly correctness: boolean }
  | { readonly status: 'measured'; readonly upload: WsPair; readonly download: WsPair };

/** Why the row cannot run yet, or undefined when it can. */
async function unavailable(): Promise<string | undefined> {
  if (!existsSync(WS_DIST)) return 'ws transport not built (packages/ws-transport/dist)';
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
    const relay = spawnChild('ws-relay', process.execPath, [
      RELAY,
      ...['--listen', `127.0.0.1:${relayPort}`, '--allow', `127.0.0.1:${route.sshd.port}`, '--token', token],
    ]);
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
          const s = await measure(metric, forwarder, config, observed);
          values[metric][side].push(s.value);
          log(`ws row round ${round} ${metric} ${side}: ${s.value.toFixed(0)} MiB/s`);
        }
      }
    }
    const pair = (v: { tcp: number[]; ws: number[] }): WsPair => {
      const t = median(v.tcp);
      const w = median(v.ws);
      return { ...v, ratio: t !== undefined && w !== undefined ? orientedRatio('higher', t, w) : undefined };
    };
    return { status: 'measured', upload: pair(values.upload), download: pair(values.download) };
  } catch (err) {
    return { status: 'failed', reason: (err as Error).message, correctness: err instanceof CorrectnessError };
  } finally {
    for (const child of started.reverse()) await child.stop();
  }
}
