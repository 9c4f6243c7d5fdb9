"""Client side of the controller socket: one JSON request line, one JSON reply line."""
import json
import os
import socket
import sys

from . import config


class ControllerDown(Exception):
    pass


def request(op, **fields):
    """On login: the controller's socket. On a node: slurmd relays (it vouches for our uid, like munge)."""
    path = config.CTL_SOCKET if os.path.exists(config.CTL_SOCKET) else config.RELAY_SOCKET
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        raise ControllerDown() from e
    with sock, sock.makefile("rwb") as f:
        f.write(json.dumps({"op": op, **fields}).encode() + b"\n")
        f.flush()
        line = f.readline()
    if not line:
        raise ControllerDown()
    return json.loads(line)


def prog():
    return os.path.basename(sys.argv[0])


def error(msg):
    """Slurm's log format for client errors: "squeue: error: ..."."""
    sys.stderr.write(f"{prog()}: error: {msg}\n")


def controller_down(prefix):
    sys.stderr.write(f"{prefix}: Unable to contact slurm controller (connect failure)\n")
    sys.exit(1)


def usage_error(msg):
    sys.stderr.write(f"{prog()}: {msg}\nTry \"{prog()} --help\" for more information\n")
    sys.exit(1)


def getopt_failed(err):
    """GNU getopt's wording for a bad option, then Slurm's usage hint; exits 1."""
    opt = err.opt
    if "not recognized" in err.msg:
        text = f"unrecognized option '--{opt}'" if len(opt) > 1 else f"invalid option -- '{opt}'"
    elif "requires argument" in err.msg:
        text = f"option '--{opt}' requires an argument" if len(opt) > 1 else f"option requires an argument -- '{opt}'"
    elif "must not have an argument" in err.msg:
        text = f"option '--{opt}' doesn't allow an argument"
    else:
        text = err.msg
    usage_error(text)
