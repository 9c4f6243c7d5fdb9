import type { TunnelStatus } from '@fwd/core';
import type { ForwardView, UrlDecorator } from './http-urls.js';

/**
 * Seconds until `facts.endsAt` (a Slurm job's time limit), as of `now`; undefined when the tunnel
 * has no such fact.
 */
export function timeLeftOf(status: TunnelStatus, now: number): number | undefined {
  const endsAt = status.facts?.endsAt;
  if (typeof endsAt !== 'string') return undefined;
  const end = Date.parse(endsAt);
  return Number.isNaN(end) ? undefined : Math.max(0, Math.round((end - now) / 1000));
}

/**
 * Adds to `decorate` what a gate's facts say, for every output (table, NDJSON, `fwd ps --json`):
 * `timeLeft` counted down to now from `endsAt` (the gate reports it only when the end moves), and
 * the app's tokenised `url` on the forward that serves it (the one listening on its port).
 */
export function withJobFacts(decorate: UrlDecorator, now: () => number = Date.now): UrlDecorator {
  return (raw) => {
    const status = decorate(raw);
    const facts = status.facts;
    if (!facts) return status;
    const timeLeft = timeLeftOf(status, now());
    const url = typeof facts.url === 'string' ? facts.url : undefined;
    const port = url ? portOf(url) : undefined;
    const forwards =
      port === undefined
        ? status.forwards
        : status.forwards.map(
            (f): ForwardView =>
              f.kind !== 'remote' && f.listen.endsWith(`:${port}`) ? { ...f, url: url as string } : f,
          );
    return {
      ...status,
      forwards,
      ...(timeLeft === undefined ? {} : { facts: { ...facts, timeLeft } }),
    };
  };
}

function portOf(url: string): string | undefined {
  try {
    return new URL(url).port || undefined;
  } catch {
    return undefined;
  }
}
