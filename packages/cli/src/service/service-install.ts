import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { launchdAgent, launchdLabel } from './launchd-agent.js';
import type { ServiceSpec } from './service-spec.js';
import { systemdUnit, systemdUnitName } from './systemd-unit.js';

const run = promisify(execFile);

/** Where and how this system runs a user's programs at login. */
export interface ServiceManager {
  readonly kind: 'systemd' | 'launchd';
  /** The file that defines the service. */
  path(name: string): string;
  /** Its text. */
  render(spec: ServiceSpec): string;
  /** The commands that load and start it (after writing), and that stop and unload it (before removing). */
  startCommands(name: string): string[][];
  stopCommands(name: string): string[][];
}

/** The service manager of this platform: systemd user units on Linux, launchd agents on macOS. */
export function serviceManager(
  platform: NodeJS.Platform,
  env: Record<string, string | undefined>,
  uid: number = process.getuid?.() ?? 0,
): ServiceManager | undefined {
  const home = env.HOME ?? homedir();
  if (platform === 'linux') {
    const xdg = env.XDG_CONFIG_HOME;
    const dir = join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'systemd', 'user');
    return {
      kind: 'systemd',
      path: (name) => join(dir, systemdUnitName(name)),
      render: (spec) => systemdUnit(spec, env.XDG_RUNTIME_DIR),
      startCommands: (name) => [
        ['systemctl', '--user', 'daemon-reload'],
        ['systemctl', '--user', 'enable', systemdUnitName(name)],
        ['systemctl', '--user', 'restart', systemdUnitName(name)],
      ],
      stopCommands: (name) => [['systemctl', '--user', 'disable', '--now', systemdUnitName(name)]],
    };
  }
  if (platform === 'darwin') {
    const dir = join(home, 'Library', 'LaunchAgents');
    const target = (name: string) => `gui/${uid}/${launchdLabel(name)}`;
    return {
      kind: 'launchd',
      path: (name) => join(dir, `${launchdLabel(name)}.plist`),
      render: (spec) => launchdAgent(spec, join(home, 'Library', 'Logs', 'fwd', `${spec.name}.log`)),
      startCommands: (name) => [
        ['launchctl', 'bootstrap', `gui/${uid}`, join(dir, `${launchdLabel(name)}.plist`)],
        ['launchctl', 'kickstart', target(name)],
      ],
      stopCommands: (name) => [['launchctl', 'bootout', target(name)]],
    };
  }
  return undefined;
}

/** Marks files fwd wrote, so that `install` replaces and `remove` deletes only those. */
export const WRITTEN_BY = 'written by fwd service install';

export type InstallOutcome = { written: string } | { foreign: string };

/**
 * Writes the service file (replacing one fwd wrote before, never another file): through a temp
 * file and rename, so the manager never reads half of it.
 */
export async function writeServiceFile(path: string, text: string, force: boolean): Promise<InstallOutcome> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(WRITTEN_BY) && !force) return { foreign: path };
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, text, { mode: 0o644 });
  await rename(temp, path);
  return { written: path };
}

/** Deletes the service file if fwd wrote it; false when there is none. */
export async function removeServiceFile(path: string): Promise<boolean | 'foreign'> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === undefined) return false;
  if (!existing.includes(WRITTEN_BY)) return 'foreign';
  await unlink(path);
  return true;
}

/** Runs the manager's commands in order; the first failure is returned as its command and output. */
export async function runAll(commands: string[][]): Promise<string | undefined> {
  for (const [program, ...args] of commands) {
    try {
      await run(program as string, args, { timeout: 60_000 });
    } catch (err) {
      const { stderr, message } = err as { stderr?: string; message: string };
      return `${[program, ...args].join(' ')}: ${(stderr || message).trim()}`;
    }
  }
  return undefined;
}
