import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { probeSocket, requestStatus, type SocketProbe } from './control-client.js';
import type { DaemonStatus } from './control-protocol.js';
import { type FwdDirs, nameOfSocket } from './daemon-dirs.js';

/** One background fwd found in the socket directory. */
export type DaemonEntry =
  | { readonly name: string; readonly path: string; readonly status: DaemonStatus }
  /** It listens but does not answer (hung, or busy): shown, never cleaned. */
  | { readonly name: string; readonly path: string; readonly problem: string };

export interface Registry {
  readonly daemons: DaemonEntry[];
  /** Names whose stale sockets (dead daemons) were removed while looking. */
  readonly cleaned: string[];
}

/**
 * Removes the socket file at `path` if it is a socket of ours that nobody listens on any more.
 * Checked again right before unlinking: a stale file is never trusted, nor is a live one removed.
 */
export async function cleanStale(path: string): Promise<boolean> {
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isSocket() || info.uid !== process.getuid?.()) return false;
  const probe = await probeSocket(path);
  if (probe.kind === 'alive') probe.socket.destroy();
  if (probe.kind !== 'stale') return false;
  await unlink(path).catch(() => undefined);
  return true;
}

/** What is at daemon `name`'s socket: its status, a problem, or nothing (absent, or stale and cleaned). */
export async function lookUp(
  dirs: FwdDirs,
  name: string,
): Promise<DaemonEntry | { readonly name: string; readonly cleaned: boolean }> {
  const path = join(dirs.run, `${name}.sock`);
  const probe: SocketProbe = await probeSocket(path);
  switch (probe.kind) {
    case 'absent':
      return { name, cleaned: false };
    case 'stale':
      return { name, cleaned: await cleanStale(path) };
    case 'unresponsive':
      return { name, path, problem: probe.reason };
    case 'alive':
      try {
        return { name, path, status: await requestStatus(probe.socket) };
      } catch (err) {
        return { name, path, problem: (err as Error).message };
      } finally {
        probe.socket.destroy();
      }
  }
}

/** Every background fwd of this user, asked over its control socket; stale sockets are cleaned. */
export async function listDaemons(dirs: FwdDirs): Promise<Registry> {
  const names = (await readdir(dirs.run))
    .map(nameOfSocket)
    .filter((n): n is string => n !== undefined)
    .sort();
  const found = await Promise.all(names.map((name) => lookUp(dirs, name)));
  const daemons: DaemonEntry[] = [];
  const cleaned: string[] = [];
  for (const entry of found) {
    if ('status' in entry || 'problem' in entry) daemons.push(entry);
    else if (entry.cleaned) cleaned.push(entry.name);
  }
  return { daemons, cleaned };
}
