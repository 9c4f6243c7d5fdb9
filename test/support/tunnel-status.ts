import type { TunnelStatus } from '@fwd/core';

/** A tunnel status for renderer and metrics tests: up, one idle TCP forward, no error. */
export function tunnelStatus(over: Partial<TunnelStatus> = {}): TunnelStatus {
  return {
    name: 'notebook',
    host: 'cluster',
    state: 'up',
    detail: undefined,
    forwards: [{ kind: 'local', listen: '127.0.0.1:8888', target: 'localhost:8888' }],
    lastError: undefined,
    ended: undefined,
    since: 0,
    reconnects: 0,
    connectionsOpen: 0,
    connectionsTotal: 0,
    connectionErrors: 0,
    connectionsWaiting: 0,
    bytesToRemote: 0,
    bytesFromRemote: 0,
    facts: undefined,
    ...over,
  };
}
