import { type ChildProcess, spawn } from 'node:child_process';

/** What became of a request to open a URL: opened (a browser was started), or why not. */
export type OpenOutcome = { readonly opened: true } | { readonly opened: false; readonly why: string };

/** Opens `url` in a browser; resolves once it is started (never waits for the browser). */
export type Opener = (url: string) => Promise<OpenOutcome>;

/** Starts a program; `node:child_process` spawn by default (tests pass their own). */
export type Spawner = (command: string, args: readonly string[]) => ChildProcess;

/**
 * How this machine opens a URL in the default browser: `$BROWSER` when set (as Python's
 * webbrowser and git do), else `open` (macOS), `cmd /c start` (Windows) or `xdg-open`. With no
 * display to show a window on (Linux/BSD without DISPLAY or WAYLAND_DISPLAY, e.g. over SSH), it
 * does not try, and says so.
 */
export function systemOpener(
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform = process.platform,
  run: Spawner = detached,
): Opener {
  return async (url) => {
    const command = browserCommand(url, env, platform);
    if ('why' in command) return { opened: false, why: command.why };
    return started(run(command.file, command.args), command.file);
  };
}

/** The program and arguments that open `url` here, or why there is none. */
export function browserCommand(
  url: string,
  env: Record<string, string | undefined>,
  platform: NodeJS.Platform,
): { file: string; args: string[] } | { why: string } {
  const browser = env.BROWSER?.trim();
  if (browser) {
    // BROWSER may carry options ("firefox --new-window"); the URL is the last argument.
    const [file = '', ...args] = browser.split(/\s+/);
    return { file, args: [...args, url] };
  }
  if (platform === 'darwin') return { file: 'open', args: [url] };
  // start's first quoted argument is a window title; the URL must not be taken for one.
  if (platform === 'win32') return { file: 'cmd', args: ['/c', 'start', '""', url.replace(/&/g, '^&')] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return { why: 'no display here (no DISPLAY or WAYLAND_DISPLAY)' };
  return { file: 'xdg-open', args: [url] };
}

/** A program started on its own: no terminal, no waiting for it, no output in ours. */
function detached(command: string, args: readonly string[]): ChildProcess {
  const child = spawn(command, args, { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** Opened once the program started; not opened when it could not be run (not installed). */
function started(child: ChildProcess, file: string): Promise<OpenOutcome> {
  return new Promise((resolve) => {
    child.once('spawn', () => resolve({ opened: true }));
    child.once('error', (err: NodeJS.ErrnoException) =>
      resolve({
        opened: false,
        why: err.code === 'ENOENT' ? `${file} is not installed` : `${file}: ${err.message}`,
      }),
    );
  });
}
