import type { TunnelStatus } from '@fwd/core';
import { describe, expect, it } from 'vitest';
import { waitingNotes } from './start-daemon.js';

const tunnel = (name: string, state: TunnelStatus['state'], detail?: string): TunnelStatus =>
  ({ name, state, ...(detail ? { detail } : {}) }) as TunnelStatus;

describe('fwd up -d, started', () => {
  it('says which tunnels are waiting, and for what, when it counts them as started', () => {
    expect(
      waitingNotes([
        tunnel('web', 'up'),
        tunnel('notebook', 'waiting', 'job 4242 PENDING (Resources)'),
        tunnel('api', 'waiting'),
      ]),
    ).toEqual([
      'notebook is waiting (job 4242 PENDING (Resources)); `fwd ps` shows when it is up',
      'api is waiting; `fwd ps` shows when it is up',
    ]);
  });
});
