"""Paths, ports and tunables shared by the fake controller, node agents and client commands."""
import os

VERSION = "22.05.9"
CLUSTER_NAME = "cluster"
PARTITION = "debug"

CTL_SOCKET = "/run/slurm/slurmctld.sock"  # clients -> controller (login only; peer uid = auth)
SLURMD_SOCKET = "/run/slurm/slurmd.sock"  # pam_slurm_adopt -> node agent (root only)
RELAY_SOCKET = "/run/slurm/slurmd-client.sock"  # client commands on a node -> slurmd -> controller
CTL_PORT = 6817  # node agents -> controller, over the Docker network
AUTH_KEY_FILE = "/etc/slurm/fake-auth.key"  # shared secret, like munge.key (root 0400)
STATE_FILE = "/var/spool/slurmctld/state.json"
SLURMD_SPOOL = "/var/spool/slurmd"
KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
HOST_KEY_PUB = "/etc/ssh/ssh_host_ed25519_key.pub"


def env_float(name, default):
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw.strip() else default
    except ValueError:
        return default


def env_int(name, default):
    return int(env_float(name, default))


def controller_host():
    return os.environ.get("SLURM_FAKE_CONTROLLER", "login")


def read_auth_key():
    with open(AUTH_KEY_FILE, encoding="ascii") as f:
        return f.read().strip()
