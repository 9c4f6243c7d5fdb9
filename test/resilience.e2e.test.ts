import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { DEFAULTS } from '@fwd/core';
import { afterEach, describe, expect, it } from 'vitest';
import { skipWithoutDocker } from './support/docker.js';
import { answersSsh, docker, freePort, openFds, rssBytes } from './support/faults.js';
import { type FwdEvent, type FwdProcess, inState, listenAddress, startFwd } from './support/fwd-cli.js';
import { heapUsedAfterGc, INSPECT_ENV, withoutInspectorLines } from './support/heap-probe.js';
import { newKeyPair } from './support/keys.js';
import { echo, openSocket, readAll, uploadToSink } from './support/net-client.js';
import { sshHome } from './support/ssh-home.js';
import { startSshd } from './support/sshd.js';
import { waitFor } from './support/wait.js';

const cleanups: Array<() => PromiseLike<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An sshd on a fixed 127.0.0.1 port (so a restart comes back on the same address) and fwd up on it. */
async function rig(tunnelsYaml: string, options: { keepalive?: string; env?: Record<string, string> } = {}) {
  const port = await freePort();
  const hostKey = newKeyPair();
  const sshd = await startSshd({ hostPort: port, hostKey });
  // Some tests remove the container themselves.
  cleanups.push(() => Promise.resolve(sshd[Symbol.asyncDispose]()).catch(() => undefined));
  const home = await sshHome(sshd, `Host login\n  HostName 127.0.0.1\n  Port ${port}\n  User alice\n`);
  cleanups.push(() => home[Symbol.asyncDispose]());
  const file = await home.write(
    'tunnels.yaml',
    `version: 1\ndefaults:\n  keepalive: ${options.keepalive ?? '1s'}\n  reconnect: { initial: 250ms, max: 30s }\ntunnels:\n${tunnelsYaml}`,
  );
  const fwd = startFwd(['up', file, '--json', '--stats-interval', '250ms'], {
    home: home.dir,
    ...(options.env ? { env: options.env } : {}),
  });
  cleanups.push(() => fwd[Symbol.asyncDispose]());
  return { sshd, home, fwd, port, id: sshd.container.getId() };
}

/** Waits for an event that comes after the `from`-th event (events before it do not count). */
function nextEvent(fwd: FwdProcess, from: number, predicate: (e: FwdEvent) => boolean, timeoutMs?: number) {
  let index = 0;
  return fwd.waitForEvent((e) => index++ >= from && predicate(e), timeoutMs);
}

describe.skipIf(skipWithoutDocker)('resilience (fault injection against real containers)', () => {
  it('survives an sshd restart: the port stays bound, waiting connections proceed, back within one handshake after sshd answers', async () => {
    const { fwd, id, port } = await rig(
      '  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n  sink: { host: login, local: "0:127.0.0.1:7002" }\n',
    );
    const up = await fwd.waitForEvent(inState('echo-svc', 'up'));
    const sinkUp = await fwd.waitForEvent(inState('sink', 'up'));
    const local = listenAddress(up);

    // An idle connection open when the session dies is closed promptly, not left half-open.
    const idle = await openSocket(local);
    const idleClosed = new Promise<void>((resolve) => {
      idle.on('error', () => resolve());
      idle.once('end', () => resolve());
      idle.once('close', () => resolve());
    });

    const mark = fwd.events.length;
    docker('stop', '-t', '2', id);
    await nextEvent(fwd, mark, inState('echo-svc', 'reconnecting'));
    await idleClosed;

    // During the outage the local port still accepts; this connection waits for the session.
    const early = await openSocket(local);
    const earlyReply = readAll(early);
    early.write('sent during the outage');

    const afterStop = fwd.events.length;
    docker('start', id);
    await waitFor(() => answersSsh(port), {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: 'sshd to answer again',
    });
    const answeredAt = Date.now();
    await nextEvent(fwd, afterStop, inState('echo-svc', 'up'), 10_000);
    const backAfter = Date.now() - answeredAt;
    // Not the 30 s backoff: a probe (every 500 ms) sees sshd, and one handshake (bounded by
    // ConnectTimeout) follows. Measured 29-243 ms on a quiet machine.
    expect(backAfter).toBeLessThan(DEFAULTS.connectTimeoutMs + 500);

    early.end();
    expect((await earlyReply).toString()).toBe('sent during the outage');
    const upload = await uploadToSink(listenAddress(sinkUp), 8 * 1024 * 1024);
    expect(upload.reply).toBe(upload.sent);
    const payload = randomBytes(256 * 1024);
    expect((await echo(local, payload)).equals(payload)).toBe(true);
    console.log(`[figures] restart: tunnel up ${backAfter} ms after sshd answered`);
  });

  it('detects a blackholed server (docker pause) within keepalive × 3 and recovers after unpause', async () => {
    const { fwd, id } = await rig('  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n');
    const up = await fwd.waitForEvent(inState('echo-svc', 'up'));
    const mark = fwd.events.length;
    docker('pause', id);
    const pausedAt = Date.now();
    let unpaused = false;
    cleanups.push(async () => {
      if (!unpaused) docker('unpause', id);
    });
    const down = await nextEvent(fwd, mark, inState('echo-svc', 'reconnecting'), 15_000);
    const detectedAfter = Date.now() - pausedAt;
    // keepalive 1 s × 3 missed: ssh2 gives up at the 4th tick (~4 s, measured 3.95-3.97 s); the
    // bound leaves room for a loaded CI machine, and is still far below the default 45 s.
    expect(detectedAfter).toBeLessThanOrEqual(7_000);
    expect(down.error).toMatchObject({ code: 'KEEPALIVE_TIMEOUT' });

    const mark2 = fwd.events.length;
    docker('unpause', id);
    unpaused = true;
    const unpausedAt = Date.now();
    await nextEvent(fwd, mark2, inState('echo-svc', 'up'), 30_000);
    const recoveredAfter = Date.now() - unpausedAt;
    const payload = randomBytes(64 * 1024);
    expect((await echo(listenAddress(up), payload)).equals(payload)).toBe(true);
    console.log(
      `[figures] blackhole: detected after ${detectedAfter} ms, up ${recoveredAfter} ms after unpause`,
    );
  });

  it('after a laptop sleep (process stopped > 5 s) probes at once instead of waiting for 3 keepalives', async () => {
    // keepalive 15 s: without the wake-up probe a dead session would take 45 s or more to notice.
    const { fwd, id } = await rig('  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n', {
      keepalive: '15s',
    });
    await fwd.waitForEvent(inState('echo-svc', 'up'));
    docker('pause', id);
    cleanups.push(async () => {
      docker('unpause', id);
    });
    const pid = fwd.child.pid ?? 0;
    // The fault: the whole process is frozen for 6 s, as a laptop lid closing would.
    process.kill(pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const mark = fwd.events.length;
    process.kill(pid, 'SIGCONT');
    const wokeAt = Date.now();
    const down = await nextEvent(fwd, mark, inState('echo-svc', 'reconnecting'), 20_000);
    const noticedAfter = Date.now() - wokeAt;
    expect(down.error).toMatchObject({ code: 'KEEPALIVE_TIMEOUT' });
    // Probe timeout 5 s + one 1 s tick of the gap detector.
    expect(noticedAfter).toBeLessThan(8_000);
    console.log(`[figures] wake-up: dead session noticed ${noticedAfter} ms after resume (keepalive 15 s)`);
  });

  it('refuses a changed host key after a restart: failed HOST_KEY_CHANGED, no retry loop, exit 1', async () => {
    const { fwd, id, port, home } = await rig('  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n');
    await fwd.waitForEvent(inState('echo-svc', 'up'));
    docker('rm', '-f', id);
    // Same address, new server identity: what a MITM (or a reinstalled login node) looks like.
    const impostor = await startSshd({ hostPort: port });
    cleanups.push(() => impostor[Symbol.asyncDispose]());
    const failed = await fwd.waitForEvent(inState('echo-svc', 'failed'), 30_000);
    expect(failed.error).toMatchObject({ code: 'HOST_KEY_CHANGED' });
    expect((failed.error as { message: string }).message).toContain(home.knownHostsFile);
    expect(await fwd.exited).toBe(1);
    const hostEvents = fwd.events.filter(
      (e) => e.event === 'host' && (e.error as { code?: string } | undefined)?.code === 'HOST_KEY_CHANGED',
    );
    expect(hostEvents.filter((e) => e.state === 'failed')).toHaveLength(1);
    expect(hostEvents.filter((e) => e.state === 'connecting' || e.state === 'reconnecting')).toHaveLength(0);

    // One key exchange, refused: every other connection is a reachability probe that read the
    // banner and left (sshd logs those as kex_exchange_identification).
    const log = await impostor.sshdLog();
    const connections = log.match(/Connection from/g)?.length ?? 0;
    const probes = log.match(/kex_exchange_identification/g)?.length ?? 0;
    expect(connections - probes).toBe(1);
    expect(log).not.toMatch(/Accepted|Failed|Postponed/);
  });

  it('takes a storm of 10k connections killed at random (incl. server resets) without crash, leak or growth', async () => {
    const { fwd } = await rig(
      '  echo-svc: { host: login, local: "0:127.0.0.1:7001" }\n  resets: { host: login, local: "0:127.0.0.1:7004" }\n',
      { keepalive: '15s', env: INSPECT_ENV },
    );
    const echoUp = await fwd.waitForEvent(inState('echo-svc', 'up'));
    const resetUp = await fwd.waitForEvent(inState('resets', 'up'));
    const pid = fwd.child.pid ?? 0;
    const fdsBefore = openFds(pid);

    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const churn = async (count: number): Promise<void> => {
      const batch = 200;
      for (let i = 0; i < count; i += batch) {
        await Promise.all(
          Array.from({ length: Math.min(batch, count - i) }, () => {
            const target = random() < 0.3 ? listenAddress(resetUp) : listenAddress(echoUp);
            return new Promise<void>((resolve) => {
              const socket = netConnect({ ...target, allowHalfOpen: true });
              const r = random();
              socket.on('error', () => resolve());
              socket.on('close', () => resolve());
              socket.once('connect', () => {
                if (r < 0.25) socket.resetAndDestroy();
                else if (r < 0.5) socket.end(randomBytes(512));
                else {
                  socket.write(randomBytes(2048));
                  setImmediate(() => socket.destroy());
                }
              });
              socket.on('data', () => undefined);
              socket.on('end', () => socket.destroy());
            });
          }),
        );
      }
    };
    await churn(1_000);
    await waitFor(() => fwd.events.some((e) => e.event === 'stats'), { what: 'stats' });
    const rssAfter1k = rssBytes(pid);
    const heapAfter1k = await heapUsedAfterGc(() => fwd.stderr());
    await churn(9_000);
    // Connections drain asynchronously in fwd; wait until it reports none open.
    await waitFor(
      () => {
        const last = [...fwd.events].reverse().find((e) => e.event === 'stats');
        const tunnels = (last?.tunnels ?? []) as Array<{ connectionsOpen: number; connectionsTotal: number }>;
        return tunnels.length === 2 && tunnels.every((t) => t.connectionsOpen === 0) ? tunnels : undefined;
      },
      { timeoutMs: 30_000, what: 'all connections closed in fwd' },
    );
    const rssAfter10k = rssBytes(pid);
    const heapAfter10k = await heapUsedAfterGc(() => fwd.stderr());
    await waitFor(() => openFds(pid) <= fdsBefore, { timeoutMs: 10_000, what: `fds back to ${fdsBefore}` });
    expect(fwd.child.exitCode).toBeNull();
    expect(withoutInspectorLines(fwd.stderr()).trim()).toBe('');
    // What 9000 more connections leave behind once collected: measured +0.3-0.4 MiB; leaking just
    // each connection's small info object (~185 bytes) adds 1.6 MiB more. RSS is reported only:
    // under load it moved ±25 % for the same work, with when the last GC ran.
    expect(heapAfter10k - heapAfter1k).toBeLessThan(2 ** 20);
    const payload = randomBytes(4096);
    expect((await echo(listenAddress(echoUp), payload)).equals(payload)).toBe(true);
    console.log(
      `[figures] storm: RSS ${(rssAfter1k / 2 ** 20).toFixed(1)} MiB after 1k, ${(rssAfter10k / 2 ** 20).toFixed(1)} MiB after 10k; heap after GC ${(heapAfter1k / 2 ** 20).toFixed(2)} → ${(heapAfter10k / 2 ** 20).toFixed(2)} MiB`,
    );
  });

  it.each(['connecting', 'up', 'reconnecting', 'waiting'] as const)(
    'exits cleanly on Ctrl-C while %s',
    async (state) => {
      const yaml =
        state === 'waiting'
          ? '  app: { host: login, local: "0:127.0.0.1:1", ready: { tcp: true } }\n'
          : '  app: { host: login, local: "0:127.0.0.1:7001" }\n';
      const { fwd, id, home } = await rig(yaml);
      if (state === 'connecting') {
        // A host that refuses connections keeps the tunnel in its first 'connecting'.
        await fwd[Symbol.asyncDispose]();
        const closed = await freePort();
        await home.write('.ssh/config', `Host login\n  HostName 127.0.0.1\n  Port ${closed}\n  User alice\n`);
        const again = startFwd(['up', `${home.dir}/tunnels.yaml`, '--json'], { home: home.dir });
        cleanups.push(() => again[Symbol.asyncDispose]());
        await again.waitForEvent(
          (e) => e.event === 'host' && e.state === 'connecting' && e.error !== undefined,
        );
        await expectCleanInterrupt(again);
        return;
      }
      await fwd.waitForEvent(inState('app', state === 'waiting' ? 'waiting' : 'up'));
      if (state === 'reconnecting') {
        docker('stop', '-t', '1', id);
        await fwd.waitForEvent(inState('app', 'reconnecting'));
      }
      await expectCleanInterrupt(fwd);
    },
  );
});

async function expectCleanInterrupt(fwd: FwdProcess): Promise<void> {
  const sentAt = Date.now();
  fwd.child.kill('SIGINT');
  expect(await fwd.exited).toBe(130);
  expect(Date.now() - sentAt).toBeLessThan(2_000);
  expect(fwd.events.at(-1)?.event).toBe('stopped');
  expect(fwd.stderr()).not.toContain('internal error');
}
