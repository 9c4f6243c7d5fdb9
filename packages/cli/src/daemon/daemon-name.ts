import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { basename, extname } from 'node:path';

const STEM_LENGTH = 24;
const HASH_LENGTH = 6;
/** The longest daemon name: a stem, a dash and a hash. */
export const MAX_NAME_LENGTH: number = STEM_LENGTH + 1 + HASH_LENGTH;

/** Lowercase letters, digits and single dashes, at most 24 characters; "fwd" when nothing is left. */
export function sanitizeStem(text: string): string {
  const stem = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, STEM_LENGTH)
    .replace(/-+$/, '');
  return stem || 'fwd';
}

const shortHash = (text: string): string =>
  createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

/**
 * The name of the background fwd of a config file: its base name and a hash of its real path,
 * `tunnels-3f2a1c`. The same file (however it is named on the command line) always gets the
 * same name, so a second `fwd up -d` of it finds the first; two `tunnels.yaml` in different
 * directories do not collide.
 */
export function daemonNameForFile(absolutePath: string): string {
  let real = absolutePath;
  try {
    real = realpathSync.native(absolutePath);
  } catch {
    // A missing file fails validation before any name is needed; keep the path as given.
  }
  return `${sanitizeStem(basename(real, extname(real)))}-${shortHash(real)}`;
}

/** The name of a one-off (`fwd -d -L ... host`): the destination's host and a hash of the arguments. */
export function daemonNameForCommand(destination: string, argv: readonly string[]): string {
  const host = destination.slice(destination.lastIndexOf('@') + 1);
  return `${sanitizeStem(host)}-${shortHash(JSON.stringify(argv))}`;
}

/** The part of a daemon name before its hash: "tunnels" for "tunnels-3f2a1c". */
export function stemOf(name: string): string {
  const at = name.lastIndexOf('-');
  return at > 0 && name.length - at - 1 === HASH_LENGTH ? name.slice(0, at) : name;
}

export interface Named {
  readonly name: string;
  /** The config file, or the one-off's command line. */
  readonly source?: string | undefined;
}

/**
 * The daemons `query` names: an exact name, else every daemon whose stem ("tunnels") or source
 * file base name ("tunnels.yaml") it is. Several matches are for the caller to refuse.
 */
export function matchDaemons<T extends Named>(query: string, daemons: readonly T[]): T[] {
  const exact = daemons.filter((d) => d.name === query);
  if (exact.length > 0) return exact;
  return daemons.filter(
    (d) => stemOf(d.name) === query || (d.source !== undefined && basename(d.source) === query),
  );
}
