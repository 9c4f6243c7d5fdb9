import type { ForwardSpec } from '@fwd/core';

/** Values of the forward placeholders: `{node}` (the job's first node), `{job}`, `{user}` (remote user). */
export interface PlaceholderValues {
  readonly node?: string;
  readonly job?: string;
  readonly user?: string;
}

/** Replaces every known placeholder in `text`; unknown ones stay (the config check reports them). */
export function fillText(text: string, values: PlaceholderValues): string {
  return text.replace(/\{(node|job|user)\}/g, (whole, key: keyof PlaceholderValues) => values[key] ?? whole);
}

/**
 * A forward with its placeholders filled: target host or socket path, and a socket path it
 * listens on (`/tmp/{user}-nb.sock`).
 *
 * @example fillForward({ kind: 'local', bind: { port: 8888 }, target: { host: '{node}', port: 8888 } }, { node: 'node1' })
 */
export function fillForward(forward: ForwardSpec, values: PlaceholderValues): ForwardSpec {
  const bind = 'path' in forward.bind ? { path: fillText(forward.bind.path, values) } : forward.bind;
  if (forward.kind === 'dynamic') return { kind: 'dynamic', bind };
  const target =
    'path' in forward.target
      ? { path: fillText(forward.target.path, values) }
      : { host: fillText(forward.target.host, values), port: forward.target.port };
  return { kind: forward.kind, bind, target };
}

/** True when a forward's listen address still waits for the job (`/tmp/{job}.sock`). */
export function hasPlaceholder(forward: ForwardSpec): boolean {
  return 'path' in forward.bind && /\{(node|job|user)\}/.test(forward.bind.path);
}
