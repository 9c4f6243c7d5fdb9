import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processGone } from '../packages/cli/src/daemon/control-client.js';
import { skipWithoutDocker } from './support/docker.js';
import { type FwdEvent, type FwdResult, listenAddress, runFwd, spawnFwd } from './support/fwd-cli.js';
import { echo, httpGet, openSocket } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, startSshd, TARGETS } from './support/sshd.js';
import { tempDir } from './support/temp-dir.js';
import { waitFor } from './support/wait.js';

interface DaemonJson {
  name: string;
  pid: number;
  source: string;
  log: string;
  tunnels: Array<{ name: string; state: string; forwards: Array<{ listen: string; url?: string }> }>;
}

/**
 * A private set of XDG dirs for one test: nothing touches the real user's, and every fwd
 * started in the background is stopped (or, failing that, killed by its pid) at the end.
 */
interface Place extends AsyncDisposable {
  /** The XDG dirs, as environment on top of fwd's usual PATH, HOME and NO_COLOR. */
  readonly env: Record<string, string>;
  readonly runtime: string;
  fwd(args: string[]): Promise<FwdResult>;
  ps(): Promise<DaemonJson[]>;
}

describe.skipIf(skipWithoutDocker)('fwd up -d, ps, logs, down (the real binary) against OpenSSH', () => {
  let sshd: Sshd;
  let home: SshHome;
  let file: string;

  beforeAll(async () => {
    sshd = await startSshd();
    home = await sshHome(
      sshd,
      [
        'Host login',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  User alice',
        'Host nokey',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  User bob',
        '',
      ].join('\n'),
    );
    file = await home.write(
      'tunnels.yaml',
      [
        'version: 1',
        'tunnels:',
        '  web: { host: login, local: "0:localhost:8080" }',
        `  echo: { host: login, local: "0:localhost:${TARGETS.echo}" }`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await home?.[Symbol.asyncDispose]();
    await sshd?.[Symbol.asyncDispose]();
  });

  async function place(): Promise<Place> {
    const scratch = await tempDir('fwd-bg-');
    const root = scratch.path;
    const runtime = join(root, 'run');
    await mkdir(runtime, { mode: 0o700 });
    const env = { XDG_STATE_HOME: join(root, 'state'), XDG_RUNTIME_DIR: runtime };
    const seen = new Set<number>();
    const fwd = (args: string[]): Promise<FwdResult> => runFwd(args, { home: home.dir, env });
    const ps = async (): Promise<DaemonJson[]> => {
      const result = await fwd(['ps', '--json']);
      expect(result.code, result.stderr).toBe(0);
      const list = JSON.parse(result.stdout) as DaemonJson[];
      for (const d of list) seen.add(d.pid);
      return list;
    };
    return {
      env,
      runtime,
      fwd,
      ps,
      async [Symbol.asyncDispose]() {
        await ps();
        await fwd(['down', '--all', '--timeout', '10s']);
        for (const pid of seen) if (!processGone(pid)) process.kill(pid, 'SIGKILL');
        await scratch[Symbol.asyncDispose]();
      },
    };
  }

  const events = (stdout: string): FwdEvent[] =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as FwdEvent);

  it('up -d returns once up; the tunnels work; ps shows them; down stops it and leaves nothing', async () => {
    await using at = await place();
    const started = await at.fwd(['up', '-d', file]);
    expect(started.code, started.stderr).toBe(0);
    const out = events(started.stdout);
    const web = out.find((e) => e.event === 'tunnel' && e.tunnel === 'web');
    const echoUp = out.find((e) => e.event === 'tunnel' && e.tunnel === 'echo');
    const background = out.find((e) => e.event === 'background');
    expect(web?.state).toBe('up');
    expect(echoUp?.state).toBe('up');
    if (!web || !echoUp || !background) throw new Error(started.stdout);
    const pid = background.pid as number;

    // The tunnels work, and the web one says which URL to open.
    const webAddress = listenAddress(web);
    expect((web.forwards as Array<{ url?: string }>)[0]?.url).toBe(`http://127.0.0.1:${webAddress.port}/`);
    expect((await httpGet(webAddress, '/through-daemon')).body).toContain('"path": "/through-daemon"');
    expect((await echo(listenAddress(echoUp), Buffer.from('ping'))).toString()).toBe('ping');

    // Only this user can reach the control socket: 0600 in a 0700 directory of ours.
    const socket = background.socket as string;
    expect(socket).toBe(join(at.runtime, 'fwd', `${background.name}.sock`));
    const socketInfo = await stat(socket);
    const dirInfo = await stat(join(at.runtime, 'fwd'));
    expect(socketInfo.isSocket()).toBe(true);
    expect((socketInfo.mode & 0o777).toString(8)).toBe('600');
    expect((dirInfo.mode & 0o777).toString(8)).toBe('700');
    expect(dirInfo.uid).toBe(process.getuid?.());
    expect(((await stat(background.log as string)).mode & 0o777).toString(8)).toBe('600');

    const [daemon, ...others] = await at.ps();
    expect(others).toEqual([]);
    expect(daemon).toMatchObject({ name: background.name, pid, source: file });
    expect(daemon?.tunnels.map((t) => [t.name, t.state])).toEqual([
      ['web', 'up'],
      ['echo', 'up'],
    ]);
    expect(daemon?.tunnels[0]?.forwards[0]?.url).toBe(`http://127.0.0.1:${webAddress.port}/`);
    const human = await at.fwd(['ps']);
    expect(human.stdout).toMatch(/^tunnels-[0-9a-f]{6} {2}.*tunnels\.yaml {2}pid \d+ {2}up \d+s$/m);
    expect(human.stdout).toMatch(
      /^web +up +127\.0\.0\.1:\d+ +→ +localhost:8080 .*http:\/\/127\.0\.0\.1:\d+\/$/m,
    );

    const stopped = await at.fwd(['down']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`stopped ${background.name}`);
    // down returned once the process was gone: nothing left, no port, no socket.
    expect(processGone(pid)).toBe(true);
    await expect(openSocket(webAddress)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(existsSync(socket)).toBe(false);
    expect(await at.ps()).toEqual([]);

    const again = await at.fwd(['down']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no fwd running in the background');

    // The log tells the whole story, stop included.
    const log = events(await readFile(background.log as string, 'utf8'));
    expect(log.some((e) => e.event === 'tunnel' && e.tunnel === 'web' && e.state === 'up')).toBe(true);
    expect(
      log.some((e) => e.event === 'log' && e.message === 'fwd down: closing listeners and sessions'),
    ).toBe(true);
    expect(log.at(-1)?.event).toBe('stopped');
    const logs = await at.fwd(['logs', 'tunnels']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(events(logs.stdout).at(-1)?.event).toBe('stopped');
  });

  it('refuses a second up -d of the same file; --replace restarts it', async () => {
    await using at = await place();
    const first = await at.fwd(['up', '-d', file]);
    expect(first.code, first.stderr).toBe(0);
    const [before] = await at.ps();
    if (!before) throw new Error('no daemon');

    const second = await at.fwd(['up', '-d', 'tunnels.yaml']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `is already running in the background as ${before.name} (pid ${before.pid}`,
    );
    expect((await at.ps()).map((d) => d.pid)).toEqual([before.pid]);

    const replaced = await at.fwd(['up', '-d', '--replace', file]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(replaced.stderr).toContain(`stopped the previous ${before.name} (pid ${before.pid})`);
    expect(processGone(before.pid)).toBe(true);
    const [after, ...others] = await at.ps();
    expect(others).toEqual([]);
    expect(after?.name).toBe(before.name);
    expect(after?.pid).not.toBe(before.pid);
    // A fresh log for the new run: the old one's stop is not in it.
    const log = events(await readFile(after?.log ?? '', 'utf8'));
    expect(log.filter((e) => e.event === 'stopped')).toEqual([]);
    expect(log.some((e) => e.event === 'tunnel' && e.state === 'up')).toBe(true);
    // The previous run's log is kept once, as NAME.log.1: it ends with its stop.
    const previous = events(await readFile(`${after?.log}.1`, 'utf8'));
    expect(previous.at(-1)?.event).toBe('stopped');
    expect(previous.some((e) => e.event === 'tunnel' && e.state === 'up')).toBe(true);
    // The refused start wrote nothing of its own and left no file behind.
    const stateFiles = await readdir(dirname(after?.log ?? ''));
    expect(stateFiles.filter((f) => f.startsWith(`${before.name}.log`)).sort()).toEqual([
      `${before.name}.log`,
      `${before.name}.log.1`,
    ]);
    const web = after?.tunnels.find((t) => t.name === 'web')?.forwards[0]?.listen ?? '';
    expect((await httpGet({ port: Number(web.split(':').at(-1)) }, '/')).status).toBe(200);
  });

  it('finds a SIGKILLed daemon stale and cleans its socket, in ps and in the next up -d', async () => {
    await using at = await place();
    const kill = async (): Promise<string> => {
      const [daemon] = await at.ps();
      if (!daemon) throw new Error('no daemon');
      process.kill(daemon.pid, 'SIGKILL');
      // A killed orphan has no event to wait on.
      await waitFor(() => processGone(daemon.pid), { what: `pid ${daemon.pid} to go` });
      const socket = join(at.runtime, 'fwd', `${daemon.name}.sock`);
      expect(existsSync(socket)).toBe(true);
      return daemon.name;
    };

    expect((await at.fwd(['up', '-d', file])).code).toBe(0);
    const name = await kill();
    const ps = await at.fwd(['ps']);
    expect(ps.code).toBe(0);
    expect(ps.stderr).toContain(`removed the stale control socket of ${name}`);
    expect(ps.stdout).toContain('no fwd is running in the background');
    expect(await readdir(join(at.runtime, 'fwd'))).toEqual([]);

    expect((await at.fwd(['up', '-d', file])).code).toBe(0);
    await kill();
    const restarted = await at.fwd(['up', '-d', file]);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect((await at.ps()).map((d) => d.tunnels.map((t) => t.state))).toEqual([['up', 'up']]);
  });

  it('fails up front, leaving nothing, when a tunnel needs a password (no terminal) or the file is wrong', async () => {
    await using at = await place();
    const needsPassword = await home.write(
      'password.yaml',
      'version: 1\ntunnels:\n  nb: { host: nokey, local: "0:localhost:8888" }\n',
    );
    const failed = await at.fwd(['up', '-d', needsPassword]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('nb did not come up: authentication to bob@127.0.0.1');
    expect(failed.stderr).toContain('no terminal to ask on');
    expect(failed.stderr).toContain(
      'a background fwd has no terminal to ask for a password, passphrase or code',
    );
    expect(failed.stderr).toContain('nothing is left running');
    expect(await at.ps()).toEqual([]);
    expect(await readdir(join(at.runtime, 'fwd'))).toEqual([]);

    const broken = await home.write('broken.yaml', 'version: 1\ntunnels:\n  nb: { hots: login }\n');
    const invalid = await at.fwd(['up', '-d', broken]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/broken\.yaml:3:\d+ +tunnels\.nb\.hots: unknown key "hots"/);
    expect(await at.ps()).toEqual([]);
  });

  it('runs an ssh-style one-off in the background (-N -f -L) and follows its log until down', async () => {
    await using at = await place();
    const started = await at.fwd(['-N', '-f', '-L', `0:localhost:${TARGETS.echo}`, 'login']);
    expect(started.code, started.stderr).toBe(0);
    const [daemon] = await at.ps();
    expect(daemon?.source).toBe(`fwd -N -L 0:localhost:${TARGETS.echo} login`);
    expect(daemon?.name).toMatch(/^login-[0-9a-f]{6}$/);

    const follow = spawnFwd(['logs', '-f', 'login'], { home: home.dir, env: at.env });
    let followed = '';
    const sawUp = new Promise<void>((resolve) => {
      follow.stdout.on('data', (c: Buffer) => {
        followed += c.toString();
        if (followed.includes('"state":"up"')) resolve();
      });
    });
    const followExit = new Promise<number | null>((resolve) => follow.on('close', resolve));
    await sawUp;
    const down = await at.fwd(['down', 'login']);
    expect(down.code, down.stderr).toBe(0);
    // -f ends by itself once the daemon logs that it stopped.
    expect(await followExit).toBe(0);
    expect(events(followed).at(-1)?.event).toBe('stopped');
  });
});
