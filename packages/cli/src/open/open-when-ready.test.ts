import type { TunnelStatus } from '@fwd/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tunnelStatus } from '../../../../test/support/tunnel-status.js';
import type { Opener } from './browser.js';
import { OpenWhenReady } from './open-when-ready.js';

const PLAIN = 'http://127.0.0.1:40001/';
const TOKEN = 'http://127.0.0.1:40001/lab?token=abc123';

const at = (state: TunnelStatus['state'], url?: string, name = 'notebook'): TunnelStatus =>
  tunnelStatus({
    name,
    state,
    forwards: [
      {
        kind: 'local',
        listen: '127.0.0.1:40001',
        target: 'x',
        ...(url ? { url } : {}),
      } as TunnelStatus['forwards'][number],
    ],
  });

function setup(tunnels: [string, { awaitToken: boolean }][], tokenWaitMs?: number) {
  const opened: string[] = [];
  const notes: string[] = [];
  const opener: Opener = async (url) => {
    opened.push(url);
    return { opened: true };
  };
  const watch = new OpenWhenReady({
    tunnels: new Map(tunnels),
    opener,
    note: (level, message) => notes.push(`${level}: ${message}`),
    ...(tokenWaitMs !== undefined ? { tokenWaitMs } : {}),
  });
  return { watch, opened, notes };
}

describe('OpenWhenReady', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens the tokenised URL once the tunnel is up, once, and says so without the token', async () => {
    const { watch, opened, notes } = setup([['notebook', { awaitToken: true }]]);
    watch.update(at('waiting'));
    watch.update(at('up', PLAIN));
    expect(opened).toEqual([]);
    watch.update(at('up', TOKEN));
    watch.update(at('up', TOKEN));
    await watch.done;
    expect(opened).toEqual([TOKEN]);
    expect(notes).toEqual([
      'info: notebook: opened http://127.0.0.1:40001/lab (with its token) in the browser',
    ]);
  });

  it('opens the plain URL at once when no token is expected, and after a while when it never comes', async () => {
    const plain = setup([['tb', { awaitToken: false }]]);
    plain.watch.update(at('up', PLAIN, 'tb'));
    await plain.watch.done;
    expect(plain.opened).toEqual([PLAIN]);

    const late = setup([['notebook', { awaitToken: true }]], 20_000);
    late.watch.update(at('up', PLAIN));
    await vi.advanceTimersByTimeAsync(19_999);
    expect(late.opened).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await late.watch.done;
    expect(late.opened).toEqual([PLAIN]);
  });

  it('gives up on a tunnel that fails or ends first, and ignores tunnels not asked for', async () => {
    const { watch, opened } = setup([['notebook', { awaitToken: false }]]);
    watch.update(at('up', PLAIN, 'other'));
    watch.update(at('failed'));
    watch.update(at('up', PLAIN));
    await watch.done;
    expect(opened).toEqual([]);
  });

  it('says when there is nothing to open or no browser, and where the URL is', async () => {
    const { watch, notes } = setup([['socks', { awaitToken: false }]]);
    watch.update(at('up', undefined, 'socks'));
    await watch.done;
    expect(notes).toEqual(['warn: socks: not opened in a browser: it has no web address (no HTTP forward)']);

    const headless = new OpenWhenReady({
      tunnels: new Map([['notebook', { awaitToken: false }]]),
      opener: async () => ({ opened: false, why: 'no display here (no DISPLAY or WAYLAND_DISPLAY)' }),
      note: (level, message) => notes.push(`${level}: ${message}`),
    });
    headless.update(at('up', TOKEN));
    await headless.done;
    expect(notes.at(-1)).toBe(
      'info: notebook: not opened in a browser (no display here (no DISPLAY or WAYLAND_DISPLAY)); its URL is shown with the tunnel',
    );
  });
});

describe('openRequests', () => {
  it('opens web apps with --open, open: true tunnels always; waits for a token when read from output', async () => {
    const { parseForward } = await import('../config/index.js');
    const { openRequests } = await import('./open-when-ready.js');
    const forward = (flag: 'local' | 'dynamic', spec: string) => {
      const parsed = parseForward(flag, spec);
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.value;
    };
    const plan = {
      hosts: [],
      tunnels: [
        {
          name: 'nb',
          host: 'c',
          forwards: [forward('local', '0:/home/{user}/nb.sock')],
          slurm: { mode: 'job' as const, job: '1', urlFromOutput: true },
        },
        { name: 'tb', host: 'c', forwards: [forward('local', '0:localhost:6006')] },
        { name: 'socks', host: 'c', forwards: [forward('dynamic', '1080')] },
        { name: 'db', host: 'c', forwards: [forward('local', '5432:localhost:5432')], open: true },
      ],
    };
    expect([...openRequests(plan, true)]).toEqual([
      ['nb', { awaitToken: true }],
      ['tb', { awaitToken: false }],
      ['db', { awaitToken: false }],
    ]);
    expect([...openRequests(plan, false)]).toEqual([['db', { awaitToken: false }]]);
  });
});
