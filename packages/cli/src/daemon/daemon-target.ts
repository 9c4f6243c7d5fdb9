import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { daemonNameForFile, matchDaemons, type Named } from './daemon-name.js';

export type Target<T extends Named> = { found: T[] } | { problem: string };

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Which daemons a `fwd down` / `fwd logs` argument means: a config file (by its daemon name),
 * else a name or stem (see matchDaemons). Without an argument: the daemon of ./tunnels.yaml when
 * there is one, else the only one. Ambiguity and no match are problems, said in full.
 */
export function resolveTarget<T extends Named>(
  query: string | undefined,
  candidates: readonly T[],
  cwd: string,
  noun: string,
): Target<T> {
  const listing = (list: readonly T[]): string => list.map((d) => d.name).join(', ');
  if (query === undefined) {
    const local = resolve(cwd, 'tunnels.yaml');
    if (isFile(local)) {
      const name = daemonNameForFile(local);
      const mine = candidates.filter((d) => d.name === name);
      if (mine.length > 0) return { found: mine };
    }
    if (candidates.length === 1) return { found: [...candidates] };
    if (candidates.length === 0) return { problem: `no ${noun}` };
    return { problem: `several ${noun}s (${listing(candidates)}): name one` };
  }
  const path = resolve(cwd, query);
  if (isFile(path)) {
    const name = daemonNameForFile(path);
    const found = candidates.filter((d) => d.name === name);
    return found.length > 0 ? { found } : { problem: `no ${noun} for ${path}` };
  }
  const found = matchDaemons(query, candidates);
  if (found.length === 0)
    return {
      problem: `no ${noun} named "${query}"${candidates.length ? ` (there is ${listing(candidates)})` : ''}`,
    };
  if (found.length > 1) return { problem: `"${query}" could be ${listing(found)}: give the full name` };
  return { found };
}
