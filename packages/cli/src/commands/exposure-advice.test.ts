import { describe, expect, it } from 'vitest';
import { planFromArgs } from '../config/index.js';
import { adviseOnExposure, metricsExposure } from './exposure-advice.js';

const ssh = { homeDir: '/nonexistent', user: 'alice', env: {}, configText: '' };

function planOf(args: { local?: string[]; remote?: string[]; dynamic?: string[] }) {
  const { plan, problems } = planFromArgs(
    { destination: 'alice@login.example.edu', local: [], remote: [], dynamic: [], ...args },
    ssh,
  );
  if (!plan) throw new Error(problems.map((p) => p.message).join('; '));
  return plan;
}

describe('adviseOnExposure', () => {
  it('says nothing of the loopback default, loopback addresses or socket paths', () => {
    const plan = planOf({
      local: ['8888:localhost:8888', '127.0.0.2:8889:localhost:8888', '[::1]:8890:x:1', '/tmp/s.sock:x:1'],
      dynamic: ['1080', 'localhost:1081'],
      remote: ['3000:localhost:3000', 'localhost:3001:localhost:3000'],
    });
    expect(adviseOnExposure(plan)).toEqual([]);
  });

  it('names who can reach a forward on 0.0.0.0, *, [::] or a LAN address, and what they get', () => {
    const warnings = adviseOnExposure(
      planOf({
        local: ['0.0.0.0:8888:localhost:8888', '192.168.1.5:9000:db:5432'],
        dynamic: ['*:1080', '[::]:1081'],
        remote: ['0.0.0.0:3000:localhost:3000'],
      }),
    );
    expect(warnings).toHaveLength(5);
    const about = (text: string) => warnings.find((w) => w.includes(text)) ?? '';
    expect(about('0.0.0.0:8888')).toMatch(
      /^tunnel login\.example\.edu: 0\.0\.0\.0:8888 is open to every machine that can reach this one: they reach localhost:8888 through your SSH session, with no password/,
    );
    expect(about('192.168.1.5')).toContain(
      '192.168.1.5:9000 is open to every machine on the network of 192.168.1.5',
    );
    expect(about('*:1080')).toMatch(
      /SOCKS proxy on \*:1080 has no authentication.*connect anywhere login\.example\.edu can, as you/,
    );
    expect(about('1081')).toContain('SOCKS proxy on [::]:1081');
    expect(about('3000')).toContain(
      'login.example.edu listens on 0.0.0.0:3000 for every machine that can reach login.example.edu (if its GatewayPorts allows)',
    );
  });

  it('warns about --metrics beyond loopback', () => {
    expect(metricsExposure({ host: '127.0.0.1', port: 9464 })).toBeUndefined();
    expect(metricsExposure({ host: '0.0.0.0', port: 9464 })).toContain(
      'shows tunnel names, hosts, states and traffic to every machine that can reach this one',
    );
  });
});
