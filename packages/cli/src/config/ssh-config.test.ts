import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDestination, resolveSshHost, type SshConfigOptions, sshConfigHostNames } from './ssh-config.js';
import { evaluateSshConfig } from './ssh-config-evaluate.js';
import { ConfigFiles } from './ssh-config-include.js';
import { SshConfigError } from './ssh-config-lexer.js';

let home: string;
let options: SshConfigOptions;

/** Writes a file under the temporary home. */
function write(relative: string, text: string): void {
  const path = join(home, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'fwd-ssh-config-'));
  options = { homeDir: home, user: 'alice', env: { SSH_AUTH_SOCK: '/run/agent.sock' } };
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('resolveSshHost', () => {
  it('fills OpenSSH defaults when nothing matches (no config file at all)', () => {
    expect(resolveSshHost('login.example.org', options)).toEqual({
      alias: 'login.example.org',
      hostName: 'login.example.org',
      port: 22,
      user: 'alice',
      identityFiles: ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((k) => join(home, '.ssh', k)),
      identityFilesExplicit: false,
      identitiesOnly: false,
      certificateFiles: [],
      proxyJump: [],
      proxyUseFdpass: false,
      identityAgent: '/run/agent.sock',
      userKnownHostsFiles: [join(home, '.ssh/known_hosts'), join(home, '.ssh/known_hosts2')],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
      hashKnownHosts: false,
      serverAliveCountMax: 3,
      ignored: [],
      notes: [],
      origins: {},
    });
  });

  it('takes the first value per key, accumulates IdentityFile, and expands tokens and ~', () => {
    write(
      '.ssh/config',
      `Host cluster
  HostName login.%h.example.edu
  User bob
  IdentityFile ~/.ssh/%r@%h
  IdentityFile %d/keys/%n-%p
  IdentitiesOnly yes
  StrictHostKeyChecking accept-new
Host *
  User nobody
  Port 2222
  IdentityFile ~/.ssh/fallback
  UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2
`,
    );
    expect(resolveSshHost('cluster', options)).toMatchObject({
      hostName: 'login.cluster.example.edu',
      user: 'bob',
      port: 2222,
      identityFiles: [
        join(home, '.ssh/bob@login.cluster.example.edu'),
        `${home}/keys/cluster-2222`,
        join(home, '.ssh/fallback'),
      ],
      identityFilesExplicit: true,
      identitiesOnly: true,
      strictHostKeyChecking: 'accept-new',
      userKnownHostsFiles: [join(home, '.ssh/kh1'), join(home, '.ssh/kh2')],
    });
  });

  it('honours negated and wildcard Host patterns, and Match host/all', () => {
    const configText = `Host node* !node7
  User compute
Host *.internal
  Port 2200
Match host login.internal
  User matched
Match all
  IdentityAgent none
`;
    const o = { ...options, configText };
    expect(resolveSshHost('node3', o)).toMatchObject({ user: 'compute', port: 22 });
    expect(resolveSshHost('node7', o)).toMatchObject({ user: 'alice' });
    expect(resolveSshHost('login.internal', o)).toMatchObject({ user: 'matched', port: 2200 });
    expect(resolveSshHost('node3', o).identityAgent).toBeUndefined();
  });

  it('runs Match exec as ssh does: exit 0 matches, tokens are those of the moment, skipped after a failed criterion', () => {
    const ran: string[] = [];
    const matchExec = (command: string): boolean => {
      ran.push(command);
      return !command.startsWith('false');
    };
    const configText = [
      'Match exec "false %h"',
      '  User never',
      'Match host other exec "true never-run"',
      '  Port 2201',
      'Match exec "true %h %n %p %r %u %d %k %%"',
      '  User ops',
      '  HostName Login.Example',
      'Match !exec "false"',
      '  Port 2202',
      '',
    ].join('\n');
    const resolved = resolveSshHost('x', { ...options, configText, matchExec });
    expect(resolved).toMatchObject({ user: 'ops', port: 2202, hostName: 'login.example' });
    expect(resolved.notes).toEqual([]);
    expect(ran).toEqual(['false x', `true x x 22 alice alice ${home} x %`, 'false']);
  });

  it('runs Match exec in the shell by default, and stops at an unknown token as ssh does', () => {
    const configText = `Match exec "touch ${home}/ran-%r && test -e ${home}/ran-alice"\n  User exec\n`;
    expect(resolveSshHost('x', { ...options, configText }).user).toBe('exec');
    expect(existsSync(join(home, 'ran-alice'))).toBe(true);
    expect(() => resolveSshHost('x', { ...options, configText: 'Match exec "echo %i"\n  User x\n' })).toThrow(
      /line 1: Match exec: unknown token %i/,
    );
  });

  it('applies a negated Match criterion (Match !user ops)', () => {
    const configText = 'Match !user ops\n  Port 2200\nMatch user ops\n  Port 2300\n';
    const o = { ...options, configText };
    expect(resolveSshHost('h', o).port).toBe(2200);
    expect(resolveSshHost('h', o, { user: 'ops' }).port).toBe(2300);
  });

  it('keeps a quoted value with spaces as one path', () => {
    const configText = 'Host h\n  IdentityFile "~/.ssh/id with space"\n  IdentityFile ~/.ssh/id\\ escaped\n';
    expect(resolveSshHost('h', { ...options, configText }).identityFiles).toEqual([
      join(home, '.ssh/id with space'),
      join(home, '.ssh/id escaped'),
    ]);
  });

  it('uses no key at all for IdentityFile none, as ssh does', () => {
    const resolved = resolveSshHost('h', { ...options, configText: 'IdentityFile none\n' });
    expect(resolved).toMatchObject({ identityFiles: [], identityFilesExplicit: true });
  });

  it('resolves what fwd acts on, and lists what it does not act on per host', () => {
    const configText = `Host h
  ProxyCommand ssh -W %h:%p gw
  CertificateFile ~/.ssh/%n-cert.pub
  ServerAliveInterval 1m
  ServerAliveCountMax 5
  ConnectTimeout 12
  HashKnownHosts yes
  HostKeyAlias H-Alias
  Ciphers aes128-ctr
  LocalForward 8080 localhost:80
  LocalForward 8081 localhost:81
  SetEnv TOKEN=secret OTHER=x
  FrobnicateMore yes
Host other
  KexAlgorithms curve25519-sha256
`;
    const resolved = resolveSshHost('h', { ...options, configText });
    expect(resolved).toMatchObject({
      proxyCommand: 'ssh -W %h:%p gw',
      certificateFiles: [join(home, '.ssh/h-cert.pub')],
      serverAliveInterval: 60,
      serverAliveCountMax: 5,
      connectTimeout: 12,
      hashKnownHosts: true,
      hostKeyAlias: 'h-alias',
      origins: { proxyCommand: `${join(home, '.ssh/config')} line 2` },
    });
    expect(resolved.ignored.map((i) => [i.keyword, i.value, i.line, i.count, i.unknown ?? false])).toEqual([
      ['Ciphers', 'aes128-ctr', 9, 1, false],
      ['LocalForward', '8080 localhost:80', 10, 2, false],
      ['SetEnv', 'TOKEN OTHER', 12, 1, false],
      ['frobnicatemore', 'yes', 13, 1, true],
    ]);
    expect(JSON.stringify(resolved)).not.toContain('secret');
  });

  it('drops unknown keywords that IgnoreUnknown names', () => {
    const configText = 'IgnoreUnknown UseKeychain,Add*\nUseKeychain yes\nAddThing 1\nOther 2\n';
    expect(resolveSshHost('h', { ...options, configText }).ignored.map((i) => i.keyword)).toEqual(['other']);
  });

  it('parses ProxyJump chains with user@host:port and honours ProxyJump none', () => {
    const configText = `Host direct
  ProxyJump none
Host cluster
  ProxyJump bob@bastion:2222,ssh://gw.example.org,[fe80::1]:22
Host *
  ProxyJump default-gw
`;
    const o = { ...options, configText };
    expect(resolveSshHost('cluster', o).proxyJump).toEqual([
      { host: 'bastion', user: 'bob', port: 2222 },
      { host: 'gw.example.org' },
      { host: 'fe80::1', port: 22 },
    ]);
    expect(resolveSshHost('direct', o).proxyJump).toEqual([]);
    expect(resolveSshHost('other', o).proxyJump).toEqual([{ host: 'default-gw' }]);
  });

  it('follows Include relative to ~/.ssh, with globs, in sorted order, and inside a matching Host only', () => {
    write(
      '.ssh/config',
      'Include config.d/*.conf\nHost cluster\n  Include cluster-extra\n  Port 2022\nHost *\n  User fallback\n',
    );
    write('.ssh/config.d/10-first.conf', 'Host cluster\n  User first\n');
    write('.ssh/config.d/20-second.conf', 'Host cluster\n  User second\n  HostName second.example\n');
    write('.ssh/config.d/.hidden.conf', 'Host cluster\n  HostName hidden.example\n');
    write('.ssh/config.d/notes.txt', 'Host cluster\n  HostName txt.example\n');
    write('.ssh/cluster-extra', 'IdentityFile ~/.ssh/cluster_key\nPort 3022\n');
    expect(resolveSshHost('cluster', options)).toMatchObject({
      user: 'first',
      hostName: 'second.example',
      port: 3022,
      identityFiles: [join(home, '.ssh/cluster_key')],
    });
    // The Include inside `Host cluster` does not apply to other hosts.
    expect(resolveSshHost('other', options)).toMatchObject({
      user: 'fallback',
      port: 22,
      identityFilesExplicit: false,
    });
  });

  it('applies a Host block after an Include inside it as the block itself', () => {
    write('.ssh/config', 'Host a\n  Include inc\n  User after-include\n');
    write('.ssh/inc', 'Host zzz\n  User wrong\n');
    expect(resolveSshHost('a', options).user).toBe('after-include');
  });

  it('reads a system config after the user one', () => {
    write('.ssh/config', 'Host a\n  User mine\n');
    write('etc/ssh_config', 'Host *\n  User system\n  Port 2200\n');
    const o = { ...options, systemConfigPath: join(home, 'etc/ssh_config') };
    expect(resolveSshHost('a', o)).toMatchObject({ user: 'mine', port: 2200 });
  });

  it('resolves IdentityAgent from an environment variable or a path', () => {
    const env = { MY_AGENT: '/tmp/my-agent' };
    expect(
      resolveSshHost('a', { ...options, env, configText: 'IdentityAgent $MY_AGENT\n' }).identityAgent,
    ).toBe('/tmp/my-agent');
    expect(
      resolveSshHost('a', { ...options, configText: 'IdentityAgent ~/agent.sock\n' }).identityAgent,
    ).toBe(join(home, 'agent.sock'));
  });
});

describe('sshConfigHostNames', () => {
  it('knows every name a Host pattern other than * applies to, as ssh connects to it', () => {
    write(
      '.ssh/config',
      'Include extra/*\nHost cluster bastion *.example !bad.example\n  User x\nHost gpu? cpu??\n  User y\n' +
        'Host node*\n  ProxyJump login\nMatch originalhost via-match\n  Port 2\nHost *\n  User z\n',
    );
    write('.ssh/extra/a', 'Host gpu-box\n');
    const known = sshConfigHostNames(options);
    const names = ['cluster', 'bastion', 'gpu-box', 'a.example', 'gpu1', 'cpu42', 'node17', 'via-match'];
    expect(names.filter(known)).toEqual(names);
    // Only `Host *` applies (or a negation excludes it): still a likely typo.
    expect(['bad.example', 'gpu12', 'cpu4', 'clustr', 'nothing'].filter(known)).toEqual([]);
  });

  it('runs no Match exec command while it only checks names (validating tunnels.yaml)', () => {
    write('.ssh/config', `Match exec "touch ${home}/ran"\n  User x\nHost cluster\n  User y\n`);
    expect(sshConfigHostNames(options)('cluster')).toBe(true);
    expect(existsSync(join(home, 'ran'))).toBe(false);
  });

  it('lets the plan report a config ssh would refuse instead of calling every name unknown', () => {
    write('.ssh/config', 'Include config\n');
    expect(sshConfigHostNames(options)('anything')).toBe(true);
  });
});

describe('Include loops', () => {
  it('stops a fan-out loop where OpenSSH does (16 levels), after reading at most 17 files, with file and line', () => {
    write('.ssh/config', 'Host *\n  User u\nInclude a b\n');
    write('.ssh/a', 'Include a b\n');
    write('.ssh/b', '# b\nInclude b a\n');
    let reads = 0;
    const counting = {
      ...options,
      read: (path: string) => {
        reads++;
        return readFileSync(path, 'utf8');
      },
    };
    // Without a depth check that stops at once, fan-out 2 over 16 levels opens 2^17 files.
    expect(() => resolveSshHost('h', counting)).toThrow(
      new RegExp(
        `^${join(home, '.ssh/a')} line 1: an Include loop: ${join(home, '.ssh/a')} → ${join(home, '.ssh/a')} \\(OpenSSH stops after 16`,
      ),
    );
    expect(reads).toBeLessThanOrEqual(3);
    const files = new ConfigFiles(home);
    expect(() =>
      evaluateSshConfig({
        sources: [{ path: join(home, '.ssh/config'), userConf: true }],
        files,
        name: 'h',
        localUser: 'alice',
      }),
    ).toThrow(SshConfigError);
    expect(files.opened).toBe(17);
  });

  it('reports a chain deeper than 16 that is no loop', () => {
    for (let i = 0; i < 17; i++) write(`.ssh/d${i}`, `Include d${i + 1}\n`);
    write('.ssh/d17', 'Port 2\n');
    expect(() => resolveSshHost('h', { ...options, configText: 'Include d0\n' })).toThrow(
      /Includes nested too deep/,
    );
  });
});

describe('parseDestination', () => {
  it.each([
    ['host', { host: 'host' }],
    ['alice@host', { host: 'host', user: 'alice' }],
    ['alice@host:2222', { host: 'host', user: 'alice', port: 2222 }],
    ['ssh://alice@host:2222', { host: 'host', user: 'alice', port: 2222 }],
    ['[::1]:22', { host: '::1', port: 22 }],
    ['::1', { host: '::1' }],
  ])('%s', (text, expected) => {
    expect(parseDestination(text)).toEqual(expected);
  });

  it.each(['host:0', 'host:99999', 'host:ssh', '@host', ''])('rejects %j', (text) => {
    expect(parseDestination(text)).toBeUndefined();
  });
});
