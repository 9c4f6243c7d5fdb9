import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ResolvedSshHost, resolveSshHost } from '../packages/cli/src/config/ssh-config.js';
import { parseDestination } from '../packages/cli/src/config/ssh-config-destination.js';
import { SshConfigError } from '../packages/cli/src/config/ssh-config-lexer.js';
import { expandHome } from '../packages/cli/src/config/ssh-config-tokens.js';
import { OpenSshOracle } from './support/openssh-oracle.js';

// The ssh_config corpus: for every keyword fwd honours, fwd's resolution must equal OpenSSH's
// own (`ssh -G`; `ssh -v` for the expanded key paths, which 9.2's -G prints unexpanded).
// OpenSSH is the real client on this machine, run as a controlled user `alice` with a temporary
// home (see OpenSshOracle); nothing connects anywhere.

const unavailable = OpenSshOracle.unavailable();
if (unavailable && process.env.CI)
  throw new Error(`the ssh -G corpus needs OpenSSH and unshare: ${unavailable}`);

const ENV = { SSH_AUTH_SOCK: '/run/agent.sock', AGENT_DIR: '/run/agents', KEYDIR: '/keys' };

interface Case {
  name: string;
  config: string;
  /** Other files, relative to the home directory. */
  files?: Record<string, string>;
  hosts: string[];
}

const CORPUS: Case[] = [
  {
    name: 'first value wins, Host * defaults, key=value syntax, quotes, comments, case',
    config: `# comment
Host cluster
  HostName login.%h.Example.EDU
  User bob
  port=2222
  IdentityFile ~/.ssh/%r@%h
  IdentityFile "~/.ssh/id with space"
Host\tcluster "quoted"
  User ignored
  HOSTNAME ignored.example
  IdentitiesOnly = yes # trailing comment
Host *
  User nobody
  Port 2200
  IdentityFile ~/.ssh/fallback
`,
    hosts: ['cluster', 'quoted', 'Other.Example'],
  },
  {
    name: 'Host patterns: wildcards, ?, negation anywhere on the line',
    config: `Host node* !node7
  User compute
Host gpu? cpu??
  User accel
  ProxyJump login
Host !*.internal *.example
  Port 2201
Host * !bastion
  ServerAliveInterval 30
`,
    hosts: ['node3', 'node7', 'gpu1', 'gpu12', 'cpu42', 'cpu4', 'a.example', 'a.internal', 'bastion'],
  },
  {
    name: 'Match host/originalhost/user/localuser/all, negated criteria, Match host sees HostName',
    config: `Host short
  HostName Login.Internal
Match host login.internal
  Port 2200
Match originalhost short
  IdentityFile ~/.ssh/short
Match !user ops
  ServerAliveCountMax 7
Match user ops
  ConnectTimeout 11
Host opsbox
  User ops
Match localuser alice host *.example,!bad.example
  HashKnownHosts yes
Match !localuser alice
  User never
Match !host nothing-*
  StrictHostKeyChecking accept-new
Match all
  HostKeyAlias Fallback-Alias
`,
    hosts: ['short', 'opsbox', 'a.example', 'bad.example', 'nothing-1', 'login.internal'],
  },
  {
    name: 'Match user sees the User obtained so far; Match final and canonical on the second pass',
    config: `Host early
  User ops
Match user ops
  Port 2022
Host viafinal
  HostName final.example
Match final host final.example
  User finaluser
Match canonical
  ConnectTimeout 9
Match !final
  ServerAliveInterval 5
Host final.example
  HashKnownHosts yes
`,
    hosts: ['early', 'viafinal', 'plain'],
  },
  {
    name: 'Match exec: run by the shell, exit 0 matches, %h %n %p %r %u %d as obtained so far',
    config: `Match exec "test %h = login.example -a %n = login.example"
  User viaexec
Match host other exec "exit 1"
  Port 2201
Match exec "test %p = 22 -a %r = %u -a -d %d"
  Port 2202
Match !exec "false" originalhost other
  ServerAliveInterval 17
Host *
  HostName %h.internal
Match exec "test %h = x.internal"
  ConnectTimeout 7
`,
    hosts: ['login.example', 'other', 'x'],
  },
  {
    name: 'Include: globs, relative to ~/.ssh, ~, inside blocks, and in blocks that do not apply',
    config: `Include conf.d/*.conf
Host cluster
  Include cluster-extra
  Port 2022
Host other
  Include other-extra
Include ~/.ssh/tail
`,
    files: {
      '.ssh/conf.d/10-first.conf': 'Host cluster\n  User first\n',
      '.ssh/conf.d/20-second.conf': 'Host cluster\n  User second\n  HostName second.example\n',
      '.ssh/conf.d/.hidden.conf': 'Host cluster\n  HostName hidden.example\n',
      '.ssh/conf.d/notes.txt': 'Host cluster\n  HostName txt.example\n',
      '.ssh/cluster-extra': 'IdentityFile ~/.ssh/cluster_key\nPort 3022\nHost zzz\n  User inner\n',
      '.ssh/other-extra': 'Host cluster\n  ProxyCommand never used\n',
      '.ssh/tail': 'Host *\n  User tail\n',
    },
    hosts: ['cluster', 'other', 'third'],
  },
  {
    name: 'tokens in HostName, IdentityFile, CertificateFile, UserKnownHostsFile, IdentityAgent',
    config: `Host tok
  HostName %h.tokens.example
  User Remote
  Port 2202
  IdentityFile ~/.ssh/%h-%r-%u-%p-%n
  IdentityFile %d/keys/%l-%L
  IdentityFile \${KEYDIR}/id_%n
  CertificateFile ~/.ssh/%C-cert.pub
  CertificateFile ~/.ssh/%n-%%-cert.pub
  UserKnownHostsFile ~/.ssh/kh-%h %d/kh2-%k
  HostKeyAlias Tok-Alias
  IdentityAgent \${AGENT_DIR}/%h.sock
Host nokey
  IdentityFile none
Host agentnone
  IdentityAgent none
Host agentvar
  IdentityAgent $AGENT_DIR
Host agentsock
  IdentityAgent SSH_AUTH_SOCK
Host agentpath
  IdentityAgent ~/agent/%r.sock
`,
    hosts: ['tok', 'nokey', 'agentnone', 'agentvar', 'agentsock', 'agentpath', 'plain'],
  },
  {
    name: 'ProxyJump chains, ProxyJump none, ProxyCommand vs ProxyJump order, ProxyCommand none',
    config: `Host direct
  ProxyJump none
Host chain
  ProxyJump bob@bastion:2222,ssh://carol@gw.example.org:2200,[fe80::1]:22
Host cmdfirst
  ProxyCommand ssh -W %h:%p gateway
Host jumpfirst
  ProxyJump gw
Host cmdfirst jumpfirst
  ProxyJump ignored
  ProxyCommand nc %h %p
Host nocmd
  ProxyCommand none
Host fdpass
  ProxyCommand /usr/bin/helper --fd %h
  ProxyUseFdpass yes
Host *
  ProxyJump default-gw
`,
    hosts: ['direct', 'chain', 'cmdfirst', 'jumpfirst', 'nocmd', 'fdpass', 'other'],
  },
  {
    name: 'known_hosts lists, none, /dev/null; StrictHostKeyChecking spellings; keepalive; timeouts',
    config: `Host lists
  UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2
  GlobalKnownHostsFile /etc/ssh/site_hosts ~/global_hosts
  StrictHostKeyChecking off
  ServerAliveInterval 1m30s
  ServerAliveCountMax 5
  ConnectTimeout 2m
Host nolists
  UserKnownHostsFile none
  GlobalKnownHostsFile none
  StrictHostKeyChecking yes
  ConnectTimeout none
Host devnull
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
Host newkeys
  StrictHostKeyChecking accept-new
  HashKnownHosts yes
Host *
  UserKnownHostsFile ~/.ssh/never
  ConnectTimeout 7
  StrictHostKeyChecking false
`,
    hosts: ['lists', 'nolists', 'devnull', 'newkeys', 'plain'],
  },
];

const yesNo = (v: boolean): string => (v ? 'yes' : 'no');

/** What fwd's resolution would print as `ssh -G` prints it, for the keywords fwd honours. */
function asSshG(r: ResolvedSshHost): Record<string, string | undefined> {
  return {
    user: r.user,
    hostname: r.hostName,
    port: String(r.port),
    identitiesonly: yesNo(r.identitiesOnly),
    proxyusefdpass: yesNo(r.proxyUseFdpass),
    proxycommand: r.proxyCommand,
    userknownhostsfile: r.userKnownHostsFiles.join(' ') || undefined,
    globalknownhostsfile: r.globalKnownHostsFiles.join(' ') || undefined,
    stricthostkeychecking: r.strictHostKeyChecking ?? 'ask',
    hashknownhosts: yesNo(r.hashKnownHosts),
    hostkeyalias: r.hostKeyAlias,
    serveraliveinterval: String(r.serverAliveInterval ?? 0),
    serveralivecountmax: String(r.serverAliveCountMax),
    connecttimeout: r.connectTimeout === undefined ? 'none' : String(r.connectTimeout),
  };
}

/** ssh -G's values in the same shape; what ssh.c does after -G (`~` in global files, agent env) applied. */
function fromSshG(g: Map<string, string[]>, oracle: OpenSshOracle): Record<string, string | undefined> {
  // ssh.c clears a known_hosts list of `none` only after -G has printed it.
  const one = (key: string) => {
    const value = g.get(key)?.[0];
    return value === 'none' && key.endsWith('knownhostsfile') ? undefined : value;
  };
  const strict = one('stricthostkeychecking');
  return {
    user: one('user'),
    hostname: one('hostname'),
    port: one('port'),
    identitiesonly: one('identitiesonly'),
    proxyusefdpass: one('proxyusefdpass'),
    proxycommand: one('proxycommand'),
    userknownhostsfile: one('userknownhostsfile'),
    globalknownhostsfile: one('globalknownhostsfile')
      ?.split(' ')
      .map((f) => expandHome(f, oracle.home, oracle.user))
      .join(' '),
    stricthostkeychecking: strict === 'true' ? 'yes' : strict === 'false' ? 'no' : strict,
    hashknownhosts: one('hashknownhosts'),
    hostkeyalias: one('hostkeyalias'),
    serveraliveinterval: one('serveraliveinterval'),
    serveralivecountmax: one('serveralivecountmax'),
    connecttimeout: one('connecttimeout'),
  };
}

function agentFromSshG(printed: string | undefined): string | undefined {
  if (printed === undefined || printed === 'SSH_AUTH_SOCK') return ENV.SSH_AUTH_SOCK;
  if (printed === 'none') return undefined;
  const variable = /^\$(\w+)$/.exec(printed);
  return variable ? ENV[variable[1] as keyof typeof ENV] : printed;
}

describe.skipIf(unavailable !== undefined)(
  'ssh_config resolution equals ssh -G (OpenSSH on this machine)',
  () => {
    let oracle: OpenSshOracle;
    beforeAll(() => {
      oracle = new OpenSshOracle(ENV);
    });
    afterAll(() => oracle[Symbol.dispose]());

    for (const c of CORPUS) {
      it(c.name, () => {
        const dir = `.ssh/corpus-${CORPUS.indexOf(c)}`;
        for (const [path, text] of Object.entries(c.files ?? {})) oracle.write(path, text);
        const configFile = oracle.write(`${dir}/config`, c.config);
        const options = { homeDir: oracle.home, user: oracle.user, env: ENV, configPath: configFile };
        for (const host of c.hosts) {
          const g = oracle.settings(configFile, host);
          const mine = resolveSshHost(host, options);
          expect({ host, ...asSshG(mine) }).toEqual({ host, ...fromSshG(g, oracle) });
          expect({ host, agent: mine.identityAgent }).toEqual({
            host,
            agent: agentFromSshG(g.get('identityagent')?.[0]),
          });
          const jump = g.get('proxyjump')?.[0];
          expect({ host, jump: mine.proxyJump }).toEqual({
            host,
            jump: jump === undefined ? [] : jump.split(',').map((j) => parseDestination(j)),
          });
          const keys = oracle.keyFiles(configFile, host);
          const usable = mine.identityFilesExplicit
            ? keys.identity
            : keys.identity.filter((f) => /\/id_(rsa|ecdsa|ed25519)$/.test(f));
          expect({ host, identity: mine.identityFiles, certificate: mine.certificateFiles }).toEqual({
            host,
            identity: usable,
            certificate: keys.certificate,
          });
        }
      });
    }

    // Configs ssh refuses: fwd refuses them too (a config problem), never guesses or hangs.
    const REFUSED: [string, string, Record<string, string>?][] = [
      ['a bad port', 'Host *\n  Port abc\n'],
      ['a bad port in a block that does not apply', 'Host other\n  Port 0\n'],
      ['an unclosed quote', 'Host h\n  IdentityFile "~/.ssh/id\n'],
      ['a keyword without argument', 'Host h\n  User\n'],
      ['Match without criteria', 'Match\n  User x\n'],
      ['an unknown Match criterion', 'Match bogus x\n  User x\n'],
      ['Match all with more', 'Match all host x\n  User x\n'],
      ['none with other known_hosts files', 'UserKnownHostsFile none ~/.ssh/kh\n'],
      ['a bad StrictHostKeyChecking', 'StrictHostKeyChecking maybe\n'],
      ['a bad time', 'ConnectTimeout 5x\n'],
      ['a bad ProxyJump', 'ProxyJump a:b:c:99999\n'],
      ['an unknown HostName token', 'HostName %r.example\n'],
      [
        'an Include loop with fan-out',
        'Include loop-a loop-b\n',
        { '.ssh/loop-a': 'Include loop-a loop-b\n', '.ssh/loop-b': 'Include loop-b loop-a\n' },
      ],
    ];
    for (const [what, config, files] of REFUSED) {
      it(`refuses ${what}, as ssh does`, () => {
        for (const [path, text] of Object.entries(files ?? {})) oracle.write(path, text);
        const configFile = oracle.write(`.ssh/refused-${REFUSED.findIndex((r) => r[0] === what)}`, config);
        expect(oracle.refusal(configFile, 'h')).toBeDefined();
        const options = { homeDir: oracle.home, user: oracle.user, env: ENV, configPath: configFile };
        expect(() => resolveSshHost('h', options)).toThrow(SshConfigError);
      });
    }
  },
);
