import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Transport } from '@fwd/core';
import type { PlanHop } from '../config/index.js';

/**
 * The websocket first hop of a host (`transport: { type: websocket, ... }`): SSH to the hop's
 * HostName:Port, carried through the relay at `url`. `ca` is a PEM file path (or inline PEM).
 * ws-transport is imported only when a host uses it. `warn` hears about a token sent in plain text.
 */
export async function websocketHop(
  hop: PlanHop,
  baseDir: string,
  warn?: (message: string) => void,
): Promise<Transport | undefined> {
  const entry = hop.transport;
  if (entry.type !== 'websocket') return undefined;
  const { websocketTransport } = await import('@fwd/ws-transport');
  let ca: string | undefined;
  if (entry.ca !== undefined) {
    ca = entry.ca.includes('-----BEGIN') ? entry.ca : await readFile(resolve(baseDir, entry.ca), 'utf8');
  }
  return websocketTransport({
    url: entry.url,
    target: { host: hop.hostName, port: hop.port },
    ...(entry.token !== undefined ? { token: entry.token } : {}),
    ...(entry.headers !== undefined ? { headers: entry.headers } : {}),
    ...(entry.rejectUnauthorized !== undefined ? { rejectUnauthorized: entry.rejectUnauthorized } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(warn ? { warn } : {}),
  });
}
