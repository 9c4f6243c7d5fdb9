import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FwdProcess, startFwd } from './support/fwd-cli.js';

// No Docker: the "server" is a TCP acceptor that never says a word (a frozen VM, docker-proxy
// during a restart): the host stays `connecting`, the worst state to be stopped in.
const cleanups: Array<() => PromiseLike<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => sockets.add(s.on('error', () => undefined)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as { port: number }).port;
}

async function fwdUp(tunnels: string, port: number): Promise<{ fwd: FwdProcess; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fwd-signals-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, '.ssh'), { mode: 0o700 });
  const file = join(dir, 'tunnels.yaml');
  await writeFile(
    file,
    `version: 1\nhosts:\n  h: { host: 127.0.0.1, port: ${port}, user: alice }\ntunnels:\n${tunnels}`,
  );
  const fwd = startFwd(['up', file, '--json'], { home: dir });
  cleanups.push(() => fwd[Symbol.asyncDispose]());
  return { fwd, dir };
}

async function expectCleanStop(fwd: FwdProcess, signal: NodeJS.Signals, code: number): Promise<void> {
  fwd.child.kill(signal);
  expect(await fwd.exited).toBe(code);
  expect(fwd.events.at(-1)?.event).toBe('stopped');
  expect(fwd.stderr()).not.toContain('internal error');
}

describe('fwd up stops promptly on SIGTERM and SIGINT in every state', () => {
  it('when a forward failed to bind (a directory at its socket path) while its host still connects', async () => {
    const port = await silentServer();
    const dir = await mkdtemp(join(tmpdir(), 'fwd-sockdir-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { fwd } = await fwdUp(
      `  a: { host: h, local: "${dir}:localhost:80" }\n  b: { host: h, local: "0:localhost:80" }\n`,
      port,
    );
    const failed = await fwd.waitForEvent(
      (e) => e.event === 'tunnel' && e.tunnel === 'a' && e.state === 'failed',
    );
    expect(failed.error).toMatchObject({ code: 'BIND_IN_USE' });
    await fwd.waitForEvent((e) => e.event === 'tunnel' && e.tunnel === 'b' && e.state === 'connecting');
    await expectCleanStop(fwd, 'SIGTERM', 0);
  });

  it('while the only host hangs in its SSH handshake', async () => {
    const port = await silentServer();
    const { fwd } = await fwdUp('  b: { host: h, local: "0:localhost:80" }\n', port);
    await fwd.waitForEvent((e) => e.event === 'tunnel' && e.tunnel === 'b' && e.state === 'connecting');
    await expectCleanStop(fwd, 'SIGINT', 130);
  });
});
