import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FwdError } from './errors.js';
import { HostConnection } from './host-connection.js';
import type { GateContext, GateOpen, TunnelEnd, TunnelGate, TunnelNotice } from './tunnel-gate.js';
import { TunnelRuntime } from './tunnel-runtime.js';
import type { TunnelStatus } from './tunnel-status.js';

/** A gate the test opens (or fails) by hand, with the context the runtime gave it. */
function manualGate() {
  let settle!: { open: (value: GateOpen) => void; fail: (err: Error) => void };
  let gotContext!: (ctx: GateContext) => void;
  const context = new Promise<GateContext>((resolve) => {
    gotContext = resolve;
  });
  const gate: TunnelGate = {
    open: (ctx) => {
      gotContext(ctx);
      return new Promise<GateOpen>((resolve, reject) => {
        settle = { open: resolve, fail: reject };
      });
    },
  };
  return { gate, context, open: (v: GateOpen) => settle.open(v), fail: (e: Error) => settle.fail(e) };
}

/** Every status and notice a tunnel emits, and a way to wait for one. */
function watch(tunnel: TunnelRuntime) {
  const seen: TunnelStatus[] = [];
  const notices: TunnelNotice[] = [];
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  tunnel.on('status', (s) => {
    seen.push(s);
    poke();
  });
  tunnel.on('notice', (n) => {
    notices.push(n);
    poke();
  });
  const until = <T>(find: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return {
    seen,
    notices,
    status: (test: (s: TunnelStatus) => boolean) => until(() => seen.find(test)),
    notice: () => until(() => notices[0]),
  };
}

const hostless = (gate: TunnelGate, forwards: TunnelRuntime['spec']['forwards'] = []) =>
  new TunnelRuntime({ name: 't', host: 'here', forwards, gate }, undefined);

function connectTo(listen: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(listen.split(':')[1]), '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A hostless tunnel with a `-L` forward behind a manual gate, started, and a client connected to it. */
async function gatedWithClient() {
  const gate = manualGate();
  const tunnel = hostless(gate.gate, [
    { kind: 'local', bind: { host: '127.0.0.1', port: 0 }, target: { host: '{node}', port: 8888 } },
  ]);
  const seen = watch(tunnel);
  await tunnel.start();
  const socket = await connectTo(tunnel.status().forwards[0]?.listen ?? '');
  return { gate, tunnel, seen, socket };
}

describe('TunnelRuntime without a host session of its own', () => {
  it('waits on its gate, shows its progress and facts, and ends stopped', async () => {
    const gate = manualGate();
    const tunnel = hostless(gate.gate);
    const seen = watch(tunnel);
    await tunnel.start();
    const ctx = await gate.context;
    expect(tunnel.status().state).toBe('waiting');
    ctx.progress('job 7 pending (Priority)', { job: '7', endsAt: '2026-12-07T18:00:00Z' });
    expect(tunnel.status()).toMatchObject({
      state: 'waiting',
      detail: 'job 7 pending (Priority)',
      facts: { job: '7' },
    });
    await expect(ctx.acquire()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    ctx.notice('warn', 'job 7 ends in 10 min', { timeLeft: 600 });
    expect(await seen.notice()).toEqual({
      tunnel: 't',
      level: 'warn',
      message: 'job 7 ends in 10 min',
      facts: { timeLeft: 600 },
    });
    await tunnel.close();
    await tunnel.close();
    expect(seen.seen.at(-1)?.state).toBe('stopped');
  });

  it('binds its listeners at start, keeps them when the gate opens, and closes held connections when it ends', async () => {
    const gate = manualGate();
    const early = {
      kind: 'local',
      bind: { host: '127.0.0.1', port: 0 },
      target: { host: '{node}', port: 8888 },
    } as const;
    const tunnel = hostless(gate.gate, [early]);
    const seen = watch(tunnel);
    await tunnel.start();
    const listen = tunnel.status().forwards[0]?.listen ?? '';
    expect(listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(tunnel.status().forwards[0]?.target).toBe('{node}:8888');
    const socket = await connectTo(listen);
    await seen.status((s) => s.connectionsWaiting === 1);
    const ctx = await gate.context;
    const listening = ctx.listening?.();
    // A route that never comes up (nothing listens on port 1): the connection stays held.
    const via = new HostConnection(
      { name: 'node1', address: { host: '127.0.0.1', port: 1 }, session: { username: 'alice' } },
      undefined,
    );
    let end!: (e: TunnelEnd) => void;
    gate.open({
      forwards: [{ ...early, target: { host: 'node1', port: 8888 } }],
      ended: new Promise((resolve) => {
        end = resolve;
      }),
      via,
      detail: 'job 7 on node1',
    });
    expect(await listening).toEqual([{ kind: 'local', listen, target: 'node1:8888' }]);
    expect(tunnel.status()).toMatchObject({
      state: 'connecting',
      connectionsWaiting: 1,
      detail: 'job 7 on node1',
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    end({ ok: false, reason: 'job 7 TIMEOUT' });
    expect(await seen.status((s) => s.state === 'ended')).toMatchObject({ detail: 'job 7 TIMEOUT' });
    await closed;
    expect((await seen.notice()).message).toBe('closed 1 waiting connection: t ended: job 7 TIMEOUT');
    await tunnel.close();
    await via.close();
  });

  it('holds a connection made while the gate is pending, then closes it with the reason when the gate fails', async () => {
    const { gate, tunnel, seen, socket } = await gatedWithClient();
    const closed = new Promise<string>((resolve) => {
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      socket.once('close', () => resolve('closed'));
    });
    await seen.status((s) => s.connectionsWaiting === 1);
    gate.fail(new FwdError('SLURM_JOB_ENDED', 'job 7 FAILED (NonZeroExitCode)'));
    expect(await closed).toMatch(/ECONNRESET|closed/);
    expect(await seen.notice()).toMatchObject({
      level: 'warn',
      message: 'closed 1 waiting connection: job 7 FAILED (NonZeroExitCode)',
    });
    expect(tunnel.status()).toMatchObject({ state: 'failed', connectionsWaiting: 0, connectionErrors: 1 });
    await tunnel.close();
  });

  it('answers a held HTTP request with a 503 carrying the reason when the gate fails', async () => {
    const { gate, tunnel, seen, socket } = await gatedWithClient();
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<void>((resolve, reject) => {
      socket.once('end', resolve);
      socket.once('error', reject);
    });
    socket.write('GET /lab HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await seen.status((s) => s.connectionsWaiting === 1);
    // The tunnel then closes its listener too: the answer must come before that drops the socket.
    gate.fail(new FwdError('SLURM_JOB_ENDED', 'job 7 FAILED (NonZeroExitCode)'));
    await ended;
    const reply = Buffer.concat(chunks).toString();
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 503 Service Unavailable');
    expect(reply.endsWith('\r\n\r\nfwd: job 7 FAILED (NonZeroExitCode) (SLURM_JOB_ENDED)\n')).toBe(true);
    socket.destroy();
    await tunnel.close();
  });

  it('fails at start, without opening its gate, when a listener cannot be bound', async () => {
    const gate = manualGate();
    let opened = false;
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const watched: TunnelGate = {
      open: (ctx) => {
        opened = true;
        return gate.gate.open(ctx);
      },
    };
    const tunnel = hostless(watched, [
      { kind: 'local', bind: { host: '127.0.0.1', port }, target: { host: 'x', port: 1 } },
    ]);
    await tunnel.start();
    expect(tunnel.status()).toMatchObject({ state: 'failed', lastError: { code: 'BIND_IN_USE' } });
    expect(opened).toBe(false);
    await tunnel.close();
    blocker.close();
  });
});
