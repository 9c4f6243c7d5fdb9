import type { HostStatus, TunnelStatus } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { tunnelStatus } from '../../../../test/support/tunnel-status.js';
import { prometheusText } from './prometheus.js';

const tunnel = (over: Partial<TunnelStatus>): TunnelStatus =>
  tunnelStatus({
    name: 'nb',
    forwards: [],
    connectionsOpen: 1,
    connectionsTotal: 7,
    connectionErrors: 2,
    bytesToRemote: 100,
    bytesFromRemote: 200,
    ...over,
  });

describe('prometheusText', () => {
  it('exposes state one-hot, counters, last error and host reconnects', () => {
    const hosts: HostStatus[] = [
      { name: 'cluster', state: 'up', lastError: undefined, retryAt: undefined, reconnects: 3 },
    ];
    const text = prometheusText(
      [
        tunnel({}),
        tunnel({
          name: 'we"ird',
          state: 'reconnecting',
          lastError: { code: 'KEEPALIVE_TIMEOUT', message: 'x' },
        }),
      ],
      hosts,
    );
    expect(text).toContain('# TYPE fwd_tunnel_bytes_total counter');
    expect(text).toContain('fwd_tunnel_up{tunnel="nb"} 1');
    expect(text).toContain('fwd_tunnel_state{tunnel="nb",state="up"} 1');
    expect(text).toContain('fwd_tunnel_state{tunnel="nb",state="failed"} 0');
    expect(text).toContain('fwd_tunnel_bytes_total{tunnel="nb",direction="from_remote"} 200');
    expect(text).toContain('fwd_tunnel_connection_errors_total{tunnel="nb"} 2');
    expect(text).toContain('fwd_tunnel_last_error{tunnel="we\\"ird",code="KEEPALIVE_TIMEOUT"} 1');
    expect(text).toContain('fwd_host_reconnects_total{host="cluster"} 3');
    expect(text.endsWith('\n')).toBe(true);
  });
});
