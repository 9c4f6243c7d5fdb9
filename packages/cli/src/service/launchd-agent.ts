import type { ServiceSpec } from './service-spec.js';

/** The agent's label and file stem: `fwd.tunnels-3f2a1c`. */
export function launchdLabel(name: string): string {
  return `fwd.${name}`;
}

const xml = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/**
 * A launchd agent (~/Library/LaunchAgents) running `fwd up FILE` at login: KeepAlive restarts it
 * when it exits with an error (SuccessfulExit false), throttled to once per 10 s; its NDJSON goes
 * to `log`. The agent inherits the login session's SSH_AUTH_SOCK (macOS's own ssh-agent).
 */
export function launchdAgent(spec: ServiceSpec, log: string): string {
  const args = spec.argv.map((a) => `    <string>${xml(a)}</string>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- fwd tunnels of ${xml(spec.file)}, written by fwd service install (fwd ${xml(spec.version)}).
     fwd service remove ${xml(spec.file)} unloads it and deletes this file. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>${xml(launchdLabel(spec.name))}</string>
  <key>ProgramArguments</key>
  <array>
${args}
  </array>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>ProcessType</key>
  <string>Background</string>
  <key>StandardOutPath</key>
  <string>${xml(log)}</string>
  <key>StandardErrorPath</key>
  <string>${xml(log)}</string>
</dict>
</plist>
`;
}
