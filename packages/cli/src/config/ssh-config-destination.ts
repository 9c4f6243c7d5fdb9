/** A ProxyJump entry: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface SshDestination {
  host: string;
  user?: string;
  port?: number;
}

/**
 * Parses a destination as `ssh -J` does: `[user@]host[:port]`, `ssh://[user@]host[:port]`, with
 * `[IPv6]` brackets. Returns undefined for a malformed port.
 *
 * @example parseDestination('alice@gw:2222') // { host: 'gw', user: 'alice', port: 2222 }
 */
export function parseDestination(text: string): SshDestination | undefined {
  let rest = text.trim().replace(/^ssh:\/\//, '');
  const out: SshDestination = { host: '' };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0) return undefined;
    out.user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  const plain = /^([^:]+)(?::(.*))?$/.exec(rest);
  const match = bracket ?? (rest.split(':').length > 2 ? null : plain);
  out.host = match?.[1] ?? rest;
  const port = match?.[2];
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return undefined;
    out.port = Number(port);
  }
  return out.host === '' ? undefined : out;
}
