import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan, loadConfig, type Plan, sshConfigHostNames } from '../config/index.js';
import { hostSettings, planChanges } from './plan-changes.js';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'fwd-changes-'));
  mkdirSync(join(home, '.ssh'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A plan from a tunnels.yaml and a ~/.ssh/config, as fwd up builds it. */
function plan(yaml: string, sshConfig = ''): Plan {
  writeFileSync(join(home, '.ssh/config'), sshConfig);
  const ssh = { homeDir: home, user: 'alice', env: {} };
  const { config, problems } = loadConfig(
    yaml,
    'tunnels.yaml',
    {},
    { knownSshHosts: sshConfigHostNames(ssh) },
  );
  if (!config) throw new Error(JSON.stringify(problems));
  const built = buildPlan(config, ssh);
  if (!built.plan) throw new Error(JSON.stringify(built.problems));
  return built.plan;
}

const base = `version: 1
hosts:
  bastion: { host: gw.example.edu }
  cluster: { host: login.example.edu, jump: bastion }
  other: { host: other.example.edu }
tunnels:
  web: { host: cluster, local: "8080:localhost:80" }
  notebook: { host: cluster, local: "8888:localhost:8888" }
  db: { host: other, local: "5432:localhost:5432" }
`;

describe('planChanges', () => {
  it('finds nothing to do in the same file', () => {
    expect(planChanges(plan(base), plan(base))).toEqual({
      added: [],
      removed: [],
      changed: [],
      hosts: [],
      withHost: [],
    });
  });

  it('starts what was added, stops what was removed, restarts only the tunnel that changed', () => {
    const next = base
      .replace(
        '  db: { host: other, local: "5432:localhost:5432" }\n',
        '  api: { host: other, local: "9000:localhost:9000" }\n',
      )
      .replace('8888:localhost:8888', '8889:localhost:8888');
    expect(planChanges(plan(base), plan(next))).toEqual({
      added: ['api'],
      removed: ['db'],
      changed: ['notebook'],
      hosts: [],
      withHost: [],
    });
  });

  it('a tunnel moved to another host is changed; a host whose settings changed renews its connection and its tunnels', () => {
    const moved = base.replace('web: { host: cluster', 'web: { host: other');
    expect(planChanges(plan(base), plan(moved)).changed).toEqual(['web']);
    const user = base.replace(
      'cluster: { host: login.example.edu,',
      'cluster: { host: login.example.edu, user: bob,',
    );
    expect(planChanges(plan(base), plan(user))).toMatchObject({
      changed: [],
      hosts: ['cluster'],
      withHost: ['web', 'notebook'],
    });
  });

  it('a jump host that changed renews the connections through it, by the names the supervisor uses', () => {
    const jump = base.replace('bastion: { host: gw.example.edu }', 'bastion: { host: gw2.example.edu }');
    const changes = planChanges(plan(base), plan(jump));
    expect(changes.hosts).toEqual(['bastion', 'cluster']);
    expect(changes.withHost).toEqual(['web', 'notebook']);
    expect([...hostSettings(plan(base)).keys()]).toEqual(['bastion', 'cluster', 'other']);
  });

  it('sees a change in ~/.ssh/config, not only in the file', () => {
    const yaml = 'version: 1\ntunnels:\n  web: { host: login, local: "8080:localhost:80" }\n';
    const before = plan(yaml, 'Host login\n  HostName 10.0.0.1\n');
    const after = plan(yaml, 'Host login\n  HostName 10.0.0.1\n  Port 2222\n');
    expect(planChanges(before, after)).toMatchObject({ changed: [], hosts: ['login'], withHost: ['web'] });
  });
});
