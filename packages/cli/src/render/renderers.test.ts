import type { TunnelStatus } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { capture } from '../../../../test/support/capture.js';
import { tunnelStatus } from '../../../../test/support/tunnel-status.js';
import { ndjsonRenderer } from './ndjson.js';
import { tableRenderer } from './table.js';

const status = (over: Partial<TunnelStatus> = {}): TunnelStatus =>
  tunnelStatus({
    connectionsOpen: 2,
    connectionsTotal: 5,
    bytesToRemote: 2048,
    bytesFromRemote: 1_048_576,
    ...over,
  });

const stripAnsi = (text: string): string =>
  text.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]|\\r`, 'g'), '');

describe('ndjson renderer', () => {
  it('writes one parseable object per line with ts and event', () => {
    const { stream: out, text } = capture();
    const r = ndjsonRenderer(out, () => new Date('2026-11-23T12:00:00Z'));
    r.tunnel(status({ state: 'reconnecting', lastError: { code: 'KEEPALIVE_TIMEOUT', message: 'gone' } }));
    r.stats([status()]);
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      ts: '2026-11-23T12:00:00.000Z',
      event: 'tunnel',
      tunnel: 'notebook',
      host: 'cluster',
      state: 'reconnecting',
      forwards: [{ kind: 'local', listen: '127.0.0.1:8888', target: 'localhost:8888' }],
      error: { code: 'KEEPALIVE_TIMEOUT', message: 'gone' },
    });
    expect(lines[1]).toMatchObject({
      event: 'stats',
      tunnels: [{ tunnel: 'notebook', bytesToRemote: 2048 }],
    });
  });

  it("puts a Slurm tunnel's facts (job, node, endsAt, timeLeft) on its events, time left on stats", () => {
    const { stream: out, text } = capture();
    const r = ndjsonRenderer(out, () => new Date('2026-11-23T12:00:00Z'));
    const facts = { job: '4242', node: 'node1', endsAt: '2026-11-23T16:00:00.000Z', timeLeft: 14_400 };
    r.tunnel(status({ detail: 'job 4242 on node1', facts }));
    r.stats([status({ facts })]);
    const [tunnel, stats] = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(tunnel).toMatchObject({ event: 'tunnel', tunnel: 'notebook', state: 'up', ...facts });
    expect(stats.tunnels[0]).toMatchObject({ tunnel: 'notebook', timeLeft: 14_400 });
  });
});

describe('table renderer', () => {
  it('draws aligned columns and redraws over the previous frame', async () => {
    const { stream: out, text } = capture();
    const r = tableRenderer(out, { color: false, columns: () => 120, now: () => 0 });
    r.tunnel(status());
    await new Promise((resolve) => setImmediate(resolve));
    const first = text();
    expect(first).toContain(
      'TUNNEL    STATE  LISTEN             TARGET          CONN  ↑ SENT   ↓ RECV   DETAIL / LAST ERROR',
    );
    expect(first).toContain('notebook  up     127.0.0.1:8888  →  localhost:8888  2     2.0 KiB  1.0 MiB');
    r.stats([status({ bytesToRemote: 4096 })]);
    await new Promise((resolve) => setImmediate(resolve));
    // Cursor up over the 2 drawn lines, clear to end of screen, draw again.
    expect(text().slice(first.length).startsWith('\x1b[2A\r\x1b[J')).toBe(true);
  });

  it('takes the stats as the whole set: a tunnel a reload removed leaves the table', async () => {
    const { stream: out, text } = capture();
    const r = tableRenderer(out, { color: false, columns: () => 120, now: () => 0 });
    r.tunnel(status());
    r.tunnel(status({ name: 'gone' }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(text()).toMatch(/^gone +up /m);
    const before = text().length;
    r.stats([status()]);
    await new Promise((resolve) => setImmediate(resolve));
    const frame = stripAnsi(text().slice(before));
    expect(frame).toMatch(/^notebook +up /m);
    expect(frame).not.toMatch(/^gone /m);
  });

  it('prints a new error once, in full, above the table', async () => {
    const { stream: out, text } = capture();
    const r = tableRenderer(out, { color: false, columns: () => 60 });
    const failing = status({
      state: 'failed',
      lastError: { code: 'HOST_KEY_CHANGED', message: 'host key for login changed — possible attack' },
    });
    r.tunnel(failing);
    r.tunnel(failing);
    await new Promise((resolve) => setImmediate(resolve));
    expect(
      text().match(/✗ notebook: host key for login changed — possible attack \[HOST_KEY_CHANGED\]/g),
    ).toHaveLength(1);
    // Table lines are cut to the terminal width so that redraw line counts stay right.
    const table = text()
      .split('\n')
      .filter((l) => l.includes('TUNNEL') || l.includes('notebook  failed'));
    expect(table).toHaveLength(2);
    for (const line of table) expect(stripAnsi(line).length).toBeLessThanOrEqual(59);
  });

  it('shows the URL to open on a web forward once it is up', async () => {
    const { stream: out, text } = capture();
    const r = tableRenderer(out, { color: false, columns: () => 160, now: () => 0 });
    const forwards = [
      {
        kind: 'local' as const,
        listen: '127.0.0.1:8888',
        target: 'localhost:8888',
        url: 'http://127.0.0.1:8888/',
      },
      {
        kind: 'local' as const,
        listen: '127.0.0.1:6006',
        target: 'localhost:6006',
        url: 'http://127.0.0.1:6006/',
      },
    ];
    r.tunnel(status({ state: 'connecting', forwards }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(text()).not.toContain('http://');
    r.finish([status({ forwards, detail: 'job 4242 on node1' })]);
    const lines = text().split('\n');
    expect(
      lines.some((l) => /→ +localhost:8888 .* job 4242 on node1 {2}http:\/\/127\.0\.0\.1:8888\/$/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => /→ +localhost:6006 +http:\/\/127\.0\.0\.1:6006\/$/.test(l))).toBe(true);
  });

  it("counts a job's time left down on every redraw, and rings the bell for a time-limit warning", async () => {
    const { stream: out, text } = capture();
    let now = Date.parse('2026-11-23T12:00:00Z');
    const r = tableRenderer(out, { color: false, columns: () => 160, now: () => now });
    const facts = { job: '4242', node: 'node1', endsAt: '2026-11-23T16:00:00.000Z', timeLeft: 14_400 };
    r.tunnel(status({ detail: 'job 4242 on node1', facts }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stripAnsi(text())).toContain('job 4242 on node1 · 4:00:00 left');
    now += 61_000;
    r.stats([status({ detail: 'job 4242 on node1', facts })]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stripAnsi(text())).toContain('job 4242 on node1 · 3:58:59 left');
    r.notice({
      tunnel: 'notebook',
      level: 'warn',
      message: 'job 4242 reaches its time limit in 10:00',
      facts,
    });
    expect(text()).toContain('\x07');
    expect(stripAnsi(text())).toContain('! notebook: job 4242 reaches its time limit in 10:00');
    // Other warnings do not ring.
    const quiet = capture();
    tableRenderer(quiet.stream, { color: false, columns: () => 160 }).notice({
      tunnel: 'notebook',
      level: 'warn',
      message: '3 connections closed',
    });
    expect(quiet.text()).not.toContain('\x07');
  });
});
