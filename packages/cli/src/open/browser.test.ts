import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { browserCommand, type Spawner, systemOpener } from './browser.js';

const URL = 'http://127.0.0.1:40001/lab?token=abc&x=1';

describe('browserCommand', () => {
  it('uses $BROWSER first (with its options), like Python webbrowser and git', () => {
    expect(browserCommand(URL, { BROWSER: 'firefox --new-window' }, 'linux')).toEqual({
      file: 'firefox',
      args: ['--new-window', URL],
    });
  });

  it('opens with open on macOS, start on Windows, xdg-open on a Linux desktop', () => {
    expect(browserCommand(URL, {}, 'darwin')).toEqual({ file: 'open', args: [URL] });
    expect(browserCommand(URL, {}, 'win32')).toEqual({
      file: 'cmd',
      args: ['/c', 'start', '""', 'http://127.0.0.1:40001/lab?token=abc^&x=1'],
    });
    expect(browserCommand(URL, { DISPLAY: ':0' }, 'linux')).toEqual({ file: 'xdg-open', args: [URL] });
    expect(browserCommand(URL, { WAYLAND_DISPLAY: 'wayland-0' }, 'freebsd')).toEqual({
      file: 'xdg-open',
      args: [URL],
    });
  });

  it('does not try without a display (over SSH, in a container)', () => {
    expect(browserCommand(URL, { SSH_CONNECTION: '1 2 3 4' }, 'linux')).toEqual({
      why: 'no display here (no DISPLAY or WAYLAND_DISPLAY)',
    });
  });
});

describe('systemOpener', () => {
  /** A spawner whose child reports `spawn` or an error on the next turn, like node's. */
  const fake = (outcome: 'spawn' | NodeJS.ErrnoException): Spawner & { calls: string[][] } => {
    const calls: string[][] = [];
    const spawner = (file: string, args: readonly string[]): ChildProcess => {
      calls.push([file, ...args]);
      const child = new EventEmitter() as ChildProcess;
      setImmediate(() => (outcome === 'spawn' ? child.emit('spawn') : child.emit('error', outcome)));
      return child;
    };
    return Object.assign(spawner, { calls });
  };

  it('starts the browser and does not wait for it', async () => {
    const spawner = fake('spawn');
    expect(await systemOpener({ DISPLAY: ':0' }, 'linux', spawner)(URL)).toEqual({ opened: true });
    expect(spawner.calls).toEqual([['xdg-open', URL]]);
  });

  it('says why not when the opener is missing, or there is no display', async () => {
    const missing = Object.assign(new Error('spawn xdg-open ENOENT'), { code: 'ENOENT' });
    expect(await systemOpener({ DISPLAY: ':0' }, 'linux', fake(missing))(URL)).toEqual({
      opened: false,
      why: 'xdg-open is not installed',
    });
    const spawner = fake('spawn');
    expect(await systemOpener({}, 'linux', spawner)(URL)).toEqual({
      opened: false,
      why: 'no display here (no DISPLAY or WAYLAND_DISPLAY)',
    });
    expect(spawner.calls).toEqual([]);
  });
});
