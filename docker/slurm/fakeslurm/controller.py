"""The fake slurmctld's job state machine: submit, schedule onto nodes, end, purge. No sockets here."""
import grp
import json
import math
import os
import pwd
import time

from . import config, hostlist
from .hostlist import natural_key

PRIORITY_BASE = 0xFFFF0000  # priority/basic: the first job gets 4294901759, like a fresh real cluster
TERMINATING_SIGNALS = ("", "KILL", "SIGKILL", "9")


class Settings:
    def __init__(self):
        self.pending_s = config.env_float("SLURM_FAKE_PENDING_SECONDS", 1.0)
        self.min_job_age = config.env_float("SLURM_FAKE_MIN_JOB_AGE", 300.0)
        self.kill_wait = config.env_float("SLURM_FAKE_KILL_WAIT", 2.0)
        self.completing_s = config.env_float("SLURM_FAKE_COMPLETING_SECONDS", 0.0)
        self.slurmd_timeout = config.env_float("SLURM_FAKE_SLURMD_TIMEOUT", 300.0)
        self.first_job_id = config.env_int("SLURM_FAKE_FIRST_JOB_ID", 1)
        self.node_names = hostlist.expand(os.environ.get("SLURM_FAKE_NODES", ""))


class Controller:
    """All job and node state. `send(node, message)` delivers to a node agent; returns False if it is gone."""

    def __init__(self, settings, send, log):
        self.s = settings
        self.send = send
        self.log = log
        self.jobs = {}
        self.nodes = {}
        self.next_id = settings.first_job_id
        self.dirty = False
        self._load()
        for name in settings.node_names:
            self.nodes.setdefault(name, _new_node(name))
        for node in self.nodes.values():
            node["up"] = False  # nobody is connected after a (re)start
            node["down_since"] = time.time()

    # ---- persistence -------------------------------------------------------------------------------------
    def _load(self):
        try:
            with open(config.STATE_FILE, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError):
            return
        self.next_id = max(state.get("next_id", 1), self.s.first_job_id)
        self.jobs = {int(k): v for k, v in state.get("jobs", {}).items()}
        self.nodes = state.get("nodes", {})

    def persist(self):
        if not self.dirty:
            return
        self.dirty = False
        tmp = config.STATE_FILE + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"next_id": self.next_id, "jobs": self.jobs, "nodes": self.nodes}, f)
        os.replace(tmp, config.STATE_FILE)

    # ---- clients -----------------------------------------------------------------------------------------
    def submit(self, spec, uid):
        try:
            pw = pwd.getpwuid(uid)
        except KeyError:
            return {"error": "Invalid user id"}
        partition = spec.get("partition") or config.PARTITION
        if partition != config.PARTITION:
            return {"error": "Invalid partition name specified"}
        req_nodes = spec.get("req_nodes") or []
        exc_nodes = spec.get("exc_nodes") or []
        if any(n not in self.nodes for n in req_nodes + exc_nodes):
            return {"error": "Invalid node name specified"}
        num_nodes = max(spec.get("num_nodes") or 1, len(req_nodes))
        if num_nodes > len(self.nodes) - len(exc_nodes):
            return {"error": "Node count specification invalid"}
        ntasks = spec.get("ntasks") or 1
        cpus_per_task = spec.get("cpus_per_task") or 1
        if self.nodes and cpus_per_task * math.ceil(ntasks / num_nodes) > max(n["cpus"] for n in self.nodes.values()):
            return {"error": "Requested node configuration is not available"}
        now = time.time()
        job_id = self.next_id
        self.next_id += 1
        try:
            group = grp.getgrgid(pw.pw_gid).gr_name
        except KeyError:
            group = str(pw.pw_gid)
        begin = spec.get("begin_time")
        self.jobs[job_id] = {
            "id": job_id, "name": spec.get("name") or "sbatch", "uid": uid, "gid": pw.pw_gid, "user": pw.pw_name,
            "group": group, "partition": partition, "account": spec.get("account"), "qos": "normal",
            "state": "PENDING", "completing": False, "reason": "None", "exit_status": 0, "exit_signal": 0,
            "submit_time": now, "eligible_time": None, "accrue_time": now, "start_time": None, "end_time": None,
            "last_sched_eval": None, "time_limit": spec.get("time_limit"), "fake_limit_s": spec.get("fake_limit_s"),
            "pending_s": self.s.pending_s if spec.get("fake_pending_s") is None else spec["fake_pending_s"],
            "fail_pending": spec.get("fake_fail_pending"), "begin_time": begin, "req_nodes": req_nodes,
            "exc_nodes": exc_nodes, "num_nodes": num_nodes, "max_nodes": spec.get("max_nodes"), "ntasks": ntasks,
            "cpus_per_task": cpus_per_task, "exclusive": bool(spec.get("exclusive")), "nodes": [],
            "batch_host": None, "cpus_per_node": 0, "work_dir": spec["work_dir"], "std_out": spec.get("std_out"),
            "std_err": spec.get("std_err"), "std_in": spec.get("std_in"), "open_mode": spec.get("open_mode"),
            "command": spec.get("command"), "script": spec["script"], "argv": spec.get("argv") or [],
            "env": spec.get("env") or {}, "alloc_node": spec.get("submit_host") or "login",
            "alloc_sid": spec.get("sid") or 0, "priority": max(1, PRIORITY_BASE - job_id),
            "comment": spec.get("comment"), "allocating": False, "acks": [], "releasing": [],
            "exit_reported": False,
        }
        self.dirty = True
        self.log(f"submit job {job_id} user={pw.pw_name} name={spec.get('name')}")
        return {"job_id": job_id}

    def public_jobs(self):
        hidden = ("script", "env", "argv")
        return [{k: v for k, v in job.items() if k not in hidden} for job in self.jobs.values()]

    def public_nodes(self):
        used = self._used_cpus()
        out = []
        for name in sorted(self.nodes, key=natural_key):
            node = dict(self.nodes[name])
            node["alloc_cpus"] = used.get(name, 0)
            node["jobs"] = [j["id"] for j in self.jobs.values() if name in j["nodes"] and _holds_nodes(j)]
            out.append(node)
        return out

    def cancel(self, job_ids, signal_name, uid):
        results = {}
        now = time.time()
        for job_id in job_ids:
            job = self.jobs.get(job_id)
            if job is None:
                results[job_id] = "Invalid job id specified"
            elif uid not in (0, job["uid"]):
                results[job_id] = "Access/permission denied"
            elif job["completing"] or job["state"] not in ("PENDING", "RUNNING"):
                results[job_id] = "Job/step already completing or completed"
            elif signal_name.upper() not in TERMINATING_SIGNALS:
                if job["state"] == "PENDING" or job["allocating"]:
                    results[job_id] = "Job is pending execution"
                else:
                    for name in job["nodes"]:
                        self.send(name, {"type": "signal", "job": job_id, "signal": signal_name})
                    results[job_id] = "ok"
            else:
                self.log(f"cancel job {job_id} by uid {uid}")
                self._end(job, "CANCELLED", "None", now)
                results[job_id] = "ok"
        return results

    # ---- node agents -------------------------------------------------------------------------------------
    def node_registered(self, name, cpus, addr, hostkey, node_jobs):
        now = time.time()
        node = self.nodes.setdefault(name, _new_node(name))
        node.update({"cpus": cpus, "up": True, "addr": addr, "hostkey": hostkey, "reg_time": now,
                     "down_since": None, "ever": True})
        node.setdefault("boot_time", now)
        self.dirty = True
        self.log(f"node {name} registered from {addr} with {cpus} cpus, jobs {node_jobs}")
        for job in self.jobs.values():
            if name in job["nodes"] and _holds_nodes(job) and job["id"] not in node_jobs and not job["completing"]:
                self.log(f"job {job['id']} lost on {name}")
                job["exit_reported"] = True
                self._end(job, "NODE_FAIL", "NodeDown", now)
        for job_id in node_jobs:
            job = self.jobs.get(job_id)
            if job is None or not _holds_nodes(job):
                self.send(name, {"type": "release", "job": job_id, "kill_wait": self.s.kill_wait})

    def node_lost(self, name):
        node = self.nodes.get(name)
        if node is None:
            return
        node["up"] = False
        node["down_since"] = time.time()
        self.dirty = True
        self.log(f"node {name} not responding")
        for job in self.jobs.values():
            if name in job["releasing"]:
                job["releasing"].remove(name)
            if job["allocating"] and name in job["nodes"]:
                self._end(job, "NODE_FAIL", "NodeDown", time.time())

    def node_message(self, name, msg):
        job = self.jobs.get(msg.get("job"))
        kind = msg.get("type")
        if job is None:
            return
        now = time.time()
        self.dirty = True
        if kind == "alloc_ok" and job["allocating"]:
            if name not in job["acks"]:
                job["acks"].append(name)
            if set(job["acks"]) >= set(job["nodes"]):
                job["allocating"] = False
                job["state"] = "RUNNING"
                self.log(f"job {job['id']} running on {hostlist.compress(job['nodes'])}")
        elif kind == "alloc_failed":
            self.log(f"job {job['id']} launch failed on {name}: {msg.get('error')}")
            job["exit_reported"] = True
            if _is_active(job) and not job["completing"]:
                job["exit_status"] = 1
                self._end(job, "FAILED", "JobLaunchFailure", now)
        elif kind == "exit":
            status = msg["status"]
            code, sig = (status >> 8) & 0xFF, status & 0x7F
            job["exit_status"], job["exit_signal"], job["exit_reported"] = code, sig, True
            if job["state"] == "RUNNING" and not job["completing"]:
                ok = code == 0 and sig == 0
                self._end(job, "COMPLETED" if ok else "FAILED", "None" if ok else "NonZeroExitCode", now)
            self.log(f"job {job['id']} exited status={code}:{sig} state={job['state']}")
        elif kind == "released" and name in job["releasing"]:
            job["releasing"].remove(name)

    # ---- scheduling --------------------------------------------------------------------------------------
    def schedule(self):
        """Advance every job; returns seconds until the next timed transition (or None)."""
        now = time.time()
        deadlines = []
        used = self._used_cpus()
        for job in sorted(self.jobs.values(), key=lambda j: (-j["priority"], j["id"])):
            if job["state"] == "PENDING" and not job["allocating"]:
                self._schedule_pending(job, now, used, deadlines)
            elif job["state"] == "RUNNING" and not job["completing"] and not job["allocating"]:
                self._check_limits(job, now, deadlines)
            if job["completing"]:
                self._check_completing(job, now, deadlines)
        for job_id in [j["id"] for j in self.jobs.values() if not _is_active(j)]:
            purge_at = (self.jobs[job_id]["end_time"] or now) + self.s.min_job_age
            if now >= purge_at:
                del self.jobs[job_id]
                self.dirty = True
            else:
                deadlines.append(purge_at)
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _schedule_pending(self, job, now, used, deadlines):
        ready_at = job["submit_time"] + job["pending_s"]
        before = (job["reason"], job["eligible_time"])
        if job["fail_pending"] and now >= ready_at:
            job["exit_status"] = 1
            self._end(job, "FAILED", job["fail_pending"], now)
            return
        if job["begin_time"] and now < job["begin_time"]:
            job["reason"] = "BeginTime"
            deadlines.append(job["begin_time"])
        elif now < ready_at:
            job["reason"] = "Priority"  # the fake scheduler holds every job this long first
            deadlines.append(ready_at)
        else:
            job["eligible_time"] = job["eligible_time"] or max(job["submit_time"], job["begin_time"] or 0)
            job["last_sched_eval"] = now
            nodes, reason = self._pick_nodes(job, used)
            if nodes is None:
                job["reason"] = reason
            else:
                self._allocate(job, nodes, used, now)
        if (job["reason"], job["eligible_time"]) != before:
            self.dirty = True

    def _check_limits(self, job, now, deadlines):
        limit = job["fake_limit_s"] if job["fake_limit_s"] is not None else _minutes_to_s(job["time_limit"])
        if limit is not None and job["start_time"]:
            if now >= job["start_time"] + limit:
                self.log(f"job {job['id']} reached its time limit")
                self._end(job, "TIMEOUT", "TimeLimit", now)
            else:
                deadlines.append(job["start_time"] + limit)
        down = [n for n in job["nodes"] if not self.nodes[n]["up"]]
        for name in down:
            since = self.nodes[name].get("down_since") or now
            if now >= since + self.s.slurmd_timeout:
                self._end(job, "NODE_FAIL", "NodeDown", now)
                return
            deadlines.append(since + self.s.slurmd_timeout)

    def _check_completing(self, job, now, deadlines):
        batch_up = job["batch_host"] and self.nodes.get(job["batch_host"], {}).get("up")
        waiting_exit = bool(job["nodes"]) and not job["exit_reported"] and batch_up
        if job["releasing"] or waiting_exit:
            return
        done_at = (job["end_time"] or now) + self.s.completing_s
        if now >= done_at:
            job["completing"] = False
            self.dirty = True
            self.log(f"job {job['id']} done: {job['state']}")
        else:
            deadlines.append(done_at)

    def _pick_nodes(self, job, used):
        per_node = job["cpus_per_task"] * math.ceil(job["ntasks"] / job["num_nodes"])

        def fits(name):
            node = self.nodes[name]
            if not node["up"]:
                return False
            if job["exclusive"]:
                return used.get(name, 0) == 0
            return node["cpus"] - used.get(name, 0) >= per_node

        chosen = []
        for name in job["req_nodes"]:
            if not self.nodes[name]["up"]:
                return None, f"ReqNodeNotAvail, UnavailableNodes:{name}"
            if not fits(name):
                return None, "Resources"
            chosen.append(name)
        spare = [n for n in self.nodes if n not in chosen and n not in job["exc_nodes"] and fits(n)]
        spare.sort(key=lambda n: (used.get(n, 0), natural_key(n)))  # least loaded first
        chosen += spare[: max(0, job["num_nodes"] - len(chosen))]
        if len(chosen) < job["num_nodes"]:
            return None, "Resources"
        return sorted(chosen, key=natural_key), None

    def _allocate(self, job, nodes, used, now):
        job.update({"nodes": nodes, "batch_host": nodes[0], "allocating": True, "acks": [], "start_time": now,
                    "reason": "None"})
        job["cpus_per_node"] = job["cpus_per_task"] * math.ceil(job["ntasks"] / job["num_nodes"])
        for name in nodes:
            used[name] = used.get(name, 0) + (self.nodes[name]["cpus"] if job["exclusive"] else job["cpus_per_node"])
        self.dirty = True
        for name in nodes:
            if not self.send(name, {"type": "alloc", "job": self._node_view(job, name)}):
                self.node_lost(name)

    def _node_view(self, job, name):
        view = {k: job[k] for k in ("id", "user", "uid", "gid", "name", "partition", "num_nodes")}
        view["kill_wait"] = self.s.kill_wait
        view["batch"] = name == job["batch_host"]
        if view["batch"]:
            for key in ("script", "argv", "env", "work_dir", "std_out", "std_err", "std_in", "open_mode",
                        "alloc_node", "account", "ntasks", "cpus_per_task"):
                view[key] = job[key]
            view["nodelist"] = hostlist.compress(job["nodes"])
            view["cpus_on_node"] = job["cpus_per_node"]
        return view

    def _end(self, job, state, reason, now):
        job.update({"state": state, "reason": reason, "end_time": now, "allocating": False})
        self.dirty = True
        live = [n for n in job["nodes"] if self.nodes.get(n, {}).get("up")]
        job["releasing"] = list(live)
        job["completing"] = bool(job["nodes"])
        for name in live:
            if not self.send(name, {"type": "release", "job": job["id"], "kill_wait": self.s.kill_wait}):
                job["releasing"].remove(name)

    def _used_cpus(self):
        used = {}
        for job in self.jobs.values():
            if _holds_nodes(job):
                for name in job["nodes"]:
                    cpus = self.nodes.get(name, {}).get("cpus", 0) if job["exclusive"] else job["cpus_per_node"]
                    used[name] = used.get(name, 0) + cpus
        return used

    def up_count(self):
        return sum(1 for n in self.nodes.values() if n["up"])

    def known_hosts_lines(self):
        lines = []
        for name in sorted(self.nodes, key=natural_key):
            node = self.nodes[name]
            if node.get("hostkey"):
                lines.append(f"{name},{node['addr']} {node['hostkey']}")
        return lines


def _new_node(name):
    return {"name": name, "cpus": 1, "up": False, "addr": None, "hostkey": None, "ever": False, "down_since": None}


def _holds_nodes(job):
    return bool(job["nodes"]) and (job["state"] == "RUNNING" or job["allocating"] or job["completing"])


def _is_active(job):
    return job["state"] in ("PENDING", "RUNNING", "SUSPENDED") or job["completing"]


def _minutes_to_s(minutes):
    return None if minutes is None else minutes * 60
