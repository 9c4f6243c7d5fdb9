import { createHash, createHmac, randomBytes } from 'node:crypto';

/** One key line of an OpenSSH known_hosts file. */
export interface KnownHostLine {
  readonly file: string;
  /** 1-based, as editors and `ssh-keygen -R` users count. */
  readonly line: number;
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  readonly hostPatterns: string;
  readonly keyType: string;
  readonly keyBlob: Buffer;
}

/** Parses known_hosts text; malformed lines are skipped as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fieldsOf = raw.split(/\s+/);
    let marker: KnownHostLine['marker'];
    if (fieldsOf[0] === '@revoked') marker = 'revoked';
    else if (fieldsOf[0] === '@cert-authority') marker = 'cert-authority';
    if (marker !== undefined) fieldsOf.shift();
    const [hostPatterns, keyType, keyBase64] = fieldsOf;
    if (hostPatterns === undefined || keyType === undefined || keyBase64 === undefined) continue;
    const keyBlob = Buffer.from(keyBase64, 'base64');
    if (keyBlob.length === 0 || blobKeyType(keyBlob) !== keyType) continue;
    out.push({ file, line: i + 1, marker, hostPatterns, keyType, keyBlob });
  }
  return out;
}

/** The name known_hosts uses for a host: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

/** OpenSSH host-pattern semantics: comma list, `*`/`?` globs, `!` negation, hashed `|1|salt|mac`. */
export function hostPatternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) return hashedMatch(patterns, name);
  return matchPatternList(name, patterns, true) === 1;
}

function hashedMatch(entry: string, name: string): boolean {
  const [, , salt, mac] = entry.split('|');
  if (salt === undefined || mac === undefined) return false;
  const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return expected === mac;
}

/**
 * OpenSSH's match_pattern_list(): a comma-separated list of globs, each possibly `!`-negated.
 * 1 when a pattern matches, -1 when a negated one does (it wins), 0 when none does. `lower`
 * lower-cases the patterns (for host names); the string is taken as given.
 *
 * @example matchPatternList('node7', 'node*,!node7', true) // -1
 */
export function matchPatternList(text: string, patterns: string, lower: boolean): -1 | 0 | 1 {
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (matchPattern(text, lower ? glob.toLowerCase() : glob)) {
      if (negated) return -1;
      matched = true;
    }
  }
  return matched ? 1 : 0;
}

/** OpenSSH's match_pattern(): `*` any run, `?` one character, everything else literal and case-sensitive. */
export function matchPattern(text: string, glob: string): boolean {
  // Iterative wildcard match, no regex: patterns come from files we do not control.
  let g = 0;
  let n = 0;
  let starG = -1;
  let starN = 0;
  while (n < text.length) {
    const c = glob[g];
    if (c === '?' || (c !== undefined && c !== '*' && c === text[n])) {
      g++;
      n++;
    } else if (c === '*') {
      starG = g++;
      starN = n;
    } else if (starG !== -1) {
      g = starG + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/** The key type named inside an SSH public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len > 64 || 4 + len > blob.length) return undefined;
  return blob.toString('latin1', 4, 4 + len);
}

/** `SHA256:...` as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts line for `name`, hashed like `HashKnownHosts yes` when asked. */
export function formatKnownHostsLine(name: string, blob: Buffer, hashed: boolean): string {
  const type = blobKeyType(blob) ?? 'unknown';
  const key = blob.toString('base64');
  if (!hashed) return `${name} ${type} ${key}`;
  const salt = randomBytes(20);
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${mac} ${type} ${key}`;
}
