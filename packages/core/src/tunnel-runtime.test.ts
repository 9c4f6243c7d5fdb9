import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HostConnection } from './host-connection.js';
import type { GateContext, GateOpen, TunnelEnd, TunnelGate } from './tunnel-gate.js';
import { TunnelRuntime, type TunnelStatus } from './tunnel-runtime.js';

const local = () =>
  new HostConnection(
    { name: 'here', address: { host: 'localhost', port: 22 }, session: { username: 'alice' }, local: true },
    undefined,
  );

/** A gate the test opens by hand, with the context the runtime gave it. */
function manualGate() {
  let open!: (value: GateOpen) => void;
  let gotContext!: (ctx: GateContext) => void;
  const context = new Promise<GateContext>((resolve) => {
    gotContext = resolve;
  });
  const gate: TunnelGate = {
    open: (ctx) => {
      gotContext(ctx);
      return new Promise<GateOpen>((resolve) => {
        open = resolve;
      });
    },
  };
  return { gate, context, open: (value: GateOpen) => open(value) };
}

function statuses(tunnel: TunnelRuntime) {
  const seen: TunnelStatus[] = [];
  const waiters = new Set<{ test: (s: TunnelStatus) => boolean; resolve: (s: TunnelStatus) => void }>();
  tunnel.on('status', (s) => {
    seen.push(s);
    for (const w of [...waiters]) {
      if (!w.test(s)) continue;
      waiters.delete(w);
      w.resolve(s);
    }
  });
  return {
    seen,
    next: (test: (s: TunnelStatus) => boolean) =>
      new Promise<TunnelStatus>((resolve) => {
        const past = seen.find(test);
        if (past) resolve(past);
        else waiters.add({ test, resolve });
      }),
  };
}

describe('TunnelRuntime over a local host', () => {
  it('waits on its gate (not up) while the host, which needs no session, is up', async () => {
    const gate = manualGate();
    const tunnel = new TunnelRuntime(
      { name: 't', host: 'here', forwards: [], gate: gate.gate },
      local(),
      1_000,
    );
    const seen = statuses(tunnel);
    await tunnel.start();
    const ctx = await gate.context;
    expect(tunnel.status().state).toBe('waiting');
    ctx.progress('job 7 pending (Priority)');
    expect(tunnel.status()).toMatchObject({ state: 'waiting', detail: 'job 7 pending (Priority)' });
    await tunnel.close();
    expect(seen.seen.at(-1)?.state).toBe('stopped');
  });

  it("tells the gate where its forwards listen, and keeps the gate's later detail", async () => {
    const gate = manualGate();
    const host = local();
    const tunnel = new TunnelRuntime({ name: 't', host: 'here', forwards: [], gate: gate.gate }, host, 1_000);
    const seen = statuses(tunnel);
    await tunnel.start();
    const ctx = await gate.context;
    const listening = ctx.listening?.();
    let end!: (e: TunnelEnd) => void;
    gate.open({
      forwards: [
        { kind: 'local', bind: { host: '127.0.0.1', port: 0 }, target: { host: 'app', port: 8888 } },
      ],
      ended: new Promise((resolve) => {
        end = resolve;
      }),
      detail: 'job 7 on node1',
    });
    const forwards = await listening;
    const listen = forwards?.[0]?.listen ?? '';
    expect(listen).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(listen).not.toBe('127.0.0.1:0');
    // Something really listens there (the connection is then dropped: a local host has no session).
    const reached = await new Promise<string>((resolve) => {
      const socket = connect(Number(listen.split(':')[1]), '127.0.0.1', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(reached).not.toBe('ECONNREFUSED');
    ctx.progress('http://127.0.0.1:1/lab?token=x');
    await seen.next((s) => s.detail === 'http://127.0.0.1:1/lab?token=x');
    end({ ok: true, reason: 'job 7 COMPLETED' });
    expect(await seen.next((s) => s.state === 'ended')).toMatchObject({ detail: 'job 7 COMPLETED' });
    await tunnel.close();
    await host.close();
  });
});
