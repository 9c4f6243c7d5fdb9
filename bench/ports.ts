// Free ports, and waiting for a child to listen on one: no fixed ports anywhere.
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Child } from './children.js';
import { portSockets } from './proc.js';

/** A port the kernel just handed out on 127.0.0.1 (released again for the caller to bind). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

const POLL_MS = 25;

/**
 * Resolves once something listens on `port` (read from /proc/net/tcp, so no probe connection
 * reaches the forwarder); rejects if `child` exits first or `timeoutMs` passes.
 */
export async function waitListening(port: number, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (portSockets(port).listening) return;
    if (!child.alive)
      throw new Error(`${child.name} exited before listening on ${port}:\n${child.logTail()}`);
    if (Date.now() > deadline) {
      throw new Error(
        `${child.name} did not listen on ${port} within ${timeoutMs / 1000} s:\n${child.logTail()}`,
      );
    }
    // /proc has no change notification: poll.
    await delay(POLL_MS);
  }
}

/**
 * Resolves true once at most `allowed` connections on local port `port` are still held (the
 * forwarder has closed the last measurement's connections); false after `timeoutMs`.
 */
export async function waitDrained(port: number, timeoutMs: number, allowed = 0): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (portSockets(port).open > allowed) {
    if (Date.now() > deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}
