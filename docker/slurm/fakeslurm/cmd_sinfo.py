"""sinfo: partition/node summary with Slurm 22.05's default columns (and -N, -o, -h, -p, -t)."""
import getopt
import sys

from . import columns, config, hostlist, rpc
from .hostlist import natural_key

DEFAULT_FORMAT = "%#P %.5a %.10l %.6D %.6t %N"
NODE_FORMAT = "%#N %.6D %.9P %6t"
# sort weight: Slurm sorts by node state number, descending (mix 5, alloc 3, idle 2, down 1, unknown 0)
STATE_RANK = {"mix": 5, "alloc": 3, "idle": 2, "down": 1, "unk": 0}
LONG_STATE = {"mix": "mixed", "alloc": "allocated", "idle": "idle", "down": "down", "unk": "unknown"}


def node_state(node):
    if not node["up"]:
        return ("down" if node.get("ever") else "unk"), "*"
    if node["alloc_cpus"] >= node["cpus"]:
        return "alloc", ""
    return ("mix" if node["alloc_cpus"] else "idle"), ""


def cell(letter, group):
    state, flag = group["state"]
    names = group["names"]
    values = {
        "P": f"{config.PARTITION}*", "R": config.PARTITION, "a": "up", "l": "infinite", "D": str(len(names)),
        "t": state + flag, "T": LONG_STATE[state] + flag, "N": hostlist.compress(names),
        "n": hostlist.compress(names), "c": str(group["cpus"]), "C": group["cpu_summary"], "m": "1", "O": "0.00",
        "e": "N/A", "f": "(null)", "G": "(null)", "s": "infinite", "z": "1:1:1",
    }
    return values.get(letter, "")


HEADERS = {"P": "PARTITION", "R": "PARTITION", "a": "AVAIL", "l": "TIMELIMIT", "D": "NODES", "t": "STATE",
           "T": "STATE", "N": "NODELIST", "n": "HOSTNAMES", "c": "CPUS", "C": "CPUS(A/I/O/T)", "m": "MEMORY",
           "O": "CPU_LOAD", "e": "FREE_MEM", "f": "AVAIL_FEATURES", "G": "GRES", "s": "JOB_SIZE", "z": "S:C:T"}


def main():
    try:
        opts, _args = getopt.gnu_getopt(sys.argv[1:], "ahlNn:o:p:st:vV",
                                        ["all", "noheader", "long", "Node", "nodes=", "format=", "partition=",
                                         "summarize", "states=", "verbose", "version", "help", "usage"])
    except getopt.GetoptError as e:
        rpc.getopt_failed(e)
    header, node_flag, fmt, want_nodes, want_states, other_partition = True, False, None, None, None, False
    for key, value in opts:
        if key in ("-h", "--noheader"):
            header = False
        elif key in ("-N", "--Node"):
            node_flag = True
        elif key in ("-n", "--nodes"):
            want_nodes = set(hostlist.expand(value))
        elif key in ("-o", "--format"):
            fmt = value
        elif key in ("-t", "--states"):
            want_states = {s.lower().rstrip("*") for s in value.split(",")}
        elif key in ("-p", "--partition"):
            other_partition = config.PARTITION not in value.split(",")
        elif key in ("-V", "--version"):
            print(f"slurm {config.VERSION}")
            return 0
    try:
        nodes = rpc.request("nodes")["nodes"]
    except rpc.ControllerDown:
        rpc.controller_down("slurm_load_partitions")
    if want_nodes is not None:
        nodes = [n for n in nodes if n["name"] in want_nodes]
    groups = {}
    for node in [] if other_partition else nodes:
        state = node_state(node)
        if want_states is not None and state[0] not in want_states and LONG_STATE[state[0]] not in want_states:
            continue
        key = node["name"] if node_flag else state
        g = groups.setdefault(key, {"state": state, "names": [], "cpus": node["cpus"], "alloc": 0, "idle": 0,
                                    "other": 0, "total": 0})
        g["names"].append(node["name"])
        g["alloc"] += node["alloc_cpus"]
        g["total"] += node["cpus"]
        g["idle" if node["up"] else "other"] += node["cpus"] - node["alloc_cpus"]
    for g in groups.values():
        g["cpu_summary"] = f"{g['alloc']}/{g['idle']}/{g['other']}/{g['total']}"
    ordered = sorted(groups.values(), key=lambda g: natural_key(g["names"][0]))
    if not node_flag:
        ordered.sort(key=lambda g: -STATE_RANK[g["state"][0]])  # "#P,-t"
    # "%#P"/"%#N": as wide as the widest partition/node name (partitions at least 9, like MIN_PART_FIELD_SIZE)
    part_width = max(9, len(config.PARTITION) + 1)
    node_width = max([len(hostlist.compress(g["names"])) for g in ordered] + [9])  # MIN_NODE_FIELD_SIZE
    spec = (fmt or (NODE_FORMAT if node_flag else DEFAULT_FORMAT))
    spec = spec.replace("%#P", f"%{part_width}P").replace("%#N", f"%{node_width}N")
    cols = columns.parse_short(spec)
    lines = []
    for g in ([None] if header else []) + ordered:
        parts = []
        for letter, width, right, suffix in cols:
            if letter:
                parts.append(columns.pad(HEADERS.get(letter, "") if g is None else cell(letter, g), width, right))
            parts.append(suffix)
        lines.append("".join(parts))
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
