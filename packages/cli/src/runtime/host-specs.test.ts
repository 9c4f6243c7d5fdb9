import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPlan, loadConfig } from '../config/index.js';
import { sshConfigHostNames } from '../config/ssh-config.js';
import { supervisorSpecFromPlan } from './host-specs.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'fwd-host-specs-'));
  mkdirSync(join(home, '.ssh'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const blob = () => {
  const part = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([part(Buffer.from('ssh-ed25519')), part(randomBytes(32))]);
};

/** The HostSpecs `fwd up` would run for one tunnel to `host` under this ~/.ssh/config. */
async function specsFor(host: string, sshConfig: string) {
  writeFileSync(join(home, '.ssh/config'), sshConfig);
  const ssh = { homeDir: home, user: 'alice', env: {} };
  const yaml = `version: 1\ntunnels:\n  t: { host: ${host}, dynamic: 1080 }\n`;
  const { config } = loadConfig(yaml, 'tunnels.yaml', {}, { knownSshHosts: sshConfigHostNames(ssh) });
  const { plan } = buildPlan(config ?? expect.fail('no config'), ssh);
  const warnings: string[] = [];
  const spec = await supervisorSpecFromPlan(plan ?? expect.fail('no plan'), {
    prompter: { interactive: false, ask: async () => undefined },
    warn: (m) => warnings.push(m),
  });
  return { spec, warnings };
}

describe('host specs: known_hosts wiring', () => {
  it('never records into a global file: UserKnownHostsFile none + accept-new records nothing and says so (issue 17.5)', async () => {
    const global = join(home, 'ssh_known_hosts');
    writeFileSync(global, '');
    const { spec, warnings } = await specsFor(
      'h',
      `Host h\n  UserKnownHostsFile none\n  GlobalKnownHostsFile ${global}\n  StrictHostKeyChecking accept-new\n`,
    );
    expect(warnings).toEqual([
      expect.stringMatching(/^host key of h is not verified: .*UserKnownHostsFile none/),
    ]);
    await spec.hosts[0]?.session.hostKeys?.verify('h', 22, blob());
    expect(readFileSync(global, 'utf8')).toBe('');
    expect(warnings[1]).toMatch(/^accepted the unknown host key of h .* without recording it/);
  });

  it('records hashed into the first user file with HashKnownHosts, under HostKeyAlias', async () => {
    const { spec } = await specsFor(
      'h',
      'Host h\n  HostName 10.0.0.9\n  Port 2222\n  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n  HostKeyAlias Alias-H\n',
    );
    await spec.hosts[0]?.session.hostKeys?.verify('10.0.0.9', 2222, blob());
    const text = readFileSync(join(home, '.ssh/known_hosts'), 'utf8');
    expect(text).toMatch(/^\|1\|/);
    expect(spec.hosts[0]?.session).toMatchObject({ keepaliveMs: 15_000, keepaliveCountMax: 3 });
  });
});

describe('host specs: authentication settings from ~/.ssh/config', () => {
  it('passes IdentitiesOnly on, so only the configured keys of the agent are offered', async () => {
    const only = await specsFor(
      'a',
      'Host a\n  HostName a.example\n  IdentitiesOnly yes\n  IdentityAgent /tmp/agent.sock\n',
    );
    expect(only.spec.hosts[0]?.session).toMatchObject({ identitiesOnly: true, agent: '/tmp/agent.sock' });
    const all = await specsFor('b', 'Host b\n  HostName b.example\n  IdentityAgent /tmp/agent.sock\n');
    expect(all.spec.hosts[0]?.session.identitiesOnly).toBeUndefined();
  });
});

describe('host specs: tunnels', () => {
  it("passes hold: on to the tunnel (a Slurm tunnel's own timeout does not override it)", async () => {
    const ssh = { homeDir: home, user: 'alice', env: {} };
    const yaml =
      'version: 1\ntunnels:\n  t: { host: h.example, local: "8888:localhost:8888", hold: 90s }\n' +
      '  s: { host: h.example, local: "8889:{node}:8888", slurm: { job: 42, timeout: 5m }, hold: 20s }\n' +
      '  u: { host: h.example, local: "8890:{node}:8888", slurm: { job: 43, timeout: 5m } }\n';
    const { config } = loadConfig(yaml, 'tunnels.yaml', {}, { knownSshHosts: () => true });
    const { plan } = buildPlan(config ?? expect.fail('no config'), ssh);
    const spec = await supervisorSpecFromPlan(plan ?? expect.fail('no plan'), {
      prompter: { interactive: false, ask: async () => undefined },
      warn: () => undefined,
    });
    expect(spec.tunnels.map((t) => [t.name, t.holdMs])).toEqual([
      ['t', 90_000],
      ['s', 20_000],
      ['u', 300_000],
    ]);
  });
});
