"""What slurmstepd does on a compute node, minus cgroups: start a batch script as its user, find and kill a job's
processes. A job's processes are its session, anything carrying SLURM_JOB_ID=<id> in its environment (daemons
it left behind), and SSH sessions adopted into it by pam_slurm_adopt (whole process trees)."""
import os
import shutil
import subprocess

from . import config


class LaunchError(Exception):
    pass


def spool_dir(job_id):
    return os.path.join(config.SLURMD_SPOOL, f"job{job_id:05d}")


def expand_path(pattern, job, node):
    """Output file name patterns (sbatch(1) "filename pattern"); relative paths are under the work dir."""
    out, i = [], 0
    values = {"j": job["id"], "J": job["id"], "A": job["id"], "a": 4294967294, "N": node, "n": 0, "t": 0,
              "u": job["user"], "x": job["name"], "s": "batch"}
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%" and i + 1 < len(pattern):
            key = pattern[i + 1]
            if key == "%":
                out.append("%")
            elif key in values:
                out.append(str(values[key]))
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        out.append(ch)
        i += 1
    path = "".join(out)
    return path if path.startswith("/") else os.path.join(job["work_dir"], path)


def job_env(job, node):
    env = {k: v for k, v in (job.get("env") or {}).items() if isinstance(v, str)}
    job_id, nodes = str(job["id"]), str(job["num_nodes"])
    cpus = str(job.get("cpus_on_node") or 1)
    env.update({
        "SLURM_JOB_ID": job_id, "SLURM_JOBID": job_id, "SLURM_JOB_NAME": job["name"], "SLURM_JOB_USER": job["user"],
        "SLURM_JOB_UID": str(job["uid"]), "SLURM_JOB_GID": str(job["gid"]), "SLURM_JOB_PARTITION": job["partition"],
        "SLURM_JOB_NODELIST": job["nodelist"], "SLURM_NODELIST": job["nodelist"], "SLURM_JOB_NUM_NODES": nodes,
        "SLURM_NNODES": nodes, "SLURM_CLUSTER_NAME": config.CLUSTER_NAME, "SLURMD_NODENAME": node,
        "SLURM_NODEID": "0", "SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_GTIDS": "0",
        "SLURM_CPUS_ON_NODE": cpus, "SLURM_JOB_CPUS_PER_NODE": cpus, "SLURM_TASKS_PER_NODE": str(job["ntasks"]),
        "SLURM_JOB_QOS": "normal", "SLURM_CONF": "/etc/slurm/slurm.conf", "SLURM_TOPOLOGY_ADDR": node,
        "SLURM_TOPOLOGY_ADDR_PATTERN": "node", "SLURM_PRIO_PROCESS": "0", "ENVIRONMENT": "BATCH",
        "HOSTNAME": node,
    })
    if job.get("account"):
        env["SLURM_JOB_ACCOUNT"] = job["account"]
    return env


def _open_output(path, job, append):
    existed = os.path.exists(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as e:
        raise LaunchError(f"Could not open stdout file {path}: {e.strerror}") from e
    if not existed:
        os.fchown(fd, job["uid"], job["gid"])
    return fd


def start_batch(job, node):
    """Write the script to the spool dir and start it in a new session as the job's user; returns Popen."""
    spool = spool_dir(job["id"])
    os.makedirs(spool, 0o700, exist_ok=True)
    os.chown(spool, job["uid"], job["gid"])
    script = os.path.join(spool, "slurm_script")
    with open(script, "w", encoding="utf-8") as f:
        f.write(job["script"])
    os.chmod(script, 0o700)
    os.chown(script, job["uid"], job["gid"])
    append = job.get("open_mode") == "append"
    out_path = expand_path(job.get("std_out") or "slurm-%j.out", job, node)
    err_path = expand_path(job["std_err"], job, node) if job.get("std_err") else out_path
    out_fd = _open_output(out_path, job, append)
    err_fd = out_fd if err_path == out_path else _open_output(err_path, job, append)
    in_path = expand_path(job["std_in"], job, node) if job.get("std_in") else "/dev/null"
    try:
        in_fd = os.open(in_path, os.O_RDONLY)
    except OSError as e:
        raise LaunchError(f"Could not open stdin file {in_path}: {e.strerror}") from e
    env = job_env(job, node)
    umask = int(env.get("SLURM_UMASK", "0022"), 8)
    groups = os.getgrouplist(job["user"], job["gid"])
    argv = [script, *job.get("argv", [])]
    kwargs = {"env": env, "stdin": in_fd, "stdout": out_fd, "stderr": err_fd, "user": job["uid"], "group": job["gid"],
              "extra_groups": groups, "start_new_session": True, "close_fds": True, "umask": umask}
    try:
        try:
            return subprocess.Popen(argv, cwd=job["work_dir"], **kwargs)
        except OSError as e:
            if e.filename != job["work_dir"]:
                raise
            note = f"slurmstepd: error: couldn't chdir to `{job['work_dir']}': {e.strerror}: going to /tmp instead\n"
            os.write(err_fd, note.encode())
            return subprocess.Popen(argv, cwd="/tmp", **kwargs)
    except OSError as e:
        raise LaunchError(f"execve(): {script}: {e.strerror}") from e
    finally:
        for fd in {in_fd, out_fd, err_fd}:
            os.close(fd)


def remove_spool(job_id):
    shutil.rmtree(spool_dir(job_id), ignore_errors=True)


def _read_procs():
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rindex(b")") + 2 :].split()
            uid = os.stat(f"/proc/{entry}").st_uid
        except (OSError, ValueError):
            continue
        # fields after "(comm)": state ppid pgrp session ...
        procs[int(entry)] = (fields[0].decode(), int(fields[1]), int(fields[3]), uid)
    return procs


def _has_job_tag(pid, tag):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return tag in f.read().split(b"\0")
    except OSError:
        return False


def job_pids(job_id, session, uid, roots):
    """Live pids of a job on this node (zombies do not count: they are already dead)."""
    procs = _read_procs()
    tag = f"SLURM_JOB_ID={job_id}".encode()
    me = os.getpid()
    found = set()
    for pid, (state, _ppid, sid, puid) in procs.items():
        if state == "Z" or pid in (1, me):
            continue
        if (session and sid == session) or (puid == uid and _has_job_tag(pid, tag)):
            found.add(pid)
    children = {}
    for pid, (state, ppid, _sid, _uid) in procs.items():
        if state != "Z":
            children.setdefault(ppid, []).append(pid)
    found.update(pid for pid in roots if pid in procs and procs[pid][0] != "Z")
    stack = list(found)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    found.discard(me)
    found.discard(1)
    return found


def signal_pids(pids, sig):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
