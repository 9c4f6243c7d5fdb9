"""squeue: job queue with Slurm 22.05's default columns, filters, sort order and -o/-O formats."""
import getopt
import os
import pwd
import sys
import time

from . import columns, hostlist, jobview, rpc, states, timefmt
from .hostlist import natural_key

DEFAULT_FORMAT = "jobarrayid:.18 ,partition:.9 ,name:.8 ,username:.8 ,statecompact:.2 ,timeused:.10 ,numnodes:.6 ,reasonlist:0"
LONG_FORMAT = ("jobarrayid:.18 ,partition:.9 ,name:.8 ,username:.8 ,state:.8 ,timeused:.10 ,timelimit:.9 ,"
               "numnodes:.6 ,reasonlist:0")
STATE_ORDER = {name: i for i, name in enumerate(states.BASE_STATES)}


def _time_or_na(t):
    return timefmt.timestamp(t) if t else "N/A"


def _end_time(job, now):
    limit = jobview.limit_seconds(job)
    if job["state"] == "RUNNING" and not job["completing"]:
        return "NONE" if limit is None else _time_or_na(job["start_time"] + limit)
    return _time_or_na(job.get("end_time"))


def _time_left(job, now):
    limit = jobview.limit_seconds(job)
    if limit is None:
        return "UNLIMITED"
    return timefmt.squeue_secs(limit - jobview.run_seconds(job, now))


def _time_limit(job, _now):
    limit = jobview.limit_seconds(job)
    return "UNLIMITED" if limit is None else timefmt.squeue_secs(limit)


def _num_cpus(job):
    return str(job["ntasks"] * job["cpus_per_task"])


# letter -> (header, value(job, now), cut value to width, cut header)
FIELDS = {
    "i": ("JOBID", lambda j, n: str(j["id"]), True, True),
    "A": ("JOBID", lambda j, n: str(j["id"]), True, True),
    "F": ("ARRAY_JOB_ID", lambda j, n: str(j["id"]), True, True),
    "K": ("ARRAY_TASK_ID", lambda j, n: "N/A", True, True),
    "j": ("NAME", lambda j, n: j["name"], True, True),
    "T": ("STATE", lambda j, n: states.state_string(j), True, True),
    "t": ("ST", lambda j, n: states.state_compact(j), True, True),
    "N": ("NODELIST", lambda j, n: jobview.nodes(j), False, False),
    "R": ("NODELIST(REASON)", lambda j, n: jobview.reason_or_nodes(j), False, False),
    "r": ("REASON", lambda j, n: jobview.reason(j), True, True),
    "M": ("TIME", lambda j, n: timefmt.squeue_secs(jobview.run_seconds(j, n)), False, True),
    "l": ("TIME_LIMIT", _time_limit, False, True),
    "L": ("TIME_LEFT", _time_left, False, True),
    "u": ("USER", lambda j, n: j["user"], True, True),
    "U": ("UID", lambda j, n: str(j["uid"]), True, True),
    "g": ("GROUP", lambda j, n: j["group"], True, True),
    "G": ("GROUP", lambda j, n: str(j["gid"]), True, True),
    "P": ("PARTITION", lambda j, n: j["partition"], True, True),
    "D": ("NODES", lambda j, n: str(len(j["nodes"]) or j["num_nodes"]), True, True),
    "C": ("CPUS", lambda j, n: _num_cpus(j), True, True),
    "c": ("MIN_CPUS", lambda j, n: str(j["cpus_per_task"]), True, True),
    "S": ("START_TIME", lambda j, n: _time_or_na(j.get("start_time")), True, True),
    "V": ("SUBMIT_TIME", lambda j, n: _time_or_na(j["submit_time"]), True, True),
    "e": ("END_TIME", _end_time, True, True),
    "Z": ("WORK_DIR", lambda j, n: j["work_dir"], True, True),
    "o": ("COMMAND", lambda j, n: j.get("command"), True, True),
    "a": ("ACCOUNT", lambda j, n: j.get("account"), True, True),
    "q": ("QOS", lambda j, n: j["qos"], True, True),
    "p": ("PRIORITY", lambda j, n: f"{j['priority'] / 0xFFFFFFFF:16.14f}", True, True),
    "Q": ("PRIORITY", lambda j, n: str(j["priority"]), True, True),
    "B": ("EXEC_HOST", lambda j, n: j.get("batch_host") or "n/a", True, True),
    "k": ("COMMENT", lambda j, n: j.get("comment"), True, True),
    "n": ("REQ_NODES", lambda j, n: hostlist.compress(j["req_nodes"]), False, True),
    "x": ("EXC_NODES", lambda j, n: hostlist.compress(j["exc_nodes"]), False, True),
    "E": ("DEPENDENCY", lambda j, n: None, True, True),
    "f": ("FEATURES", lambda j, n: None, True, True),
    "h": ("OVER_SUBSCRIBE", lambda j, n: "NO" if j["exclusive"] else "OK", True, True),
    "m": ("MIN_MEMORY", lambda j, n: "0", True, True),
    "d": ("MIN_TMP_DISK", lambda j, n: "0", True, True),
    "O": ("CONTIGUOUS", lambda j, n: "0", True, True),
    "y": ("NICE", lambda j, n: "0", True, True),
    "v": ("RESERVATION", lambda j, n: None, True, True),
    "w": ("WCKEY", lambda j, n: None, True, True),
    "W": ("LICENSES", lambda j, n: None, True, True),
    "Y": ("SCHEDNODES", lambda j, n: None, False, False),
    "z": ("S:C:T", lambda j, n: "*:*:*", True, True),
}
LONG_NAMES = {
    "jobarrayid": "i", "jobid": "A", "arrayjobid": "F", "arraytaskid": "K", "name": "j", "state": "T",
    "statecompact": "t", "nodelist": "N", "reasonlist": "R", "reason": "r", "timeused": "M", "timelimit": "l",
    "timeleft": "L", "username": "u", "userid": "U", "groupname": "g", "groupid": "G", "partition": "P",
    "numnodes": "D", "numcpus": "C", "mincpus": "c", "starttime": "S", "submittime": "V", "endtime": "e",
    "workdir": "Z", "command": "o", "account": "a", "qos": "q", "priority": "p", "prioritylong": "Q",
    "batchhost": "B", "comment": "k", "reqnodes": "n", "dependency": "E", "feature": "f", "oversubscribe": "h",
    "minmemory": "m", "mintmpdisk": "d", "contiguous": "O", "nice": "y", "reservation": "v", "wckey": "w",
    "licenses": "W", "schednodes": "Y",
}
EXTRA_LONG = {
    "stdout": ("STDOUT", lambda j, n: j.get("std_out") or f"{j['work_dir']}/slurm-{j['id']}.out"),
    "stderr": ("STDERR", lambda j, n: j.get("std_err") or j.get("std_out") or f"{j['work_dir']}/slurm-{j['id']}.out"),
    "exit_code": ("EXIT_CODE", lambda j, n: f"{j['exit_status']}:{j['exit_signal']}"),
}


def build_columns(fmt_short, fmt_long):
    """[(header, value_fn, width, right, suffix, cut_value, cut_header)]"""
    out = []
    if fmt_short is not None:
        for letter, width, right, suffix in columns.parse_short(fmt_short):
            if letter == "":
                out.append(("", lambda j, n: "", 0, False, suffix, True, True))
            elif letter in FIELDS:
                header, fn, cut, cut_header = FIELDS[letter]
                out.append((header, fn, width, right, suffix, cut, cut_header))
            else:
                rpc.error(f"Invalid job format specification: {letter}")
        return out
    for name, width, right, suffix in columns.parse_long(fmt_long):
        if name in LONG_NAMES:
            header, fn, cut, cut_header = FIELDS[LONG_NAMES[name]]
            out.append((header, fn, width, right, suffix, cut, cut_header))
        elif name in EXTRA_LONG:
            header, fn = EXTRA_LONG[name]
            out.append((header, fn, width, right, suffix, True, True))
        else:
            rpc.error(f"Invalid job format specification: {name}")
    return out


def render(cols, job, now):
    parts = []
    for header, fn, width, right, suffix, cut, cut_header in cols:
        if job is None:
            parts.append(columns.pad(header, width, right, cut_header) if header else "")
        else:
            parts.append(columns.pad(fn(job, now), width, right, cut) if header else "")
        parts.append(suffix)
    return "".join(parts)


def split_list(value):
    return [x for x in value.split(",") if x]


def parse_users(value):
    uids = []
    for user in split_list(value):
        try:
            uids.append(int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid)
        except KeyError:
            rpc.error(f"Invalid user: {user}")
            sys.exit(1)
    return uids


def parse_states(value):
    if value.lower() == "all":
        return "all"
    parsed = []
    for name in split_list(value):
        state = states.parse_state(name)
        if state is None:
            rpc.error(f"Invalid job state specified: {name}")
            rpc.error(f"Valid job states include: {states.all_state_names()}\n")
            sys.exit(1)
        parsed.append(state)
    return parsed


def keep(job, o):
    if o["jobs"] is not None and job["id"] not in o["jobs"]:
        return False
    if o["states"] == "all":
        pass
    elif o["states"]:
        if not any(states.matches_state(job, s) for s in o["states"]):
            return False
    elif not jobview.is_active(job):
        return False
    if o["nodes"] is not None and not hostlist.intersects(o["nodes"], job["nodes"]):
        return False
    if o["users"] is not None and job["uid"] not in o["users"]:
        return False
    if o["names"] is not None and job["name"] not in o["names"]:
        return False
    return o["partitions"] is None or job["partition"] in o["partitions"]


def main():
    try:
        opts, rest = getopt.gnu_getopt(
            sys.argv[1:], "ahj:ln:o:O:p:rS:t:u:vVw:",
            ["all", "noheader", "jobs=", "long", "name=", "format=", "Format=", "partition=", "array", "sort=",
             "states=", "user=", "verbose", "version", "nodelist=", "me", "help", "usage", "noconvert", "local"])
    except getopt.GetoptError as e:
        rpc.getopt_failed(e)
    o = {"jobs": None, "states": None, "nodes": None, "users": None, "names": None, "partitions": None}
    header, fmt_short, fmt_long, long_list = True, None, None, False
    for key, value in opts:
        if key in ("-h", "--noheader"):
            header = False
        elif key in ("-j", "--jobs"):
            try:
                o["jobs"] = [int(x.split("_")[0]) for x in split_list(value)]
            except ValueError:
                rpc.error(f"Invalid job id: {value}")
                return 1
        elif key in ("-l", "--long"):
            long_list = True
        elif key in ("-n", "--name"):
            o["names"] = split_list(value)
        elif key in ("-o", "--format"):
            fmt_short = value
        elif key in ("-O", "--Format"):
            fmt_long = value
        elif key in ("-p", "--partition"):
            o["partitions"] = split_list(value)
        elif key in ("-t", "--states"):
            o["states"] = parse_states(value)
        elif key in ("-u", "--user"):
            o["users"] = parse_users(value)
        elif key == "--me":
            o["users"] = [os.getuid()]
        elif key in ("-w", "--nodelist"):
            o["nodes"] = hostlist.expand(value)
        elif key in ("-V", "--version"):
            print("slurm 22.05.9")
            return 0
        elif key in ("--help", "--usage"):
            print("Usage: squeue [-A account] [--clusters names] [-i seconds] [--job jobid]\n"
                  "              [-n name] [-o format] [--only-job-state] [-p partitions]\n"
                  "              [--qos qos] [--reservation reservation] [--sort fields] [--start]\n"
                  "              [--step step_id] [-t states] [-u user_name] [--usage]\n"
                  "              [-L licenses] [-w nodes] [--federation] [--local] [--sibling]\n"
                  "              [-ahjlrsv]")
            return 0
    if rest:
        rpc.error(f"Unrecognized option: {rest[0]}")
        return 1
    if fmt_short is None and fmt_long is None:
        fmt_short = os.environ.get("SQUEUE_FORMAT")
        if fmt_short is None:
            fmt_long = os.environ.get("SQUEUE_FORMAT2") or (LONG_FORMAT if long_list else DEFAULT_FORMAT)
    try:
        reply = rpc.request("jobs")
    except rpc.ControllerDown:
        rpc.controller_down("slurm_load_jobs error")
    now = reply["now"]
    jobs = reply["jobs"]
    if o["jobs"] is not None and len(o["jobs"]) == 1 and not any(j["id"] == o["jobs"][0] for j in jobs):
        sys.stderr.write("slurm_load_jobs error: Invalid job id specified\n")
        return 1
    cols = build_columns(fmt_short, fmt_long)
    if long_list and header:
        print(time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(now)))
    lines = []
    if header:
        lines.append(render(cols, None, now))
    shown = [j for j in jobs if keep(j, o)]
    # default sort "P,t,-p": partition, state (pending first), priority (highest first)
    shown.sort(key=lambda j: (j["partition"], STATE_ORDER[j["state"]], -j["priority"], natural_key(str(j["id"]))))
    lines += [render(cols, j, now) for j in shown]
    sys.stdout.write("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
