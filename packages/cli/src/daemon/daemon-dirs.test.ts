import { chmod, mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensurePrivateDir,
  fwdDirs,
  privateDirProblem,
  runDirFor,
  socketsFit,
  stateDirFor,
} from './daemon-dirs.js';

const uid = process.getuid?.() ?? 0;

describe('where background fwds live', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-dirs-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps logs in $XDG_STATE_HOME/fwd, else ~/.local/state/fwd (a relative XDG value is ignored)', () => {
    expect(stateDirFor({ env: { HOME: '/home/a', XDG_STATE_HOME: '/st' }, uid })).toBe('/st/fwd');
    expect(stateDirFor({ env: { HOME: '/home/a' }, uid })).toBe('/home/a/.local/state/fwd');
    expect(stateDirFor({ env: { HOME: '/home/a', XDG_STATE_HOME: 'rel' }, uid })).toBe(
      '/home/a/.local/state/fwd',
    );
  });

  it('puts sockets in $XDG_RUNTIME_DIR/fwd, else a per-host dir in the state dir, else /tmp/fwd-UID', () => {
    const env = { HOME: '/home/a', XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(runDirFor({ env, uid: 1000, host: 'laptop.lan' }, true)).toBe('/run/user/1000/fwd');
    expect(runDirFor({ env, uid: 1000, host: 'laptop.lan' }, false)).toBe(
      '/home/a/.local/state/fwd/run-laptop',
    );
    const deep = { HOME: `/home/${'d'.repeat(60)}` };
    expect(runDirFor({ env: deep, uid: 1000, host: 'x', tmp: '/tmp' }, false)).toBe('/tmp/fwd-1000');
    expect(socketsFit('/run/user/1000/fwd')).toBe(true);
    expect(socketsFit(`/${'x'.repeat(80)}`)).toBe(false);
  });

  it('accepts only a real directory of ours that others cannot enter', async () => {
    const good = join(dir, 'good');
    await ensurePrivateDir(good, uid);
    expect(((await stat(good)).mode & 0o777).toString(8)).toBe('700');
    expect(await privateDirProblem(good, uid)).toBeUndefined();
    expect(await privateDirProblem(good, uid + 1)).toMatch(/belongs to uid/);

    const loose = join(dir, 'loose');
    await mkdir(loose, { mode: 0o755 });
    await chmod(loose, 0o755);
    expect(await privateDirProblem(loose, uid)).toMatch(/open to other users \(mode 755\)/);
    await ensurePrivateDir(loose, uid); // ours: tightened
    expect(((await stat(loose)).mode & 0o777).toString(8)).toBe('700');

    const link = join(dir, 'link');
    await symlink(good, link);
    await expect(ensurePrivateDir(link, uid)).rejects.toThrow(/refusing to use .*link.*symbolic link/);
  });

  it('ignores an $XDG_RUNTIME_DIR that is not private, and creates both dirs 0700', async () => {
    const runtime = join(dir, 'runtime');
    await mkdir(runtime, { mode: 0o755 });
    await chmod(runtime, 0o755);
    const env = { HOME: join(dir, 'home'), XDG_RUNTIME_DIR: runtime };
    const dirs = await fwdDirs(env);
    expect(dirs.state).toBe(join(dir, 'home', '.local', 'state', 'fwd'));
    expect(dirs.run.startsWith(join(dirs.state, 'run-'))).toBe(true);
    await chmod(runtime, 0o700);
    expect((await fwdDirs(env)).run).toBe(join(runtime, 'fwd'));
    expect(((await stat(join(runtime, 'fwd'))).mode & 0o777).toString(8)).toBe('700');
  });
});
