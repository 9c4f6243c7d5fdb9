import { execFileSync } from 'node:child_process';

/**
 * A private tmux server (its own socket, `tmux -L name`): fwd on a real terminal, for tests of
 * the live table and of prompts. Each session is named; `kill()` ends the server and all of them.
 */
export interface Tmux {
  /** Runs `command` in a new detached session of `width`×`height`, with HOME and NO_COLOR=1. */
  start(session: string, command: string, options: { home: string; width: number; height: number }): void;
  /** What the session's screen shows now. */
  screen(session: string): string;
  /** Everything the session printed, scrolled-off lines included, wrapped lines joined. */
  history(session: string): string;
  /** Types `keys` (tmux key names: 'Enter', 'C-c') into the session. */
  sendKeys(session: string, ...keys: string[]): void;
  kill(): void;
}

/** Whether tmux is installed (docker/setup.sh installs it; a bare machine may lack it). */
export const hasTmux: boolean = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

export function tmuxServer(name: string): Tmux {
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-L', name, ...args], { encoding: 'utf8' });
  return {
    start(session, command, { home, width, height }) {
      tmux(
        'new-session',
        '-d',
        '-s',
        session,
        '-x',
        String(width),
        '-y',
        String(height),
        '-e',
        `HOME=${home}`,
        '-e',
        'NO_COLOR=1',
        command,
      );
    },
    screen: (session) => tmux('capture-pane', '-p', '-t', session),
    history: (session) => tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session),
    sendKeys(session, ...keys) {
      tmux('send-keys', '-t', session, ...keys);
    },
    kill() {
      try {
        tmux('kill-server');
      } catch {}
    },
  };
}
