"""scancel: cancel (or signal) jobs by id or by filters; only their owner or root may."""
import getopt
import os
import pwd
import signal
import sys

from . import config, hostlist, jobview, rpc, states


def parse_signal(name):
    upper = name.upper()
    if upper.isdigit():
        return upper
    short = upper[3:] if upper.startswith("SIG") else upper
    if not hasattr(signal, "SIG" + short):
        sys.stderr.write(f"Unknown job signal: {name}\n")
        sys.exit(1)
    return short


def main():
    try:
        opts, args = getopt.gnu_getopt(
            sys.argv[1:], "bfHin:p:Qs:t:u:vVw:",
            ["batch", "full", "hurry", "interactive", "name=", "jobname=", "partition=", "quiet", "signal=",
             "state=", "user=", "verbose", "version", "nodelist=", "me", "help", "usage"])
    except getopt.GetoptError as e:
        rpc.getopt_failed(e)
    sig, quiet, filters = "", False, {}
    for key, value in opts:
        if key in ("-s", "--signal"):
            sig = parse_signal(value)
        elif key in ("-Q", "--quiet"):
            quiet = True
        elif key in ("-n", "--name", "--jobname"):
            filters["names"] = value.split(",")
        elif key in ("-p", "--partition"):
            filters["partitions"] = value.split(",")
        elif key in ("-t", "--state"):
            parsed = [states.parse_state(s) for s in value.split(",")]
            if None in parsed:
                rpc.error(f"Invalid job state specified: {value}")
                return 1
            filters["states"] = parsed
        elif key in ("-u", "--user"):
            try:
                filters["uid"] = int(value) if value.isdigit() else pwd.getpwnam(value).pw_uid
            except KeyError:
                rpc.error(f"Invalid user name: {value}")
                return 1
        elif key == "--me":
            filters["uid"] = os.getuid()
        elif key in ("-w", "--nodelist"):
            filters["nodes"] = hostlist.expand(value)
        elif key in ("-V", "--version"):
            print(f"slurm {config.VERSION}")
            return 0
        elif key in ("--help", "--usage"):
            print("Usage: scancel [-A account] [--batch] [--full] [--interactive] [-n job_name]\n"
                  "               [-p partition] [-Q] [-q qos] [-R reservation] [-s signal | integer]\n"
                  "               [-t PENDING | RUNNING | SUSPENDED] [--usage] [-u user_name]\n"
                  "               [--hurry] [-V] [-v] [-w hosts...] [--wckey=wckey] [job_id[_array_id][.step_id]]")
            return 0
    try:
        ids = [int(a.split("_")[0].split(".")[0]) for a in args]
    except ValueError:
        rpc.error(f"Invalid job id {args[0]}")
        return 1
    if not ids and not filters:
        rpc.error("No job identification provided")
        return 1
    try:
        if filters:
            jobs = rpc.request("jobs")["jobs"]
            if "uid" not in filters and os.getuid() != 0:
                filters["uid"] = os.getuid()
            ids = [j["id"] for j in jobs if jobview.is_active(j) and (not ids or j["id"] in ids) and matches(j, filters)]
        results = rpc.request("cancel", ids=ids, signal=sig)["results"] if ids else {}
    except rpc.ControllerDown:
        rpc.controller_down("scancel: error: Kill job error")
    rc = 0
    for job_id, result in results.items():
        if result == "ok":
            continue
        if result == "Invalid job id specified":
            rc = 1  # silent, as 22.05 is without -v
        elif result != "Job/step already completing or completed":
            rc = 1
            if not quiet:
                rpc.error(f"Kill job error on job id {job_id}: {result}")
    return rc


def matches(job, f):
    if "names" in f and job["name"] not in f["names"]:
        return False
    if "partitions" in f and job["partition"] not in f["partitions"]:
        return False
    if "states" in f and not any(states.matches_state(job, s) for s in f["states"]):
        return False
    if "uid" in f and job["uid"] != f["uid"]:
        return False
    return "nodes" not in f or hostlist.intersects(f["nodes"], job["nodes"])


if __name__ == "__main__":
    sys.exit(main())
