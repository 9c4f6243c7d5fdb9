import { describe, expect, it } from 'vitest';
import { FwdError } from './errors.js';
import { HostConnection, type HostStatus } from './host-connection.js';

const localSpec = {
  name: 'here',
  address: { host: 'localhost', port: 22 },
  session: { username: 'alice' },
  local: true,
};

describe('HostConnection of a local host', () => {
  it('is up at once, has no session, and refuses to hand one out', async () => {
    const host = new HostConnection(localSpec, undefined);
    const seen: HostStatus[] = [];
    host.on('status', (s) => seen.push(s));
    host.start();
    host.start();
    expect(seen.map((s) => s.state)).toEqual(['up']);
    expect(host.session).toBeUndefined();
    const refused = await host.acquire(1_000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FwdError);
    expect(refused).toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('here is this machine'),
    });
    await host.close();
    expect(host.status.state).toBe('closed');
  });
});
