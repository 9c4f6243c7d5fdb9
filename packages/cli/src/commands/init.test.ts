import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capture } from '../../../../test/support/capture.js';
import { loadConfig } from '../config/load.js';
import { sshHostAliases } from '../config/ssh-host-aliases.js';
import type { CliIO } from '../io.js';
import { checkCommand } from './check.js';
import { initCommand, parsePorts } from './init.js';

let home: string;

async function init(argv: string[], answers?: string[]) {
  const out = capture();
  const err = capture();
  const io: CliIO = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: new PassThrough(),
    env: { HOME: home },
    cwd: home,
  };
  const asked: string[] = [];
  const ask = answers
    ? async (q: string) => {
        asked.push(q);
        return answers.shift() ?? '';
      }
    : undefined;
  const code = await initCommand(argv, io, ask);
  return { code, stdout: out.text(), stderr: err.text(), asked };
}

/** `fwd check FILE` on what init wrote: the proof that a user can go on with it. */
async function check(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture();
  const err = capture();
  const code = await checkCommand(
    [file],
    { stdout: out.stream, stderr: err.stream, stdin: new PassThrough(), env: { HOME: home }, cwd: home },
    { anyPort: true, unprivilegedPortStart: 0 },
  );
  return { code, stdout: out.text(), stderr: err.text() };
}

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fwd-init-'));
  await mkdir(join(home, '.ssh'));
  await writeFile(
    join(home, '.ssh/config'),
    [
      'Host cluster',
      '  HostName login.hpc.example.edu',
      '  User alice',
      '  ProxyJump bastion',
      'Host bastion gpu*',
      '  HostName gw.example.edu',
      'Include more.conf',
      '',
    ].join('\n'),
  );
  await writeFile(join(home, '.ssh/more.conf'), 'Host !nope other\n  User bob\n');
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('fwd init', () => {
  it('writes a commented file for a Host of ~/.ssh/config that fwd check accepts', async () => {
    const result = await init(['cluster', '--port', '8888,6006']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(
      'wrote tunnels.yaml: 2 tunnels to cluster (alice@login.hpc.example.edu:22 via bastion)',
    );
    const text = await readFile(join(home, 'tunnels.yaml'), 'utf8');
    expect(text).toContain(
      '# cluster is a Host of ~/.ssh/config: alice@login.hpc.example.edu:22 via bastion',
    );
    expect(text).toMatch(
      /^ {2}jupyter:\n(?: {4}#.*\n)* {4}host: cluster\n {4}local: 8888:localhost:8888 +# .*Jupyter/m,
    );
    expect(text).toMatch(/^ {2}tensorboard:\n {4}host: cluster\n {4}local: 6006:localhost:6006 /m);
    expect(text).toContain('# defaults:');
    const checked = await check('tunnels.yaml');
    expect(checked).toMatchObject({ code: 0, stderr: '' });
    expect(checked.stdout).toContain('tunnels.yaml: ok (2 tunnels, 1 host)');
  });

  it('a Slurm job by name or id, a private socket, LOCAL:REMOTE ports: each checked', async () => {
    for (const [argv, expected] of [
      [
        ['--slurm', 'jupyter', '--socket', '/home/alice/.jupyter/nb.sock'],
        /name: jupyter[\s\S]*local: 8888:\/home\/alice\/\.jupyter\/nb\.sock\n/,
      ],
      [
        ['--slurm', '4242', '--port', '9999:8888,6006'],
        /job: 4242[\s\S]*local: \[9999:\{node\}:8888, 6006:\{node\}:6006\]\n/,
      ],
      [
        ['--socket', '/run/user/1000/app.sock', '--port', '8889'],
        /local: 8889:\/run\/user\/1000\/app\.sock\n/,
      ],
    ] as const) {
      const result = await init(['cluster', '-o', 'x.yaml', '--force', ...argv]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(await readFile(join(home, 'x.yaml'), 'utf8')).toMatch(expected);
      expect((await check('x.yaml')).code).toBe(0);
    }
  });

  it('asks on a terminal for what the flags did not say', async () => {
    const result = await init([], ['', '8888 8787', 'jupyter', '']);
    expect(result.code).toBe(0);
    expect(result.asked).toEqual([
      'Host to forward from (Hosts in ~/.ssh/config: cluster, bastion, other) [cluster]: ',
      'Ports of the app on cluster (e.g. 8888 6006, or LOCAL:REMOTE) [8888]: ',
      'Does it run in a Slurm job? Its id or name (empty: no): ',
      'Does it listen on a unix socket? Its absolute path on cluster (empty: no): ',
    ]);
    const { config } = loadConfig(
      await readFile(join(home, 'tunnels.yaml'), 'utf8'),
      'tunnels.yaml',
      {},
      {
        knownSshHosts: () => true,
      },
    );
    expect(config?.tunnels.map((t) => [t.name, t.host, t.slurm?.mode, t.forwards.length])).toEqual([
      ['jupyter', 'cluster', 'name', 2],
    ]);
  });

  it('without a terminal, needs a host and names the ones it could use (exit 2)', async () => {
    const result = await init([]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe(
      'fwd: which host? fwd init HOST (Hosts in ~/.ssh/config: cluster, bastion, other)\n',
    );
  });

  it('never replaces a file without --force (exit 1), and does with it', async () => {
    await writeFile(join(home, 'tunnels.yaml'), 'mine\n');
    const refused = await init(['cluster']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tunnels.yaml exists; fwd init --force replaces it');
    expect(await readFile(join(home, 'tunnels.yaml'), 'utf8')).toBe('mine\n');
    expect((await init(['cluster', '--force'])).code).toBe(0);
    expect(await readFile(join(home, 'tunnels.yaml'), 'utf8')).toContain('host: cluster');
  });

  it('writes nothing that fwd check would refuse: an unknown host, a bad port, a relative socket (exit 2)', async () => {
    const unknown = await init(['clutser']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /tunnels\.yaml:\d+:\d+ {2}tunnels\.jupyter\.host: unknown host "clutser" \(did you mean|unknown host "clutser"/,
    );
    expect(unknown.stderr).toContain('fwd: nothing written: tunnels.yaml would not be valid');
    expect((await init(['cluster', '--port', '70000'])).stderr).toContain('bad port "70000"');
    expect((await init(['cluster', '--socket', 'nb.sock'])).stderr).toContain(
      'the socket path must be absolute',
    );
    await expect(readFile(join(home, 'tunnels.yaml'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes a destination instead of a Host', async () => {
    const result = await init(['bob@10.1.2.3:2222']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('to bob@10.1.2.3:2222 (bob@10.1.2.3:2222)');
  });
});

describe('parsePorts', () => {
  it('reads lists, LOCAL:REMOTE and refuses the rest', () => {
    expect(parsePorts('8888 6006,9999:8888')).toEqual([
      { local: 8888, remote: 8888 },
      { local: 6006, remote: 6006 },
      { local: 9999, remote: 8888 },
    ]);
    expect(() => parsePorts('0')).toThrow('bad port "0"');
    expect(() => parsePorts('1:2:3')).toThrow('expected PORT or LOCAL:REMOTE');
  });
});

describe('sshHostAliases', () => {
  it('lists literal Host names in file order, through Include, without patterns', () => {
    expect(sshHostAliases({ homeDir: home, user: 'alice' })).toEqual(['cluster', 'bastion', 'other']);
  });
});
