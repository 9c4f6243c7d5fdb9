// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell code with ${...} expansions
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FWD_MAIN } from './support/fwd-cli.js';

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'true']).status === 0;

/**
 * The completion scripts in the real shells, with the built fwd on PATH as `fwd`: bash driven
 * through its completion function (COMP_WORDS/COMP_CWORD, as readline sets them, then COMPREPLY),
 * fish through `complete -C`, zsh loaded through bashcompinit.
 */
describe('fwd completion', () => {
  let root: string;
  let env: Record<string, string>;
  let script: string;
  let fishScript: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fwd-completion-'));
    const bin = join(root, 'bin');
    const home = join(root, 'home');
    const runtime = join(root, 'runtime');
    await mkdir(bin);
    await mkdir(join(home, '.ssh'), { recursive: true });
    await mkdir(join(runtime, 'fwd'), { recursive: true, mode: 0o700 });
    await chmod(runtime, 0o700);
    await symlink(FWD_MAIN, join(bin, 'fwd'));
    await writeFile(join(home, '.ssh/config'), 'Host cluster login2\n  User alice\nHost gpu*\n  User bob\n');
    await writeFile(
      join(home, 'tunnels.yaml'),
      'version: 1\ntunnels:\n  notebook: { host: cluster, local: 8888 }\n',
    );
    await writeFile(join(home, 'other.yaml'), 'version: 1\ntunnels:\n  web: {}\n  api: {}\n  apple: {}\n');
    await writeFile(join(home, 'notes.txt'), '');
    await mkdir(join(home, 'configs'));
    // Background fwds are their control sockets' names: a file of that name is all TAB looks at.
    await writeFile(join(runtime, 'fwd', 'tunnels-3f2a1c.sock'), '');
    await writeFile(join(runtime, 'fwd', 'cluster-0b9e77.sock'), '');
    env = {
      PATH: `${bin}:${process.env.PATH ?? ''}`,
      HOME: home,
      XDG_RUNTIME_DIR: runtime,
      XDG_STATE_HOME: join(root, 'state'),
    };
    script = join(root, 'fwd.bash');
    await writeFile(script, execFileSync(FWD_MAIN, ['completion', 'bash'], { env, encoding: 'utf8' }));
    fishScript = join(root, 'fwd.fish');
    await writeFile(fishScript, execFileSync(FWD_MAIN, ['completion', 'fish'], { env, encoding: 'utf8' }));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** What bash offers for `line` (the cursor at its end; a trailing space starts a new word). */
  function bash(line: string): string[] {
    const words = line.split(' ');
    const program = [
      `source ${script}`,
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
      `COMP_CWORD=${words.length - 1}`,
      '_fwd fwd',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', program], {
      cwd: env.HOME,
      env,
      encoding: 'utf8',
    });
    return out.split('\n').filter(Boolean).sort();
  }

  it('bash: the script registers with complete -F', () => {
    const out = execFileSync('bash', ['--norc', '-c', `source ${script}; complete -p fwd`], {
      env,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('complete -F _fwd fwd');
  });

  it("bash: commands, then each command's flags", () => {
    expect(bash('fwd ')).toEqual(
      [
        'check',
        'completion',
        'down',
        'help',
        'init',
        'logs',
        'ps',
        'relay',
        'reload',
        'schema',
        'service',
        'start',
        'stop',
        'up',
      ].sort(),
    );
    expect(bash('fwd c')).toEqual(['check', 'completion']);
    expect(bash('fwd up --')).toEqual(
      [
        '--detach',
        '--help',
        '--json',
        '--metrics',
        '--only',
        '--open',
        '--replace',
        '--ssh-config',
        '--stats-interval',
      ].sort(),
    );
    expect(bash('fwd down --a')).toEqual(['--all']);
    expect(bash('fwd -')).toContain('-L');
    expect(bash('fwd help ')).toContain('init');
    expect(bash('fwd completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('bash: tunnels files and directories for up and check; any file after -F', () => {
    expect(bash('fwd up ')).toEqual(['configs', 'other.yaml', 'tunnels.yaml']);
    expect(bash('fwd check o')).toEqual(['other.yaml']);
    expect(bash('fwd up -F ')).toEqual(['configs', 'notes.txt', 'other.yaml', 'tunnels.yaml']);
  });

  it('bash: --only offers the tunnels of the file on the line (./tunnels.yaml by default), item by item', () => {
    expect(bash('fwd up --only ')).toEqual(['notebook']);
    expect(bash('fwd up other.yaml --only ')).toEqual(['api', 'apple', 'web']);
    expect(bash('fwd up --json other.yaml --only ap')).toEqual(['api', 'apple']);
    expect(bash('fwd up other.yaml --only web,a')).toEqual(['web,api', 'web,apple']);
  });

  it('bash: background fwds for down and logs; Hosts for init, -J and one-offs', () => {
    expect(bash('fwd down ')).toEqual([
      'cluster-0b9e77',
      'configs',
      'other.yaml',
      'tunnels-3f2a1c',
      'tunnels.yaml',
    ]);
    expect(bash('fwd logs -f t')).toEqual(['tunnels-3f2a1c', 'tunnels.yaml']);
    expect(bash('fwd init ')).toEqual(['cluster', 'login2']);
    expect(bash('fwd -L 8888:localhost:8888 ')).toEqual(['cluster', 'login2']);
    expect(bash('fwd -L 8888:localhost:8888 -J l')).toEqual(['login2']);
  });

  it.skipIf(!has('fish'))('fish: the same through complete -C', () => {
    const fish = (line: string): string[] => {
      const out = execFileSync('fish', ['--no-config', '-c', `source ${fishScript}; complete -C '${line}'`], {
        cwd: env.HOME,
        env,
        encoding: 'utf8',
      });
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0] as string)
        .sort();
    };
    expect(fish('fwd ')).toEqual(expect.arrayContaining(['up', 'check', 'init', 'completion']));
    expect(fish('fwd up --on')).toEqual(['--only']);
    expect(fish('fwd up other.yaml --only ')).toEqual(['api', 'apple', 'web']);
    expect(fish('fwd up other.yaml --only web,a')).toEqual(['web,api', 'web,apple']);
    expect(fish('fwd down ')).toEqual(expect.arrayContaining(['cluster-0b9e77', 'tunnels-3f2a1c']));
    expect(fish('fwd init ')).toEqual(['cluster', 'login2']);
    expect(fish('fwd completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it.skipIf(!has('zsh'))('zsh: the script loads through bashcompinit and defines the completion', () => {
    const out = execFileSync(
      'zsh',
      ['-f', '-c', 'eval "$(fwd completion zsh)"; print -r -- ${_comps[fwd]}'],
      { env, encoding: 'utf8' },
    );
    expect(out.trim()).toContain('_bash_complete');
  });
});
