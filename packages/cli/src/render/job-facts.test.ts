import { describe, expect, it } from 'vitest';
import { tunnelStatus } from '../../../../test/support/tunnel-status.js';
import { urlOf } from './http-urls.js';
import { timeLeftOf, withJobFacts } from './job-facts.js';

describe('withJobFacts', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  const decorate = withJobFacts(
    (s) => s,
    () => now,
  );

  it('puts the tokenised URL on the forward listening on its port (NDJSON, fwd ps --json, the table)', () => {
    const status = tunnelStatus({
      forwards: [
        { kind: 'local', listen: '127.0.0.1:40001', target: '/home/alice/.jupyter/fwd-7.sock' },
        { kind: 'local', listen: '127.0.0.1:40002', target: 'node1:6006' },
      ],
      facts: { job: '7', node: 'node1', url: 'http://127.0.0.1:40001/lab?token=abc' },
    });
    const shown = decorate(status);
    expect(shown.forwards.map(urlOf)).toEqual(['http://127.0.0.1:40001/lab?token=abc', undefined]);
  });

  it('counts timeLeft down to now from endsAt; leaves tunnels without facts alone', () => {
    const status = tunnelStatus({ facts: { job: '7', endsAt: '2026-11-23T13:00:00.000Z', timeLeft: 9_999 } });
    expect(decorate(status).facts).toEqual({ job: '7', endsAt: '2026-11-23T13:00:00.000Z', timeLeft: 3_600 });
    expect(timeLeftOf(status, now + 3_700_000)).toBe(0);
    const plain = tunnelStatus();
    expect(decorate(plain)).toBe(plain);
  });
});
