import { type CliIO, complain, EXIT } from '../io.js';

const MAIN = `fwd — SSH port forwarding from a YAML file, kept alive

Usage:
  fwd up [tunnels.yaml] [--only a,b] [--json] [--metrics 127.0.0.1:9464]
  fwd check [tunnels.yaml]                        validate and show the plan; no network
  fwd -L [bind:]port:host:hostport [-R ..] [-D ..] [-J jump] [-p port] [-i key] [user@]host
  fwd relay --listen ADDR --allow host:port ...   websocket relay for networks that block SSH
  fwd schema                                      JSON Schema of tunnels.yaml (for editors)
  fwd --version | --help | help COMMAND

Examples:
  fwd up tunnels.yaml
  fwd -L 8888:localhost:8888 alice@login.hpc.example.edu
  fwd -D 1080 -J bastion alice@cluster

Exit codes: 0 clean stop, 1 runtime failure (every tunnel failed), 2 usage or config error,
130 after Ctrl-C. A second Ctrl-C exits at once.
`;

const TEXTS: Record<string, string> = {
  up: `Usage: fwd up [tunnels.yaml] [--only name,...] [--json] [-F ssh_config]

Reads tunnels.yaml (default ./tunnels.yaml), resolves hosts through ~/.ssh/config, opens one
SSH connection per host and every tunnel over it, and keeps them up (keepalive, reconnect with
backoff; local ports stay bound during outages) until Ctrl-C or SIGTERM.

On a terminal it shows a live table; otherwise (or with --json) one JSON object per line per
state change, and periodic stats.

Options:
  --only a,b     bring up only these tunnels
  --json         NDJSON output even on a terminal
  --stats-interval 10s   how often stats events are printed (NDJSON) or the table refreshes
  --metrics [HOST:]PORT  serve Prometheus /metrics and /healthz (loopback unless HOST is given)
  -F FILE        ssh config file instead of ~/.ssh/config

Examples:
  fwd up
  fwd up ~/cluster.yaml --only notebook
  fwd up tunnels.yaml --json | jq .
`,
  check: `Usage: fwd check [tunnels.yaml] [-F ssh_config]

Validates tunnels.yaml and resolves every host through ~/.ssh/config without touching the
network, then prints the plan: user, address, jump chain, every forward. Every problem is listed
at once as FILE:LINE:COL  key.path: what is wrong. Exit 0 when valid, 2 otherwise.

Example:
  fwd check tunnels.yaml
`,
  oneoff: `Usage: fwd -L [bind:]port:host:hostport | -L [bind:]port:/remote.sock
           [-R [bind:]port:host:hostport] [-D [bind:]port]
           [-J jump[,jump2]] [-p port] [-i identity_file] [-o Key=Value] [-F ssh_config] [--json]
           [user@]host

OpenSSH's forwarding syntax, run by fwd: keepalive, reconnect, live status. -N is implied.
Local forwards bind 127.0.0.1 unless an address is given. -o accepts StrictHostKeyChecking,
UserKnownHostsFile, IdentityFile, User, Port, ProxyJump, HostName.

Examples:
  fwd -L 8080:localhost:9990 alice@login
  fwd -L 8889:/home/alice/.jupyter/nb.sock alice@login
  fwd -R 0:localhost:3000 alice@login            (the server picks the port; fwd shows it)
  fwd -D 1080 -J bastion alice@cluster
`,
  schema: `Usage: fwd schema

Prints the JSON Schema of tunnels.yaml. For editors using yaml-language-server, add at the top
of the file:   # yaml-language-server: $schema=<path to the printed schema>
`,
};

/** The help text of a command (`up`, `check`, `oneoff`, ...), or of fwd itself. */
export function helpFor(command?: string): string {
  return (command && TEXTS[command]) || MAIN;
}

export function printHelp(io: CliIO, command: string | undefined): number {
  if (command !== undefined && !(command in TEXTS)) {
    complain(io, `no help for "${command}"`);
    return EXIT.usage;
  }
  io.stdout.write(helpFor(command));
  return EXIT.ok;
}
