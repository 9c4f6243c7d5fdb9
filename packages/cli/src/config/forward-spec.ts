import type { BindAddress, SocketPath, TcpAddress } from '@fwd/core';
import type { ParseResult } from './problems.js';

/** A TCP bind address as written: `host` is absent when the spec names none (the default applies later). */
type TcpBind = { host?: string; port: number };

/** `-L`: listen here, connect from the server's side to `target`. */
export interface LocalForwardEntry {
  kind: 'local';
  bind: BindAddress;
  target: TcpAddress | SocketPath;
  /** The spec as written, for messages. */
  spec: string;
}

/** `-R`: the server listens on `bind`, connections come back to `target` on this side. */
export interface RemoteForwardEntry {
  kind: 'remote';
  bind: BindAddress;
  target: TcpAddress | SocketPath;
  spec: string;
}

/** `-D`: a local SOCKS proxy whose connections leave from the server. */
export interface DynamicForwardEntry {
  kind: 'dynamic';
  bind: TcpBind;
  spec: string;
}

/** `-R [bind:]port`: a SOCKS proxy on the server whose connections leave from here (not supported yet). */
export interface RemoteDynamicForwardEntry {
  kind: 'remote-dynamic';
  bind: TcpBind;
  spec: string;
}

/** Any parsed forward. */
export type ParsedForward =
  | LocalForwardEntry
  | RemoteForwardEntry
  | DynamicForwardEntry
  | RemoteDynamicForwardEntry;

/** Which flag the spec was given to. */
export type ForwardFlag = 'local' | 'remote' | 'dynamic';

interface Field {
  text: string;
  isPath: boolean;
}

const PORT_ERROR = 'port must be a number 0-65535';
const TARGET_PORT_ERROR = 'target port must be a number 1-65535';

/**
 * Splits on `:` the way OpenSSH's `parse_fwd_field` does: `[...]` is taken literally (IPv6),
 * `\` escapes the next character, and a field containing `/` is a unix socket path.
 */
function splitFields(spec: string): Field[] | undefined {
  const fields: Field[] = [];
  let i = 0;
  while (i < spec.length) {
    if (spec[i] === '[') {
      const close = spec.indexOf(']', i + 1);
      const after = spec[close + 1];
      if (close < 0 || (after !== undefined && after !== ':')) return undefined;
      const text = spec.slice(i + 1, close);
      fields.push({ text, isPath: text.includes('/') });
      i = after === ':' ? close + 2 : close + 1;
      if (after === ':' && i === spec.length) fields.push({ text: '', isPath: false });
      continue;
    }
    let text = '';
    let isPath = false;
    for (; i < spec.length && spec[i] !== ':'; i++) {
      let ch = spec[i] as string;
      if (ch === '\\') {
        i++;
        if (i === spec.length) return undefined;
        ch = spec[i] as string;
      } else if (ch === '/') isPath = true;
      text += ch;
    }
    fields.push({ text, isPath });
    if (spec[i] === ':') {
      i++;
      if (i === spec.length) fields.push({ text: '', isPath: false });
    }
  }
  return fields;
}

/** OpenSSH's `a2port`: decimal digits only, 0–65535. */
function toPort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

type Side = TcpBind | SocketPath;

function bindOf(host: Field | undefined, port: Field): ParseResult<TcpBind> {
  const value = toPort(port.text);
  if (value === undefined) return { ok: false, error: PORT_ERROR };
  // OpenSSH treats an empty bind address like none at all.
  return {
    ok: true,
    value: host === undefined || host.text === '' ? { port: value } : { host: host.text, port: value },
  };
}

function targetOf(host: Field, port: Field): ParseResult<TcpAddress> {
  const value = toPort(port.text);
  if (value === undefined || value === 0) return { ok: false, error: TARGET_PORT_ERROR };
  if (host.text === '') return { ok: false, error: 'target host is empty' };
  return { ok: true, value: { host: host.text, port: value } };
}

/** Reads `bind` and `target` out of 2–4 fields, following OpenSSH's case analysis. */
function bindAndTarget(fields: Field[]): ParseResult<{ bind: Side; target: TcpAddress | SocketPath }> {
  const [a, b, c, d] = fields;
  let bind: ParseResult<Side>;
  let target: ParseResult<TcpAddress | SocketPath>;
  if (fields.length === 2 && a && b?.isPath) {
    bind = a.isPath ? { ok: true, value: { path: a.text } } : bindOf(undefined, a);
    target = { ok: true, value: { path: b.text } };
  } else if (fields.length === 3 && a && b && c) {
    if (a.isPath) {
      bind = { ok: true, value: { path: a.text } };
      target = targetOf(b, c);
    } else if (c.isPath) {
      bind = bindOf(a, b);
      target = { ok: true, value: { path: c.text } };
    } else {
      bind = bindOf(undefined, a);
      target = targetOf(b, c);
    }
  } else if (fields.length === 4 && a && b && c && d) {
    bind = bindOf(a, b);
    target = targetOf(c, d);
  } else {
    return { ok: false, error: 'expected [bind_address:]port:host:hostport or a unix socket path' };
  }
  if (!bind.ok) return bind;
  if (!target.ok) return target;
  return { ok: true, value: { bind: bind.value, target: target.value } };
}

/** Reads a `-D`-style `[bind_address:]port`. */
function dynamicBind(fields: Field[]): ParseResult<TcpBind> {
  const [a, b] = fields;
  if (fields.some((f) => f.isPath))
    return { ok: false, error: 'a SOCKS proxy needs a TCP port, not a socket path' };
  if (fields.length === 1 && a) return bindOf(undefined, a);
  if (fields.length === 2 && a && b) return bindOf(a, b);
  return { ok: false, error: 'expected [bind_address:]port' };
}

/**
 * Parses a forward exactly as `ssh -L`, `-R` or `-D` would, including unix socket paths, `[IPv6]`
 * brackets and `\` escapes. Placeholders such as `{node}` are ordinary host/path text. The default
 * bind address is left unset for the loader to fill. Unlike OpenSSH, a local or dynamic bind port
 * of 0 is accepted (the OS picks one and fwd reports it).
 *
 * The older `host/port` IPv6 form is not accepted: OpenSSH itself now reads `/` as a socket path.
 *
 * @example
 * parseForward('local', '8888:{node}:8888')
 * // { ok: true, value: { kind: 'local', bind: { port: 8888 }, target: { host: '{node}', port: 8888 }, spec: '8888:{node}:8888' } }
 */
export function parseForward(flag: ForwardFlag, spec: string | number): ParseResult<ParsedForward> {
  const text = String(spec).trim();
  if (text === '') return { ok: false, error: 'forward is empty' };
  const fields = splitFields(text);
  if (fields === undefined) return { ok: false, error: 'unbalanced [ ] or trailing \\' };
  if (flag === 'dynamic') {
    const bind = dynamicBind(fields);
    return bind.ok ? { ok: true, value: { kind: 'dynamic', bind: bind.value, spec: text } } : bind;
  }
  // Like `ssh -R`, a remote spec with only a bind part is a reverse SOCKS proxy.
  if (flag === 'remote' && (fields.length === 1 || (fields.length === 2 && !fields[1]?.isPath))) {
    const bind = dynamicBind(fields);
    return bind.ok ? { ok: true, value: { kind: 'remote-dynamic', bind: bind.value, spec: text } } : bind;
  }
  if (fields.length === 1) {
    return {
      ok: false,
      error: 'expected [bind_address:]port:host:hostport (one number alone is not a forward)',
    };
  }
  const parsed = bindAndTarget(fields);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    value: { kind: flag, bind: parsed.value.bind, target: parsed.value.target, spec: text },
  };
}
