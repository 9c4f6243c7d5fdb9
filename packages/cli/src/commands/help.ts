import { type CliIO, complain, EXIT } from '../io.js';
import { SETUP_TEXTS } from './help-setup.js';

const MAIN = `fwd — SSH port forwarding from a YAML file, kept alive

Usage:
  fwd up [tunnels.yaml] [--only a,b] [--open] [--json] [--metrics 127.0.0.1:9464]
  fwd up -d [tunnels.yaml] [--replace]            the same, in the background
  fwd ps [--json]                                 background fwds: tunnels, state, errors
  fwd logs [-f] [name|file]                       a background fwd's log
  fwd down [name|file ...] [--all]                stop background fwds cleanly
  fwd reload [name|file]                          a background fwd reads its file again
  fwd stop|start NAME/TUNNEL                      stop or start one tunnel of a background fwd
  fwd check [tunnels.yaml] [--json]               validate and show the plan; no network
  fwd init [HOST] [--port 8888,6006] [--slurm JOB] [--socket PATH]   write a commented tunnels.yaml
  fwd -L [bind:]port:host:hostport [-R ..] [-D ..] [-J jump] [-p port] [-i key] [-d] [user@]host
  fwd relay --listen ADDR --allow host:port ...   websocket relay for networks that block SSH
  fwd schema                                      JSON Schema of tunnels.yaml (for editors)
  fwd completion bash|zsh|fish                    shell completion script
  fwd service install|remove [tunnels.yaml]       run fwd up FILE at login (systemd, launchd)
  fwd --version | --help | help COMMAND

Examples:
  fwd init cluster && fwd up
  fwd up -d tunnels.yaml && fwd ps
  fwd -L 8888:localhost:8888 alice@login.hpc.example.edu
  fwd -D 1080 -J bastion alice@cluster

Exit codes: 0 clean stop, 1 runtime failure (every tunnel failed), 2 usage or config error,
130 after Ctrl-C. A second Ctrl-C exits at once.
`;

const TEXTS: Record<string, string> = {
  ...SETUP_TEXTS,
  up: `Usage: fwd up [tunnels.yaml] [--only name,...] [--open] [--json] [-F ssh_config] [-d [--replace]]

Reads tunnels.yaml (default ./tunnels.yaml), resolves hosts through ~/.ssh/config, opens one
SSH connection per host and every tunnel over it, and keeps them up (keepalive, reconnect with
backoff; local ports stay bound during outages) until Ctrl-C or SIGTERM.

On a terminal it shows a live table; otherwise (or with --json) one JSON object per line per
state change, and periodic stats. Web apps (a ready: { http } check, or a target port such as
8888 Jupyter, 6006 TensorBoard, 8787 RStudio, 8501 Streamlit, 3000, 5000, 8000, 8080) get the URL
to open in the table and as "url" in their forwards. Local ports that browsers refuse (the Fetch
standard's bad ports: 6000, 6665-6669, 10080, ...) are warned about; a port below 1024 that this
user may not bind is refused before anything starts.

--open (or open: true on a tunnel) opens each web app's URL in the default browser once its tunnel
is up: Jupyter's URL with its token when fwd reads it from the job's output (slurm.urlFromOutput).
$BROWSER when set, else open (macOS), start (Windows) or xdg-open; without a display (DISPLAY,
WAYLAND_DISPLAY) it only says so. With -d this process waits for the tunnels and opens them.

-d runs the same in the background, like ssh -f but managed: fwd up -d returns once every tunnel
is up or waiting (for its Slurm job to run, or its app to answer its ready check: it says so),
printing the table. If one failed, or its host refused or did not answer the first attempt (or
is still connecting after 120 s), it prints why, stops the background fwd and exits 1. It cannot
ask for passwords or passphrases (no terminal): use keys or ssh-agent. Its log is
$XDG_STATE_HOME/fwd/NAME.log (~/.local/state/fwd; the previous run's is NAME.log.1), its control socket
$XDG_RUNTIME_DIR/fwd/NAME.sock (else ~/.local/state/fwd/run-HOST/): NAME is the file's base name
and a hash of its path, so a second fwd up -d of the same file says it is already running.
Manage it with fwd ps, fwd logs, fwd down.

SIGHUP reads the file again and applies the difference (as fwd reload does for a background
fwd): added tunnels start, removed ones stop, changed ones restart, the others and their open
connections go on; a file with problems is reported (file:line:col) and the running set kept.
One exception, SIGHUP's old meaning: a fwd started on a terminal stops when that terminal is gone
(none of stdin, stdout, stderr is a terminal any more), as when its window is closed.

Options:
  -d, --detach   run in the background (see above)
  --replace      with -d: stop the one already running for this file first
  --only a,b     bring up only these tunnels
  --open         open web apps in the browser once up (see above)
  --json         NDJSON output even on a terminal
  --stats-interval 10s   how often stats events are printed (NDJSON) or the table refreshes
  --metrics [HOST:]PORT  serve Prometheus /metrics and /healthz (loopback unless HOST is given)
  -F FILE        ssh config file instead of ~/.ssh/config

Examples:
  fwd up
  fwd up ~/cluster.yaml --only notebook
  fwd up tunnels.yaml --json | jq .
  fwd up -d ~/cluster.yaml
`,
  ps: `Usage: fwd ps [--json]

Lists every background fwd of this user (fwd up -d): its name, file, pid and uptime, then the
status table as fwd up draws it (state, local address, target, connections, bytes, last error,
URL to open). Each is asked over its control socket; the socket of one that died (killed,
crashed) is found stale, removed and reported. --json prints the same as a JSON array.

Control sockets are mode 0600 in a 0700 directory that fwd checks is yours before using it:
only you can ask or stop your fwds (Node cannot check the peer's credentials, so these
permissions are the guard).
`,
  down: `Usage: fwd down [name|file ...] [--all] [--timeout 30s]

Stops background fwds cleanly: listeners closed, channels ended, Slurm jobs fwd submitted
cancelled; then waits until each process is gone (up to --timeout). A name is what fwd ps shows
("tunnels-3f2a1c"), its first part ("tunnels") when that is unambiguous, or the config file.
Without one: the fwd of ./tunnels.yaml, else the only one running. Exit 1 when nothing matched
or one did not stop in time.

Examples:
  fwd down
  fwd down tunnels
  fwd down --all
`,
  logs: `Usage: fwd logs [-f] [--json] [--stats] [name|file]

Prints a background fwd's log (NDJSON, one event per line), readably on a terminal; raw with
--json or when piped. -f follows it until that fwd stops (or Ctrl-C). --stats includes the
periodic counters. Names as for fwd down; without one, the only running fwd's log.
`,
  check: `Usage: fwd check [tunnels.yaml] [-F ssh_config] [--json]

Validates tunnels.yaml and resolves every host through ~/.ssh/config as \`ssh -G\` does, without
touching the network, then prints the plan: user, address, jump chain, ProxyCommand (shown, never
run), keys and certificates, host key checking with its known_hosts files, keepalive and timeouts,
the ~/.ssh/config keywords fwd ignores for that host, every forward, and the URL to open for web
apps. Every problem is listed at once as FILE:LINE:COL  key.path: what is wrong. Warns about local
ports browsers refuse, privileged ports this user may not bind, and host keys that would not be
verified. --json prints the resolved hosts and tunnels as JSON (secrets left out). Exit 0 when
valid, 2 otherwise.

Example:
  fwd check tunnels.yaml
`,
  oneoff: `Usage: fwd -L [bind:]port:host:hostport | -L [bind:]port:/remote.sock
           [-R [bind:]port:host:hostport] [-D [bind:]port]
           [-J jump[,jump2]] [-p port] [-i identity_file] [-o Key=Value] [-F ssh_config] [--json]
           [--open] [-d [--replace]] [user@]host

OpenSSH's forwarding syntax, run by fwd: keepalive, reconnect, live status. -N is implied.
-d (or ssh's -f) runs it in the background, as fwd up -d does; --replace restarts it.
Local forwards bind 127.0.0.1 unless an address is given. -o accepts StrictHostKeyChecking,
UserKnownHostsFile, IdentityFile, User, Port, ProxyJump, HostName. --open opens a web app's URL
(a well-known port such as 8888 or 6006) in the browser once the tunnel is up.

Examples:
  fwd -L 8080:localhost:9990 alice@login
  fwd -L 8889:/home/alice/.jupyter/nb.sock alice@login
  fwd -R 0:localhost:3000 alice@login            (the server picks the port; fwd shows it)
  fwd -D 1080 -J bastion alice@cluster
  fwd -N -f -L 8888:localhost:8888 alice@login     (ssh -f style: in the background)
`,
  relay: `Usage: fwd relay --listen ADDR --allow HOST:PORT[,...] (--token-file FILE | FWD_RELAY_TOKENS=...)
                 [--tls-cert FILE --tls-key FILE] [--max-connections N] [--idle-timeout 10m]
                 [--drain-timeout 10s]

Carries SSH over websockets for clients on networks where only HTTP(S) gets out. Clients reach
only the --allow targets (the first is the default); SSH stays end to end.

Options:
  --listen ADDR          where to listen: 0.0.0.0:8080, 127.0.0.1:8080, [::]:8080 or :8080
  --allow LIST           SSH hosts clients may reach, host:port, comma-separated or repeated
  --token-file FILE      accepted bearer tokens, one per line (# comments); or set
                         FWD_RELAY_TOKENS (comma/newline separated). Tokens are ≥16 characters.
  --tls-cert, --tls-key  PEM files: serve wss:// directly (else plain ws:// behind a TLS proxy)
  --max-connections N    client connections (tunnels and handshakes in progress) beyond which
                         new ones get 503 (default 2048); a handshake has 5 s to send its request
  --idle-timeout DUR     close tunnels without traffic for this long (default: never)
  --drain-timeout DUR    on SIGTERM, how long open tunnels may go on (default 10s)

Logs one JSON object per line on stdout; tokens are never logged. GET /healthz answers with stats.
SIGHUP reads --token-file again (open tunnels go on; a broken file keeps the old tokens).
Exit 0 after SIGINT/SIGTERM and the drain, 1 when it cannot listen, 2 for usage or config errors.
`,
  reload: `Usage: fwd reload [name|file]

A background fwd reads its file again and applies the difference: tunnels added to the file
start, removed ones stop, changed ones restart (a host whose settings changed, in the file or in
~/.ssh/config, restarts its tunnels). The other tunnels and their open connections are not
touched. A file with problems is refused with them, file:line:col (exit 2), and the running
tunnels go on. Names as for fwd down. SIGHUP does the same (kill -HUP PID, systemctl --user
reload): see fwd help up.
`,
  stop: `Usage: fwd stop NAME/TUNNEL      fwd start NAME/TUNNEL

Stops one tunnel of a background fwd (its listeners close, its connections end) and starts it
again; the others go on. NAME as for fwd down (its first part will do); TUNNEL alone when one
fwd runs. A stopped tunnel stays stopped across fwd reload while the file has it; fwd ps shows
it as stopped.
`,
  schema: `Usage: fwd schema

Prints the JSON Schema of tunnels.yaml. For editors using yaml-language-server, add at the top
of the file:   # yaml-language-server: $schema=<path to the printed schema>
`,
};

// fwd start is fwd stop's other half.
TEXTS.start = TEXTS.stop as string;

/** The help text of a command (`up`, `check`, `oneoff`, ...), or of fwd itself. */
export function helpFor(command?: string): string {
  return (command !== undefined && Object.hasOwn(TEXTS, command) && TEXTS[command]) || MAIN;
}

export function printHelp(io: CliIO, command: string | undefined): number {
  if (command !== undefined && !Object.hasOwn(TEXTS, command)) {
    complain(io, `no help for "${command}"`);
    return EXIT.usage;
  }
  io.stdout.write(helpFor(command));
  return EXIT.ok;
}
