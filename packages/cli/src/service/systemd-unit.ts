import type { ServiceSpec } from './service-spec.js';

/** The unit's file name: `fwd-tunnels-3f2a1c.service`. */
export function systemdUnitName(name: string): string {
  return `fwd-${name}.service`;
}

/**
 * One word of ExecStart= as systemd.service(5) reads it: `%` is a specifier (`%%`), `$` a
 * variable (`$$`), and a word with spaces, quotes or backslashes is double-quoted (C escapes).
 */
export function systemdWord(word: string): string {
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** An Environment= assignment: quoted when it has spaces, quotes or backslashes. */
function systemdQuoted(assignment: string): string {
  if (/^[^\s"'\\]+$/.test(assignment)) return assignment;
  return `"${assignment.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * A systemd user unit running `fwd up FILE` in the foreground: systemd supervises it, its NDJSON
 * goes to the journal (`journalctl --user -u UNIT`), SIGTERM stops it cleanly (exit 0).
 * Restart=on-failure retries exit 1 (every tunnel failed); exit 2 is a file to fix, which no
 * retry helps (RestartPreventExitStatus=2).
 */
export function systemdUnit(spec: ServiceSpec, runtimeDir: string | undefined): string {
  const unit = systemdUnitName(spec.name);
  // An agent socket under $XDG_RUNTIME_DIR (%t) survives logins; one in /tmp/ssh-XXXX does not.
  const inRuntime =
    spec.agentSocket !== undefined &&
    runtimeDir !== undefined &&
    spec.agentSocket.startsWith(`${runtimeDir}/`);
  const agent = inRuntime
    ? `Environment=${systemdQuoted(`SSH_AUTH_SOCK=%t/${(spec.agentSocket as string).slice((runtimeDir as string).length + 1).replaceAll('%', '%%')}`)}`
    : '# Environment=SSH_AUTH_SOCK=%t/ssh-agent.socket    # if your keys are in an agent';
  return `# fwd tunnels of ${spec.file}, written by fwd service install (fwd ${spec.version}).
# fwd service remove ${spec.file}    stops it and deletes this file.
# systemctl --user status ${unit} · journalctl --user -u ${unit}
[Unit]
Description=fwd: SSH tunnels of ${spec.file.replaceAll('%', '%%')}

[Service]
Type=exec
ExecStart=${spec.argv.map(systemdWord).join(' ')}
# systemctl --user reload: fwd reads the file again, untouched tunnels keep their connections.
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=10s
RestartPreventExitStatus=2
TimeoutStopSec=45s
${agent}

[Install]
WantedBy=default.target
`;
}
