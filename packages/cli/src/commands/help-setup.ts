/** Help on the commands that set fwd up on a machine (help.ts merges them in). */
export const SETUP_TEXTS: Readonly<Record<string, string>> = {
  init: `Usage: fwd init [HOST] [-p|--port PORT[:REMOTE],...] [--slurm JOB_ID|JOB_NAME]
                [--socket /path/on/host.sock] [-o FILE] [--force] [-F ssh_config]

Writes a commented tunnels.yaml (or FILE) for HOST, a Host of ~/.ssh/config (or
[user@]host[:port]): one tunnel per port (default 8888) from 127.0.0.1:PORT here to that port on
HOST, or on the node of a Slurm job (--slurm: its id, or the name of your newest running job),
or to a unix socket the app listens on (--socket, e.g. jupyter lab --sock PATH: private to you,
where a TCP port on a shared machine is open to every user). The optional settings are in the
file, commented out. On a terminal, fwd init asks for what the flags do not say.

The file is checked as fwd check would before it is written (exit 2 when it would be invalid,
e.g. an unknown host). An existing file is never replaced without --force (exit 1).

Examples:
  fwd init                                     (asks)
  fwd init cluster --port 8888,6006
  fwd init cluster --slurm jupyter --socket /home/alice/.jupyter/nb.sock
  fwd init alice@login.hpc.example.edu -o ~/cluster.yaml
`,
  completion: `Usage: fwd completion bash|zsh|fish

Prints a completion script: commands, flags, tunnels files, the tunnels of the file on the line
(fwd up FILE --only a,<TAB>), background fwds (fwd down, fwd logs) and the Hosts of
~/.ssh/config (fwd init, one-offs). Names are looked up when TAB is pressed (fwd __complete).

Enable it:
  bash   eval "$(fwd completion bash)"      in ~/.bashrc
  zsh    eval "$(fwd completion zsh)"       in ~/.zshrc
  fish   fwd completion fish > ~/.config/fish/completions/fwd.fish
`,
  service: `Usage: fwd service install [tunnels.yaml] [--print] [--no-start] [--force]
       fwd service remove [tunnels.yaml] [--no-start]

install runs fwd up FILE at each login and restarts it when it fails: a systemd user unit
(~/.config/systemd/user/fwd-NAME.service; its log: journalctl --user -u fwd-NAME) on Linux, a
launchd agent (~/Library/LaunchAgents/fwd.NAME.plist; log in ~/Library/Logs/fwd/) on macOS.
NAME is the file's, as fwd ps shows background fwds. The file is checked first (exit 2 when
fwd check would refuse it). Exit 1 from fwd (every tunnel failed) is retried every 10 s; exit 2
(the file became invalid) is not: fix it, then install again. systemctl --user reload
fwd-NAME (SIGHUP) applies an edited file without disturbing the tunnels it did not change. It
runs this node and this fwd by their paths: install again after moving or upgrading either. Keys
must not need a passphrase prompt: use an agent (a socket under $XDG_RUNTIME_DIR is passed on)
or a key without one.
On Linux, loginctl enable-linger keeps it running while you are logged out.

  --print      print the unit or agent, write nothing
  --no-start   write (or delete) the file only; print the commands that start it
  --force      replace a file of that name that fwd did not write

remove stops it and deletes the file (only one fwd wrote).
`,
};
