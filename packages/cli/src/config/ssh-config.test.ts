import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseDestination, resolveSshHost, type SshConfigOptions, sshConfigHostNames } from './ssh-config.js';

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
      identityFiles: ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((k) => join(home, '.ssh', k)),
      identityFilesExplicit: false,
      identitiesOnly: false,
      proxyJump: [],
      identityAgent: '/run/agent.sock',
      userKnownHostsFiles: [join(home, '.ssh/known_hosts'), join(home, '.ssh/known_hosts2')],
      globalKnownHostsFiles: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
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

  it('never runs Match exec', () => {
    const configText = `Match exec "touch ${home}/ran"\n  User exec\n`;
    expect(resolveSshHost('x', { ...options, configText }).user).toBe('alice');
    expect(existsSync(join(home, 'ran'))).toBe(false);
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

  it('reports an Include loop instead of hanging', () => {
    write('.ssh/config', 'Include config\n');
    expect(() => resolveSshHost('a', options)).toThrow(/Include nested deeper/);
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
  it('knows literal Host names, including those in included files, but not patterns', () => {
    write('.ssh/config', 'Host cluster bastion *.example !bad\n  User x\nInclude extra/*\n');
    write('.ssh/extra/a', 'Host gpu-box\n');
    const known = sshConfigHostNames(options);
    expect(['cluster', 'bastion', 'gpu-box'].filter(known)).toEqual(['cluster', 'bastion', 'gpu-box']);
    expect(['a.example', 'bad', '*.example', 'nothing'].filter(known)).toEqual([]);
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
