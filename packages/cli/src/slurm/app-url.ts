import type { ForwardSpec, ForwardStatus } from '@fwd/core';

/**
 * `http(s)://` or `http+unix://` up to whitespace or a quote: how servers print their address in
 * a log line (Jupyter started with `--sock` prints `http+unix://%2Fhome%2F…sock/lab?token=…`).
 */
const URL_TEXT = /\bhttps?(?:\+unix)?:\/\/[^\s"'<>]+/g;

/**
 * The first http(s) or http+unix URL in `text` that carries a `token=` query parameter (Jupyter
 * prints `http://node1:8888/lab?token=…` a few seconds after it starts), or undefined.
 *
 * @example findTokenUrl('  http://node1:8888/lab?token=abc\n') // 'http://node1:8888/lab?token=abc'
 */
export function findTokenUrl(text: string): string | undefined {
  for (const [match] of text.matchAll(URL_TEXT)) {
    const trimmed = match.replace(/[.,;:)\]]+$/, '');
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      continue;
    }
    if (url.searchParams.has('token')) return trimmed;
  }
  return undefined;
}

/**
 * `url` with its host and port replaced by where the tunnel listens on this machine (an
 * `http+unix` URL becomes `http`); path, query and fragment kept. A wildcard listen address
 * becomes `localhost`.
 *
 * @example pointUrlAt('http://node1:8888/lab?token=abc', '127.0.0.1:45123') // 'http://127.0.0.1:45123/lab?token=abc'
 */
export function pointUrlAt(url: string, listen: string): string {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at);
  const port = listen.slice(at + 1);
  const shown = host === '0.0.0.0' || host === '[::]' || host === '::' ? 'localhost' : host;
  const parsed = new URL(url);
  const scheme = parsed.protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${shown}:${port}${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/**
 * Which local forward serves `url`: the one whose target has the URL's port (8888 for
 * `http://node1:8888/…`) or socket (for `http+unix://`), else the first local forward listening
 * on TCP. Its listen address, or undefined when none listens on TCP.
 */
export function listenFor(
  url: string,
  forwards: readonly ForwardSpec[],
  statuses: readonly ForwardStatus[],
): string | undefined {
  const parsed = new URL(url);
  const socket = parsed.protocol === 'http+unix:' ? decodeURIComponent(parsed.hostname) : undefined;
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const serves = (f: Extract<ForwardSpec, { kind: 'local' }>): boolean =>
    'path' in f.target ? f.target.path === socket : socket === undefined && f.target.port === port;
  const tcpListen = (index: number): string | undefined => {
    const listen = statuses[index]?.listen;
    return listen !== undefined && !listen.startsWith('/') ? listen : undefined;
  };
  const locals = forwards.flatMap((f, index) => (f.kind === 'local' ? [{ f, index }] : []));
  const same = locals.find(({ f, index }) => serves(f) && tcpListen(index));
  const chosen = same ?? locals.find(({ index }) => tcpListen(index));
  return chosen ? tcpListen(chosen.index) : undefined;
}
