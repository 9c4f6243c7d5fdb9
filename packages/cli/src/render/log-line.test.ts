import { describe, expect, it } from 'vitest';
import { formatLogLine } from './log-line.js';

const ts = '2026-11-23T12:00:01.000Z';
const local = (() => {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
})();
const plain = { color: false };

describe('formatLogLine', () => {
  it('shows a tunnel event with its forwards, and the URL once up', () => {
    const line = JSON.stringify({
      ts,
      event: 'tunnel',
      tunnel: 'nb',
      state: 'up',
      forwards: [
        { kind: 'local', listen: '127.0.0.1:8888', target: 'localhost:8888', url: 'http://127.0.0.1:8888/' },
      ],
    });
    expect(formatLogLine(line, plain)).toBe(
      `${local}  nb up  127.0.0.1:8888 → localhost:8888  open http://127.0.0.1:8888/`,
    );
  });

  it('shows errors, host changes and notes', () => {
    const failed = JSON.stringify({
      ts,
      event: 'tunnel',
      tunnel: 'nb',
      state: 'reconnecting',
      forwards: [],
      error: { code: 'KEEPALIVE_TIMEOUT', message: 'no answer' },
    });
    expect(formatLogLine(failed, plain)).toBe(`${local}  nb reconnecting    no answer [KEEPALIVE_TIMEOUT]`);
    expect(formatLogLine(JSON.stringify({ ts, event: 'host', host: 'cluster', state: 'up' }), plain)).toBe(
      `${local}  host cluster up`,
    );
    expect(
      formatLogLine(JSON.stringify({ ts, event: 'log', level: 'warn', message: 'careful' }), plain),
    ).toBe(`${local}  ! careful`);
  });

  it('hides stats unless asked, and keeps what is not JSON as it is', () => {
    const stats = JSON.stringify({
      ts,
      event: 'stats',
      tunnels: [{ tunnel: 'nb', connectionsOpen: 2, bytesToRemote: 2048, bytesFromRemote: 0 }],
    });
    expect(formatLogLine(stats, plain)).toBeUndefined();
    expect(formatLogLine(stats, { color: false, stats: true })).toBe(
      `${local}  stats  nb 2 open ↑2.0 KiB ↓0 B`,
    );
    expect(formatLogLine('TypeError: boom', plain)).toBe('TypeError: boom');
  });
});
