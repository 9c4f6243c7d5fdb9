"""Derived, printable facts about a job record, shared by squeue, scontrol and scancel."""
import pwd

from . import hostlist, states


def run_seconds(job, now):
    """squeue's job_time_used: 0 while pending, up to end_time once finished."""
    if job["state"] == "PENDING" or not job.get("start_time"):
        return 0
    end = now if job["state"] == "RUNNING" and not job.get("completing") else (job.get("end_time") or now)
    return max(0, int(end - job["start_time"]))


def limit_seconds(job):
    if job.get("fake_limit_s") is not None:
        return int(job["fake_limit_s"])
    if job.get("time_limit") is None:
        return None
    return job["time_limit"] * 60


def reason(job):
    return job.get("reason") or "None"


def nodes(job):
    return hostlist.compress(job.get("nodes") or [])


def reason_or_nodes(job):
    """squeue %R: "(Reason)" for pending/failed/timed-out jobs, else the node list."""
    shows_reason = job["state"] in ("PENDING", "TIMEOUT", "FAILED", "DEADLINE", "OUT_OF_MEMORY")
    if not job.get("completing") and shows_reason:
        return f"({reason(job)})"
    return nodes(job)


def _expand(pattern, job):
    out = pattern.replace("%A", str(job["id"])).replace("%a", "4294967294").replace("%j", str(job["id"]))
    out = out.replace("%u", job["user"]).replace("%x", job["name"])
    return out if out.startswith("/") else f"{job['work_dir']}/{out}"


def stdout_path(job):
    """scontrol's StdOut=: %A %a %j %u %x expanded, relative paths under WorkDir."""
    if job.get("std_out"):
        return _expand(job["std_out"], job)
    return f"{job['work_dir']}/slurm-{job['id']}.out"


def stderr_path(job):
    if job.get("std_err"):
        return _expand(job["std_err"], job)
    return stdout_path(job)


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def is_active(job):
    return job["state"] in states.ACTIVE or bool(job.get("completing"))
