import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processGone } from '../packages/cli/src/daemon/control-client.js';
import { skipWithoutDocker } from './support/docker.js';
import { FWD_MAIN, type FwdResult, runFwd } from './support/fwd-cli.js';
import { openSocket, readAll } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, startSshd, TARGETS } from './support/sshd.js';
import { hasTmux, type Tmux, tmuxServer } from './support/tmux.js';
import { waitFor } from './support/wait.js';

interface Ps {
  name: string;
  pid: number;
  log: string;
  tunnels: Array<{ name: string; state: string; forwards: Array<{ listen: string }> }>;
}

/** The port of a "127.0.0.1:PORT" listen address. */
const portOf = (listen: string | undefined): number => Number(listen?.split(':').at(-1));

/** An echo connection held open: what it sends comes back, for as long as it lives. */
async function heldEcho(port: number) {
  const socket = await openSocket({ port });
  const roundTrip = async (text: string): Promise<string> => {
    const back = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
    socket.write(text);
    return back;
  };
  return { socket, roundTrip };
}

/**
 * Hot reload against OpenSSH: a background fwd reads its edited file on `fwd reload` (and on
 * SIGHUP), applies the difference and leaves untouched tunnels and their open connections alone;
 * a broken file is refused with file:line:col; single tunnels stop and start; a foreground fwd on a
 * terminal reloads on `kill -HUP` and stops when its terminal goes away.
 */
describe.skipIf(skipWithoutDocker)('fwd reload, stop/start NAME/TUNNEL, SIGHUP', () => {
  let sshd: Sshd;
  let home: SshHome;
  let env: Record<string, string>;
  let file: string;
  const fwd = (args: string[]): Promise<FwdResult> => runFwd(args, { home: home.dir, env });
  const ps = async (): Promise<Ps[]> => JSON.parse((await fwd(['ps', '--json'])).stdout) as Ps[];
  const tunnel = async (name: string) => (await ps())[0]?.tunnels.find((t) => t.name === name);
  const echoFile = (names: string[], extra = '') =>
    `version: 1\ntunnels:\n${names.map((n) => `  ${n}: { host: login, local: "0:localhost:${TARGETS.echo}" }\n`).join('')}${extra}`;

  beforeAll(async () => {
    sshd = await startSshd();
    home = await sshHome(sshd, `Host login\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User alice\n`);
    const runtime = join(home.dir, 'runtime');
    await mkdir(runtime, { mode: 0o700 });
    await chmod(runtime, 0o700);
    env = { XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(home.dir, 'state') };
    file = await home.write('tunnels.yaml', echoFile(['keep', 'gone']));
  });
  afterAll(async () => {
    await fwd(['down', '--all']);
    await home?.[Symbol.asyncDispose]();
    await sshd?.[Symbol.asyncDispose]();
  });

  it('applies an edited file: added starts, removed stops, untouched keeps its open connection', async () => {
    const started = await fwd(['up', '-d', file]);
    expect(started.code, started.stderr).toBe(0);
    const keepPort = portOf((await tunnel('keep'))?.forwards[0]?.listen);
    const gonePort = portOf((await tunnel('gone'))?.forwards[0]?.listen);
    const held = await heldEcho(keepPort);
    expect(await held.roundTrip('before')).toBe('before');

    await home.write('tunnels.yaml', echoFile(['keep', 'added']));
    const reloaded = await fwd(['reload']);
    expect(reloaded.stderr).toBe('');
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toMatch(
      /^tunnels-[0-9a-f]+: reloaded: started added; stopped gone; 1 unchanged$/m,
    );

    // The connection opened before the reload still flows, on the same listener.
    expect(await held.roundTrip('after')).toBe('after');
    expect(portOf((await tunnel('keep'))?.forwards[0]?.listen)).toBe(keepPort);
    // The added tunnel answers; the removed one's port is closed.
    const added = await waitFor(
      async () => ((await tunnel('added'))?.state === 'up' ? tunnel('added') : undefined),
      {
        what: 'added to be up',
      },
    );
    const echoed = await openSocket({ port: portOf(added?.forwards[0]?.listen) });
    const back = readAll(echoed);
    echoed.end('new tunnel');
    expect((await back).toString()).toBe('new tunnel');
    await expect(openSocket({ port: gonePort })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await ps())[0]?.tunnels.map((t) => t.name)).toEqual(['keep', 'added']);
    held.socket.destroy();
  });

  it('refuses a broken file with file:line:col (exit 2) and keeps the running tunnels', async () => {
    const before = await ps();
    await home.write(
      'tunnels.yaml',
      `${echoFile(['keep', 'added'])}  broken: { host: login, local: "nope" }\n`,
    );
    const refused = await fwd(['reload']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/tunnels\.yaml:5:\d+ {2}tunnels\.broken\.local: /);
    expect(refused.stderr).toContain('the running tunnels go on');
    const after = await ps();
    expect(after.map((d) => d.pid)).toEqual(before.map((d) => d.pid));
    expect(after[0]?.tunnels.map((t) => [t.name, t.state])).toEqual([
      ['keep', 'up'],
      ['added', 'up'],
    ]);
    await home.write('tunnels.yaml', echoFile(['keep', 'added']));
  });

  it('stops and starts one tunnel; the others go on; a reload keeps it stopped', async () => {
    const [daemon] = await ps();
    if (!daemon) throw new Error('no daemon');
    const keepPort = portOf((await tunnel('keep'))?.forwards[0]?.listen);
    const addedPort = portOf((await tunnel('added'))?.forwards[0]?.listen);
    const held = await heldEcho(keepPort);

    const stopped = await fwd(['stop', `${daemon.name}/added`]);
    expect(stopped).toMatchObject({ code: 0, stdout: `${daemon.name}: stopped added\n` });
    await expect(openSocket({ port: addedPort })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await tunnel('added'))?.state).toBe('stopped');
    const again = await fwd(['reload']);
    expect(again.stderr).toBe('');
    expect(again.stdout).toContain('reloaded: nothing changed');
    expect((await tunnel('added'))?.state).toBe('stopped');
    expect(await held.roundTrip('still here')).toBe('still here');

    const unknown = await fwd(['stop', 'nosuch']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no tunnel named "nosuch" (this fwd runs keep, added)');

    // A bare TUNNEL names the only background fwd.
    expect(await fwd(['start', 'added'])).toMatchObject({
      code: 0,
      stdout: `${daemon.name}: started added\n`,
    });
    await waitFor(async () => (await tunnel('added'))?.state === 'up', { what: 'added to be up again' });
    expect(await held.roundTrip('and still')).toBe('and still');
    held.socket.destroy();
  });

  it('reloads on SIGHUP, and says so in its log', async () => {
    const [daemon] = await ps();
    if (!daemon) throw new Error('no daemon');
    await home.write('tunnels.yaml', echoFile(['keep', 'added', 'third']));
    process.kill(daemon.pid, 'SIGHUP');
    await waitFor(async () => (await tunnel('third'))?.state === 'up', { what: 'third to be up' });
    expect((await ps())[0]?.pid).toBe(daemon.pid);
    const log = await readFile(daemon.log, 'utf8');
    expect(log).toContain('"message":"SIGHUP: reloaded: started third; 2 unchanged"');
    expect(log).toContain('"message":"fwd stop: stopped added"');
  });

  describe.skipIf(!hasTmux)('a foreground fwd on a terminal', () => {
    let tmux: Tmux;
    const server = `fwd-reload-${process.pid}`;
    beforeAll(() => {
      tmux = tmuxServer(server);
    });
    afterAll(() => tmux.kill());

    it('reloads on kill -HUP while its terminal is there, and stops cleanly when the terminal goes away', async () => {
      // A unix-socket listener: a clean stop removes its file, a crash would leave it.
      const sock = join(home.dir, 'fg.sock');
      const fgFile = (names: string[]) =>
        echoFile(names, `  sock: { host: login, local: "${sock}:localhost:${TARGETS.echo}" }\n`);
      const fg = await home.write('fg.yaml', fgFile(['one']));
      const errors = join(home.dir, 'fg.err');
      // exec: the pane's process is fwd itself (its pid is the pane's); stderr kept in a file.
      tmux.start('fg', `exec ${FWD_MAIN} up ${fg} 2>${errors}`, { home: home.dir, width: 150, height: 20 });
      await waitFor(() => /^one +up /m.test(tmux.screen('fg')), { what: 'the table with one up' });
      const pid = Number(
        execFileSync('tmux', ['-L', server, 'display-message', '-p', '-t', 'fg', '#{pane_pid}'], {
          encoding: 'utf8',
        }).trim(),
      );

      await home.write('fg.yaml', fgFile(['one', 'two']));
      process.kill(pid, 'SIGHUP');
      await waitFor(() => /^two +up /m.test(tmux.screen('fg')), { what: 'two up after SIGHUP' });
      expect(tmux.history('fg')).toContain('SIGHUP: reloaded: started two; 2 unchanged');
      expect(processGone(pid)).toBe(false);
      expect(existsSync(sock)).toBe(true);

      // Closing the terminal hangs it up: SIGHUP now means what it always meant, a clean stop.
      tmux.kill();
      await waitFor(() => processGone(pid), { what: `fwd (pid ${pid}) to exit with its terminal` });
      expect(existsSync(sock)).toBe(false);
      // Writes to the dead terminal fail with EIO: dropped, not a crash. (Node 20 may still abort
      // in its own tty reset at exit, after the stop: nodejs/node#51519.)
      expect(await readFile(errors, 'utf8')).not.toMatch(/Unhandled 'error' event|internal error/);
    });
  });
});
