import { describe, expect, it } from 'vitest';
import { type ForwardFlag, type Plan, type PlanTunnel, parseForward } from '../config/index.js';
import { adviseOnPorts, BAD_PORTS, type BindRights, nextGoodPort } from './port-advice.js';

function tunnel(name: string, flag: ForwardFlag, spec: string): PlanTunnel {
  const parsed = parseForward(flag, spec);
  if (!parsed.ok) throw new Error(parsed.error);
  return { name, host: 'cluster', forwards: [parsed.value] };
}

const plan = (...tunnels: PlanTunnel[]): Plan => ({ hosts: [], tunnels });
const user: BindRights = { anyPort: false, unprivilegedPortStart: 1024 };
const root: BindRights = { anyPort: true, unprivilegedPortStart: 1024 };

describe('the bad-ports list', () => {
  it('is the Fetch standard table: 0, the low services, and the high ones browsers refuse', () => {
    expect(BAD_PORTS.size).toBe(83);
    for (const port of [0, 1, 22, 25, 69, 137, 161, 554, 1719, 1720, 1723, 2049, 4190, 5060, 5061, 6000]) {
      expect(BAD_PORTS.has(port)).toBe(true);
    }
    for (const port of [6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080])
      expect(BAD_PORTS.has(port)).toBe(true);
    expect(BAD_PORTS.get(6000)).toBe('x11');
    expect(BAD_PORTS.get(10080)).toBe('amanda');
    for (const port of [80, 443, 3000, 6006, 6664, 6670, 8080, 8888, 10079, 10081])
      expect(BAD_PORTS.has(port)).toBe(false);
  });

  it('suggests the next port browsers accept', () => {
    expect(nextGoodPort(6000)).toBe(6001);
    expect(nextGoodPort(6665)).toBe(6670);
    expect(nextGoodPort(10080)).toBe(10081);
  });
});

describe('adviseOnPorts', () => {
  it('warns about a local port browsers refuse, saying why and what to use instead', () => {
    const advice = adviseOnPorts(plan(tunnel('x', 'local', '6667:localhost:8888')), root);
    expect(advice.denied).toEqual([]);
    expect(advice.warnings).toEqual([
      'tunnel x: browsers refuse http://localhost:6667 without saying why (port 6667, ircu, is on the Fetch standard\'s "bad ports" list: Chrome shows ERR_UNSAFE_PORT); to open it in a browser, pick another local port, e.g. local: 6670:localhost:8888',
    ]);
  });

  it('keeps a non-default bind address in the suggestion', () => {
    const advice = adviseOnPorts(plan(tunnel('x', 'local', '0.0.0.0:6000:localhost:80')), root);
    expect(advice.warnings[0]).toMatch(/e\.g\. local: 0\.0\.0\.0:6001:localhost:80$/);
  });

  it('says nothing about good ports, port 0, unix sockets, SOCKS or remote forwards', () => {
    const advice = adviseOnPorts(
      plan(
        tunnel('a', 'local', '8888:localhost:8888'),
        tunnel('b', 'local', '0:localhost:6000'),
        tunnel('c', 'local', '/tmp/x.sock:localhost:6000'),
        tunnel('d', 'dynamic', '6000'),
        tunnel('e', 'remote', '6000:localhost:22'),
      ),
      user,
    );
    expect(advice).toEqual({ warnings: [], denied: [] });
  });

  it('refuses a privileged local port this user cannot bind, with a port that works', () => {
    const advice = adviseOnPorts(
      plan(tunnel('web', 'local', '80:localhost:80'), tunnel('s', 'dynamic', '1080')),
      user,
    );
    expect(advice.denied).toEqual([
      'tunnel web: local port 80 is privileged here: only root (or a program with CAP_NET_BIND_SERVICE) may listen below 1024; use a higher local port, e.g. local: 8080:localhost:80',
    ]);
    expect(adviseOnPorts(plan(tunnel('s', 'dynamic', '1023')), user).denied[0]).toMatch(
      /e\.g\. dynamic: 9023$/,
    );
  });

  it('lets root, a capable process or a lowered ip_unprivileged_port_start bind low ports', () => {
    const low = plan(tunnel('web', 'local', '80:localhost:80'));
    expect(adviseOnPorts(low, root).denied).toEqual([]);
    expect(adviseOnPorts(low, { anyPort: false, unprivilegedPortStart: 0 }).denied).toEqual([]);
    expect(adviseOnPorts(low, { anyPort: false, unprivilegedPortStart: 80 }).denied).toEqual([]);
  });

  it('reports a privileged bad port both ways', () => {
    const advice = adviseOnPorts(plan(tunnel('ssh', 'local', '22:localhost:22')), user);
    expect(advice.denied).toHaveLength(1);
    expect(advice.warnings).toHaveLength(1);
  });
});
