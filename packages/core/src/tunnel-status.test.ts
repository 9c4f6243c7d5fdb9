import { describe, expect, it } from 'vitest';
import {
  deriveTunnelState,
  forwardStatus,
  reportKey,
  type StateInputs,
  sumStats,
  tunnelDetail,
} from './tunnel-status.js';

const base: StateInputs = {
  ended: false,
  stopped: false,
  failed: false,
  opened: true,
  route: 'up',
  remotesMissing: 0,
  remoteRefused: false,
  readyPending: false,
};
const state = (over: Partial<StateInputs>) => deriveTunnelState({ ...base, ...over });

describe('deriveTunnelState', () => {
  it('is up when everything is there, and ended / stopped / failed win in that order', () => {
    expect(state({})).toBe('up');
    expect(state({ ended: true, stopped: true, failed: true })).toBe('ended');
    expect(state({ stopped: true, failed: true })).toBe('stopped');
    expect(state({ failed: true, route: 'reconnecting' })).toBe('failed');
  });

  it('follows its route while open: connecting, reconnecting, a closed route is stopped', () => {
    expect(state({ route: 'connecting' })).toBe('connecting');
    expect(state({ route: 'reconnecting' })).toBe('reconnecting');
    expect(state({ route: 'closed' })).toBe('stopped');
    expect(state({ route: undefined })).toBe('connecting');
  });

  it('waits before its gate opens once the host (if any) is up, and shows the host otherwise', () => {
    expect(state({ opened: false, route: undefined })).toBe('waiting');
    expect(state({ opened: false, route: 'up' })).toBe('waiting');
    expect(state({ opened: false, route: 'connecting' })).toBe('connecting');
    expect(state({ opened: false, route: 'reconnecting' })).toBe('reconnecting');
  });

  it('is connecting until its -R forwards are granted, reconnecting while the server refuses', () => {
    expect(state({ remotesMissing: 1 })).toBe('connecting');
    expect(state({ remotesMissing: 1, remoteRefused: true })).toBe('reconnecting');
  });

  it('waits for a pending ready check', () => {
    expect(state({ readyPending: true })).toBe('waiting');
  });
});

describe('tunnelDetail', () => {
  it("shows how it ended, else what the ready check waits for, else the gate's latest line", () => {
    const end = { ok: false, reason: 'job 7 TIMEOUT' };
    expect(tunnelDetail({ end, readyLine: 'r', gateLine: 'g' })).toBe('job 7 TIMEOUT');
    expect(tunnelDetail({ end: undefined, readyLine: 'r', gateLine: 'g' })).toBe('r');
    expect(tunnelDetail({ end: undefined, readyLine: undefined, gateLine: 'g' })).toBe('g');
    expect(tunnelDetail({ end: undefined, readyLine: undefined, gateLine: undefined })).toBeUndefined();
  });
});

describe('forwardStatus', () => {
  it('shows the bound address once known, the bind as written before, and remote listens on the server', () => {
    const local = { kind: 'local', bind: { port: 0 }, target: { host: '{node}', port: 8888 } } as const;
    expect(forwardStatus(local, { bound: undefined, remote: undefined })).toEqual({
      kind: 'local',
      listen: '127.0.0.1:0',
      target: '{node}:8888',
    });
    expect(forwardStatus(local, { bound: '127.0.0.1:40001', remote: undefined }).listen).toBe(
      '127.0.0.1:40001',
    );
    const remote = { kind: 'remote', bind: { port: 0 }, target: { path: '/run/app.sock' } } as const;
    expect(forwardStatus(remote, { bound: undefined, remote: undefined })).toEqual({
      kind: 'remote',
      listen: 'localhost:0 (server)',
      target: '/run/app.sock',
    });
    expect(forwardStatus(remote, { bound: undefined, remote: 'localhost:41234 (server)' }).listen).toBe(
      'localhost:41234 (server)',
    );
    expect(
      forwardStatus(
        { kind: 'dynamic', bind: { host: '::1', port: 1080 } },
        { bound: undefined, remote: undefined },
      ),
    ).toEqual({
      kind: 'dynamic',
      listen: '[::1]:1080',
      target: 'SOCKS',
    });
  });
});

describe('reportKey and sumStats', () => {
  it('changes with what users see, not with counters', () => {
    const status = {
      name: 't',
      host: 'h',
      state: 'up' as const,
      detail: undefined,
      forwards: [],
      lastError: undefined,
      ended: undefined,
      since: 1,
      reconnects: 0,
      connectionsWaiting: 0,
      facts: undefined,
      ...sumStats([]),
    };
    const key = reportKey(status);
    expect(reportKey({ ...status, bytesToRemote: 99, since: 2 })).toBe(key);
    expect(reportKey({ ...status, connectionsWaiting: 1 })).not.toBe(key);
    expect(reportKey({ ...status, facts: { endsAt: 'x' } })).not.toBe(key);
  });

  it('adds the figures of several forwards', () => {
    const one = {
      bytesToRemote: 1,
      bytesFromRemote: 2,
      connectionsOpen: 1,
      connectionsTotal: 3,
      connectionErrors: 0,
    };
    expect(sumStats([one, one])).toEqual({
      bytesToRemote: 2,
      bytesFromRemote: 4,
      connectionsOpen: 2,
      connectionsTotal: 6,
      connectionErrors: 0,
    });
  });
});
