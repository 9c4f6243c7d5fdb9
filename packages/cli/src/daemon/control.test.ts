import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReloadRefused } from '../runtime/live-tunnels.js';
import { probeSocket, processGone, request, requestStatus } from './control-client.js';
import type { DaemonStatus } from './control-protocol.js';
import { type ControlServer, listenControl } from './control-server.js';
import { ensurePrivateDir, type FwdDirs } from './daemon-dirs.js';
import { cleanStale, listDaemons } from './daemon-registry.js';
import { parseReadyMessage } from './readiness.js';

const status = (name: string): DaemonStatus => ({
  name,
  source: `/home/a/${name}.yaml`,
  pid: process.pid,
  startedAt: 0,
  version: '0.0.0',
  log: `/logs/${name}.log`,
  phase: 'running',
  tunnels: [],
  hosts: [],
});

/** A control socket left behind by a process that was SIGKILLed while listening. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ],
    { stdio: 'ignore' },
  );
  await once(child, 'exit');
}

describe('control sockets', () => {
  let dir: string;
  let dirs: FwdDirs;
  const servers: ControlServer[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fwd-ctl-'));
    dirs = { state: join(dir, 'state'), run: join(dir, 'run') };
    await ensurePrivateDir(dirs.run, process.getuid?.() ?? 0);
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** What a daemon does on reload and stop/start: here, a fake that refuses "bad" names and files. */
  const changes = {
    reload: async () => {
      if (name === 'broken')
        throw new ReloadRefused('the file has problems', ['t.yaml:3:9  tunnels.web.local: bad']);
      return { started: ['api'], stopped: [], restarted: [], unchanged: 1 };
    },
    stopTunnel: async (tunnel: string) => {
      if (tunnel === 'nope') throw new ReloadRefused('no tunnel named "nope"');
    },
    startTunnel: async () => undefined,
  };
  let name = '';

  async function serve(named: string, onStop: () => void = () => undefined): Promise<ControlServer> {
    name = named;
    const server = await listenControl(join(dirs.run, `${named}.sock`), {
      status: () => status(named),
      stop: onStop,
      ...changes,
    });
    if ('running' in server) throw new Error('already running');
    servers.push(server);
    return server;
  }

  it('answers status and stop, one JSON line each, on a 0600 socket', async () => {
    let stops = 0;
    const server = await serve('alpha', () => stops++);
    expect(((await stat(server.path)).mode & 0o777).toString(8)).toBe('600');
    const probe = await probeSocket(server.path);
    if (probe.kind !== 'alive') throw new Error(probe.kind);
    try {
      expect(await requestStatus(probe.socket)).toEqual(status('alpha'));
      expect(await request(probe.socket, { cmd: 'stop' })).toEqual({
        ok: true,
        stopping: true,
        pid: process.pid,
      });
      expect(stops).toBe(1);
    } finally {
      probe.socket.destroy();
    }
  });

  it('refuses what is not a request', async () => {
    const server = await serve('beta');
    const socket = connect(server.path);
    await once(socket, 'connect');
    socket.write('{"cmd":"rm -rf"}\n');
    const [line] = (await once(socket, 'data')) as [Buffer];
    expect(JSON.parse(line.toString())).toEqual({
      ok: false,
      error:
        'unknown request; expected {"cmd":"status|stop|reload"} or {"cmd":"stop-tunnel|start-tunnel","tunnel":NAME}',
    });
    socket.destroy();
  });

  it('answers reload and stop/start of a tunnel with what was done, or why not and the problems', async () => {
    const ask = async (daemon: string, req: Parameters<typeof request>[1]) => {
      const server = await serve(daemon);
      const probe = await probeSocket(server.path);
      if (probe.kind !== 'alive') throw new Error(probe.kind);
      try {
        return await request(probe.socket, req);
      } finally {
        probe.socket.destroy();
        // Gone again: the listing tests below count the daemons.
        server.close();
        servers.splice(servers.indexOf(server), 1);
      }
    };
    expect(await ask('r1', { cmd: 'reload' })).toEqual({
      ok: true,
      reloaded: { started: ['api'], stopped: [], restarted: [], unchanged: 1 },
    });
    expect(await ask('broken', { cmd: 'reload' })).toEqual({
      ok: false,
      error: 'the file has problems',
      problems: ['t.yaml:3:9  tunnels.web.local: bad'],
    });
    expect(await ask('r2', { cmd: 'stop-tunnel', tunnel: 'web' })).toEqual({
      ok: true,
      tunnel: 'web',
      done: 'stopped',
    });
    expect(await ask('r3', { cmd: 'start-tunnel', tunnel: 'web' })).toEqual({
      ok: true,
      tunnel: 'web',
      done: 'started',
    });
    expect(await ask('r4', { cmd: 'stop-tunnel', tunnel: 'nope' })).toEqual({
      ok: false,
      error: 'no tunnel named "nope"',
    });
  });

  it('lets the first daemon of a name win: a second one learns it is already running', async () => {
    await serve('gamma');
    const second = await listenControl(join(dirs.run, 'gamma.sock'), {
      status: () => status('gamma-2'),
      stop: () => undefined,
      ...changes,
    });
    expect(second).toEqual({ running: status('gamma') });
  });

  it('detects a dead daemon by the refused connection, never by a file, and cleans it', async () => {
    const path = join(dirs.run, 'dead.sock');
    await staleSocket(path);
    expect(existsSync(path)).toBe(true);
    expect(await probeSocket(path)).toEqual({ kind: 'stale' });
    expect(await probeSocket(join(dirs.run, 'never.sock'))).toEqual({ kind: 'absent' });

    const registry = await listDaemons(dirs);
    expect(registry.cleaned).toEqual(['dead']);
    expect(existsSync(path)).toBe(false);
    expect(registry.daemons.map((d) => d.name)).toEqual(['alpha', 'beta', 'gamma']);
    // A live socket is never cleaned.
    expect(await cleanStale(join(dirs.run, 'alpha.sock'))).toBe(false);
  });

  it('takes over a stale socket path when a new daemon starts', async () => {
    const path = join(dirs.run, 'phoenix.sock');
    await staleSocket(path);
    const server = await serve('phoenix');
    expect(server.path).toBe(path);
    expect((await probeSocket(path)).kind).toBe('alive');
  });

  it('knows a pid is gone once it exited', async () => {
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    await once(child, 'exit');
    expect(processGone(pid)).toBe(true);
    expect(processGone(process.pid)).toBe(false);
  });

  it('parses readiness messages and nothing else', () => {
    expect(parseReadyMessage('{"kind":"exited","code":2,"messages":["x"]}')).toEqual({
      kind: 'exited',
      code: 2,
      messages: ['x'],
    });
    expect(parseReadyMessage('{"kind":"other"}')).toBeUndefined();
    expect(parseReadyMessage('not json')).toBeUndefined();
  });
});
