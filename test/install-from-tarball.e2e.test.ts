import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, lstat, mkdir, mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { listenAddress, watchFwd } from './support/fwd-cli.js';
import { echo, openSocket } from './support/net-client.js';
import { type SshHome, sshHome } from './support/ssh-home.js';
import { type Sshd, startSshd, TARGETS } from './support/sshd.js';

const run = promisify(execFile);
const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
/** The install scripts fwd's dependencies need (README "Install" names the same). */
const ALLOW_SCRIPTS = '@fwd/cli,ssh2,cpu-features,bufferutil';
/** npm fetches the tarballs' dependencies from the registry and builds ssh2's binding: minutes on a busy machine. */
const INSTALL_TIMEOUT_MS = 900_000;

/**
 * What a user gets: the three packages packed as they would be published (npm run tarballs),
 * installed with `npm i -g` into an empty prefix, and run from an empty directory with a PATH of
 * that prefix and node only, so nothing of this repository can be reached. Then `fwd --version`,
 * `fwd check` and one real tunnel through the test sshd. It needs the npm registry, so it runs
 * when asked: .ci/run sets FWD_INSTALL_TEST=1.
 */
describe.skipIf(process.env.FWD_INSTALL_TEST !== '1' || skipWithoutDocker)(
  'install from tarballs: npm i -g into an empty prefix, then fwd against OpenSSH',
  () => {
    let root: string;
    let prefix: string;
    let sshd: Sshd;
    let home: SshHome;
    let env: Record<string, string>;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'fwd-install-'));
      prefix = join(root, 'prefix');
      const tarballs = join(root, 'tarballs');
      const tsx = join(REPO, 'node_modules/.bin/tsx');
      const packed = await run(tsx, [join(REPO, 'scripts/pack-tarballs.ts'), tarballs], { cwd: REPO });
      const files = packed.stdout.trim().split('\n');
      expect(files.map((f) => f.slice(tarballs.length + 1))).toEqual([
        'fwd-core-0.1.0.tgz',
        'fwd-ws-transport-0.1.0.tgz',
        'fwd-cli-0.1.0.tgz',
      ]);
      // From an empty directory, without the npm_* variables of an `npm test` run (its project is this repo).
      const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
      await mkdir(prefix);
      await run('npm', ['install', '-g', '--prefix', prefix, `--allow-scripts=${ALLOW_SCRIPTS}`, ...files], {
        cwd: root,
        env: npmEnv,
        timeout: INSTALL_TIMEOUT_MS,
      });
      sshd = await startSshd();
      home = await sshHome(
        sshd,
        ['Host login', '  HostName 127.0.0.1', `  Port ${sshd.port}`, '  User alice', ''].join('\n'),
      );
      await home.write(
        'tunnels.yaml',
        `version: 1\ntunnels:\n  echo: { host: login, local: "0:localhost:${TARGETS.echo}" }\n`,
      );
      env = {
        // node for the bin's `#!/usr/bin/env -S node ...`; nothing else of this machine's PATH.
        PATH: [join(prefix, 'bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter),
        HOME: home.dir,
        NO_COLOR: '1',
      };
    }, INSTALL_TIMEOUT_MS);

    afterAll(async () => {
      await home?.[Symbol.asyncDispose]();
      await sshd?.[Symbol.asyncDispose]();
      if (root) await rm(root, { recursive: true, force: true });
    });

    const fwd = (args: string[]) =>
      run('fwd', args, { cwd: home.dir, env }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    it('installs real files only: no link into this repository', async () => {
      const repo = await realpath(REPO);
      const links: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isSymbolicLink()) {
            const target = await realpath(path).catch(() => path);
            if (target.startsWith(repo) || !target.startsWith(prefix)) links.push(`${path} -> ${target}`);
          } else if (entry.isDirectory()) await walk(path);
        }
      };
      await walk(prefix);
      expect(links).toEqual([]);
      expect((await lstat(join(prefix, 'bin/fwd'))).isSymbolicLink()).toBe(true);
      // The published package carries fwd's ssh2 patches (bundled), not the registry's ssh2.
      const channel = join(prefix, 'lib/node_modules/@fwd/core/node_modules/ssh2/lib/Channel.js');
      expect(await readFile(channel, 'utf8')).toContain('fwd patch channel-window-owner');
      // @fwd/cli's install script built its malloc_trim call (runtime/memory-return.ts).
      await access(join(prefix, 'lib/node_modules/@fwd/cli/build/Release/malloc_trim.node'));
    });

    it('fwd --version and fwd check work from an empty directory', async () => {
      const { version } = JSON.parse(await readFile(join(REPO, 'packages/cli/package.json'), 'utf8')) as {
        version: string;
      };
      expect(await fwd(['--version'])).toMatchObject({ code: 0, stdout: `fwd ${version}\n` });
      const check = await fwd(['check', 'tunnels.yaml']);
      expect(check.stderr).toBe('');
      expect(check).toMatchObject({ code: 0 });
      expect(check.stdout).toContain('tunnels.yaml: ok (1 tunnel, 1 host)');
      // What the README's Install section goes on with: a completion script bash can read.
      const completion = await fwd(['completion', 'bash']);
      expect(completion).toMatchObject({ code: 0 });
      expect(completion.stdout).toContain('complete -F _fwd fwd');
    });

    it('brings a tunnel up and carries bytes; SIGTERM stops it cleanly', async () => {
      const child = spawn('fwd', ['up', 'tunnels.yaml', '--json'], {
        cwd: home.dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await using up = watchFwd(child);
      const event = await up.waitForEvent((e) => e.event === 'tunnel' && e.state === 'up', 60_000);
      const payload = Buffer.from('through the installed fwd');
      expect(await echo(listenAddress(event), payload)).toEqual(payload);
      // ssh2 builds its native crypto when a compiler is there (node-gyp: python3, make, g++);
      // without one, fwd says so and still works, as README "Install" promises.
      const installPath = (process.env.PATH ?? '').split(delimiter);
      const compiler = ['python3', 'make', 'g++'].every((tool) =>
        installPath.some((dir) => existsSync(join(dir, tool))),
      );
      const warned = up.events.some((e) => e.event === 'log' && String(e.message).includes('native crypto'));
      expect(warned).toBe(!compiler);
      child.kill('SIGTERM');
      expect(await up.exited).toBe(0);
      await expect(openSocket(listenAddress(event))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    });
  },
);
