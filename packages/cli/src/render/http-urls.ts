import type { ForwardStatus, TunnelStatus } from '@fwd/core';
import type { ParsedForward, Plan, PlanTunnel } from '../config/index.js';

/**
 * Target ports of the web apps people tunnel to, so that fwd can print the URL to open.
 * A tunnel with `ready: { http: ... }` is HTTP whatever its ports.
 */
export const WEB_APP_PORTS: ReadonlyMap<number, string> = new Map([
  [80, 'HTTP'],
  [443, 'HTTPS'],
  [3000, 'dev servers, Grafana'],
  [4200, 'Angular'],
  [5000, 'Flask'],
  [5173, 'Vite'],
  [6006, 'TensorBoard'],
  [7860, 'Gradio'],
  [8000, 'Django, python -m http.server, JupyterHub'],
  [8050, 'Dash'],
  [8080, 'HTTP'],
  [8265, 'Ray dashboard'],
  [8501, 'Streamlit'],
  [8787, 'RStudio Server'],
  [8888, 'Jupyter'],
  [8889, 'Jupyter'],
]);

/** A forward as fwd shows it: the core's status plus the URL to open, for HTTP tunnels. */
export interface ForwardView extends ForwardStatus {
  readonly url?: string;
}

export type Scheme = 'http' | 'https';

/** The browser URL for a local listen address ("127.0.0.1:8888" → "http://127.0.0.1:8888/"). */
export function openUrl(listen: string, scheme: Scheme = 'http'): string | undefined {
  const at = listen.lastIndexOf(':');
  if (at <= 0 || listen.startsWith('/')) return undefined;
  const port = Number(listen.slice(at + 1));
  if (!Number.isInteger(port) || port <= 0) return undefined;
  let host = listen.slice(0, at);
  // A wildcard bind is opened through loopback on this machine.
  if (host === '0.0.0.0' || host === '*' || host === '') host = '127.0.0.1';
  if (host === '[::]' || host === '::') host = '[::1]';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  const implicit = (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443);
  return `${scheme}://${host}${implicit ? '' : `:${port}`}/`;
}

/** How a browser opens a local forward of `tunnel`, or undefined when it is not a web app. */
export function webScheme(tunnel: PlanTunnel, forward: ParsedForward): Scheme | undefined {
  if (forward.kind !== 'local' || 'path' in forward.bind) return undefined;
  const targetPort = 'port' in forward.target ? forward.target.port : undefined;
  if (targetPort === 443) return 'https';
  if (tunnel.ready?.kind === 'http') return 'http';
  return targetPort !== undefined && WEB_APP_PORTS.has(targetPort) ? 'http' : undefined;
}

/** Adds the URL to open to each HTTP forward of a status (see {@link httpUrls}). */
export type UrlDecorator = (status: TunnelStatus) => TunnelStatus;

/**
 * Which forwards of a plan serve a web app (a `ready: { http }` check, or a well-known web port as
 * target), as a function that adds `url` to those forwards of a tunnel's status once bound.
 */
export function httpUrls(plan: Plan): UrlDecorator {
  const schemes = new Map<string, Array<Scheme | undefined>>();
  for (const tunnel of plan.tunnels) {
    // The supervisor's forwards follow the plan's, minus the unsupported remote-dynamic ones.
    const forwards = tunnel.forwards.filter((f) => f.kind !== 'remote-dynamic');
    const list = forwards.map((f) => webScheme(tunnel, f));
    if (list.some((s) => s !== undefined)) schemes.set(tunnel.name, list);
  }
  return (status) => {
    const list = schemes.get(status.name);
    if (!list) return status;
    const forwards = status.forwards.map((f, i): ForwardView => {
      const scheme = list[i];
      const url = scheme ? openUrl(f.listen, scheme) : undefined;
      return url ? { ...f, url } : f;
    });
    return { ...status, forwards };
  };
}

/** The URL of a forward, when it has one (from {@link httpUrls} or a daemon's status). */
export function urlOf(forward: ForwardStatus): string | undefined {
  const url = (forward as ForwardView).url;
  return typeof url === 'string' ? url : undefined;
}
