"""Job and node state names as Slurm prints them (job_state_string, job_state_string_compact)."""

BASE_STATES = ["PENDING", "RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL",
               "PREEMPTED", "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"]
COMPACT = {"PENDING": "PD", "RUNNING": "R", "SUSPENDED": "S", "COMPLETED": "CD", "CANCELLED": "CA", "FAILED": "F",
           "TIMEOUT": "TO", "NODE_FAIL": "NF", "PREEMPTED": "PR", "BOOT_FAIL": "BF", "DEADLINE": "DL",
           "OUT_OF_MEMORY": "OOM"}
FLAG_STATES = {"COMPLETING": "CG", "CONFIGURING": "CF", "RESIZING": "RS", "REQUEUED": "RQ", "REQUEUE_FED": "RF",
               "REQUEUE_HOLD": "RH", "SPECIAL_EXIT": "SE", "STOPPED": "ST", "REVOKED": "RV",
               "RESV_DEL_HOLD": "RD", "SIGNALING": "SI", "STAGE_OUT": "SO"}
ACTIVE = ("PENDING", "RUNNING", "SUSPENDED")


def state_string(job):
    return "COMPLETING" if job.get("completing") else job["state"]


def state_compact(job):
    return "CG" if job.get("completing") else COMPACT[job["state"]]


def parse_state(name):
    """squeue/scancel -t: a long or short name (any case) -> ('base', NAME) or ('flag', NAME)."""
    upper = name.strip().upper()
    for long_name, short in COMPACT.items():
        if upper in (long_name, short):
            return ("base", long_name)
    for long_name, short in FLAG_STATES.items():
        if upper in (long_name, short):
            return ("flag", long_name)
    return None


def matches_state(job, parsed):
    """Slurm compares base states exactly (flags included) and flag states by bit."""
    kind, name = parsed
    if kind == "flag":
        return name == "COMPLETING" and bool(job.get("completing"))
    return job["state"] == name and not job.get("completing")


def all_state_names():
    return ",".join(BASE_STATES + ["COMPLETING", "CONFIGURING", "RESIZING", "RESV_DEL_HOLD", "REQUEUED",
                                   "REQUEUE_FED", "REQUEUE_HOLD", "REVOKED", "SIGNALING", "SPECIAL_EXIT",
                                   "STAGE_OUT", "STOPPED"])
