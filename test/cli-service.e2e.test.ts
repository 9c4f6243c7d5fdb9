import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFwd, watchFwd } from './support/fwd-cli.js';

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** ExecStart= split back into words as systemd does (double quotes, \" \\, %% and $$). */
function execStartWords(unit: string): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  const words: string[] = [];
  for (const match of line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const raw = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] as string);
    words.push(raw.replaceAll('%%', '%').replaceAll('$$', '$'));
  }
  return words;
}

/**
 * `fwd service` on Linux with the real binary: the unit it writes passes `systemd-analyze --user
 * verify` (systemd's own parser; skipped where systemd is not installed), its ExecStart runs fwd
 * up on the file, and install/remove touch only the unit they wrote (--no-start: this test machine
 * has no user systemd manager running).
 */
describe.skipIf(process.platform !== 'linux')('fwd service (systemd user unit)', () => {
  let root: string;
  let home: string;
  let env: Record<string, string>;
  let file: string;
  const unitDir = () => join(home, '.config/systemd/user');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fwd-service-'));
    // A space in the path: ExecStart must quote it.
    home = join(root, 'home dir');
    await mkdir(join(home, '.ssh'), { recursive: true });
    await writeFile(
      join(home, '.ssh/config'),
      'Host cluster\n  HostName 127.0.0.1\n  Port 1\n  User alice\n',
    );
    file = join(home, 'tunnels.yaml');
    await writeFile(file, 'version: 1\ntunnels:\n  notebook: { host: cluster, local: "0:localhost:8888" }\n');
    const runtime = join(root, 'runtime');
    await mkdir(runtime, { mode: 0o700 });
    await chmod(runtime, 0o700);
    env = { XDG_RUNTIME_DIR: runtime, SSH_AUTH_SOCK: join(runtime, 'ssh-agent.socket') };
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.skipIf(!hasSystemdAnalyze)(
    'writes a unit that systemd-analyze verify accepts without a warning',
    async () => {
      const printed = await runFwd(['service', 'install', 'tunnels.yaml', '--print'], { home, env });
      expect(printed).toMatchObject({ code: 0, stderr: '' });
      const unit = join(root, 'fwd-tunnels.service');
      await writeFile(unit, printed.stdout);
      const verify = spawnSync('systemd-analyze', ['--user', 'verify', unit], {
        env: { ...process.env, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR },
        encoding: 'utf8',
      });
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
      expect(printed.stdout).toMatch(/^Environment=SSH_AUTH_SOCK=%t\/ssh-agent\.socket$/m);
    },
  );

  it('its ExecStart runs fwd up on the file (NDJSON, clean stop on SIGTERM)', async () => {
    const printed = await runFwd(['service', 'install', 'tunnels.yaml', '--print'], { home, env });
    const [program, ...args] = execStartWords(printed.stdout);
    expect(args.slice(-4)).toEqual(['up', file, '--stats-interval', '60s']);
    const child = spawn(program as string, args, {
      env: { PATH: process.env.PATH ?? '', HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await using fwd = watchFwd(child);
    await fwd.waitForEvent((e) => e.event === 'tunnel' && e.tunnel === 'notebook');
    child.kill('SIGTERM');
    expect(await fwd.exited).toBe(0);
  });

  it('installs into ~/.config/systemd/user, replaces its own unit, removes only it', async () => {
    const first = await runFwd(['service', 'install', 'tunnels.yaml', '--no-start'], { home, env });
    expect(first.code).toBe(0);
    const path = /^wrote (.*)$/m.exec(first.stdout)?.[1] as string;
    expect(path.startsWith(join(unitDir(), 'fwd-tunnels-'))).toBe(true);
    expect(path.endsWith('.service')).toBe(true);
    expect(first.stdout).toContain('systemctl --user enable fwd-tunnels-');
    expect((await runFwd(['service', 'install', 'tunnels.yaml', '--no-start'], { home, env })).code).toBe(0);
    const removed = await runFwd(['service', 'remove', 'tunnels.yaml', '--no-start'], { home, env });
    expect(removed).toMatchObject({ code: 0, stdout: `removed ${path}\n` });
    expect(existsSync(path)).toBe(false);
    const again = await runFwd(['service', 'remove', 'tunnels.yaml', '--no-start'], { home, env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no fwd service for');
    // A unit of that name that fwd did not write is left alone.
    await writeFile(path, '[Service]\nExecStart=/bin/true\n');
    const foreign = await runFwd(['service', 'install', 'tunnels.yaml', '--no-start'], { home, env });
    expect(foreign.code).toBe(1);
    expect(await readFile(path, 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
  });

  it('installs nothing for a file fwd check refuses (exit 2)', async () => {
    await writeFile(join(home, 'bad.yaml'), 'version: 1\ntunnels:\n  x: { host: nowhere, local: 8888 }\n');
    const bad = await runFwd(['service', 'install', 'bad.yaml', '--no-start'], { home, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not installed: fix bad.yaml first');
  });
});
