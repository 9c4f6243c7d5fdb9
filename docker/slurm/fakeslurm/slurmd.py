"""Fake slurmd (compute node): registers with the controller over the Docker network, runs batch scripts,
kills jobs, and answers pam_slurm_adopt on a root-only unix socket.

Run as root: `python3 -m fakeslurm.slurmd`. It binds the local socket, then forks into the background.
"""
import asyncio
import json
import os
import pwd
import signal
import socket
import struct
import sys
import threading
import time

from . import config, launch


def log(msg):
    sys.stderr.write(f"[{time.strftime('%Y-%m-%dT%H:%M:%S')}] slurmd: {msg}\n")
    sys.stderr.flush()


class NodeJob:
    def __init__(self, view):
        self.view = view
        self.id = view["id"]
        self.uid = view["uid"]
        self.proc = None
        self.session = 0
        self.adopted = set()  # sshd monitor pids of SSH sessions adopted into this job
        self.releasing = False
        self.exited = None  # future, set once the batch script has been reaped


class Slurmd:
    def __init__(self):
        self.name = os.environ.get("NODE_NAME") or socket.gethostname()
        self.cpus = config.env_int("SLURM_FAKE_CPUS", 4)
        self.key = config.read_auth_key()
        self.jobs = {}
        self.writer = None
        self.outbox = []
        self.loop = None
        self.rpcs = {}  # rid -> future, for relayed client commands
        self.next_rid = 1

    def send(self, msg):
        if self.writer is None or self.writer.is_closing():
            self.outbox.append(msg)  # delivered after the next registration
            return
        self.writer.write(json.dumps(msg).encode() + b"\n")

    async def run(self):
        self.loop = asyncio.get_running_loop()
        delay = 0.05
        while True:
            try:
                reader, writer = await asyncio.open_connection(config.controller_host(), config.CTL_PORT)
            except OSError:
                await asyncio.sleep(delay)  # the controller is not up (yet): retry with backoff
                delay = min(delay * 2, 1.0)
                continue
            delay = 0.05
            await self.session(reader, writer)

    async def session(self, reader, writer):
        with open(config.HOST_KEY_PUB, encoding="ascii") as f:
            hostkey = " ".join(f.read().split()[:2])
        hello = {"type": "register", "key": self.key, "node": self.name, "cpus": self.cpus, "hostkey": hostkey,
                 "jobs": sorted(self.jobs)}
        writer.write(json.dumps(hello).encode() + b"\n")
        self.writer = writer
        pending, self.outbox = self.outbox, []
        for msg in pending:
            self.send(msg)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                self.handle(json.loads(line))
        except (OSError, ValueError) as e:
            log(f"controller connection error: {e!r}")
        finally:
            self.writer = None
            writer.close()
            for fut in self.rpcs.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("controller connection lost"))
            log("lost the controller; reconnecting")

    def handle(self, msg):
        kind = msg.get("type")
        if kind == "registered":
            log(f"registered as {self.name}")
        elif kind == "rpc_reply":
            fut = self.rpcs.get(msg.get("rid"))
            if fut is not None and not fut.done():
                fut.set_result(msg.get("reply"))
        elif kind == "alloc":
            self.alloc(msg["job"])
        elif kind == "release":
            asyncio.ensure_future(self.release(msg["job"], float(msg.get("kill_wait", 2))))
        elif kind == "signal":
            job = self.jobs.get(msg["job"])
            if job is not None:
                sig = _signal_number(msg["signal"])
                launch.signal_pids(launch.job_pids(job.id, job.session, job.uid, set()), sig)

    def alloc(self, view):
        job = NodeJob(view)
        self.jobs[job.id] = job
        if view.get("batch"):
            job.exited = self.loop.create_future()
            try:
                job.proc = launch.start_batch(view, self.name)
            except launch.LaunchError as e:
                log(f"job {job.id}: {e}")
                job.exited.set_result(None)
                self.send({"type": "alloc_failed", "job": job.id, "error": str(e)})
                return
            job.session = job.proc.pid
            threading.Thread(target=self._wait, args=(job,), daemon=True).start()
            log(f"job {job.id} started as pid {job.proc.pid} for {view['user']}")
        self.send({"type": "alloc_ok", "job": job.id})

    def _wait(self, job):
        rc = job.proc.wait()
        status = (-rc) & 0x7F if rc < 0 else (rc & 0xFF) << 8
        self.loop.call_soon_threadsafe(self._exited, job, status)

    def _exited(self, job, status):
        log(f"job {job.id} batch script exited with status {status >> 8}:{status & 0x7F}")
        self.send({"type": "exit", "job": job.id, "status": status})
        if not job.exited.done():
            job.exited.set_result(status)

    async def release(self, job_id, kill_wait):
        """Like slurmstepd at job end: SIGCONT+SIGTERM everything, SIGKILL after KillWait, then report."""
        job = self.jobs.get(job_id)
        if job is None:
            self.send({"type": "released", "job": job_id})
            return
        if job.releasing:
            return
        job.releasing = True

        def pids():
            return launch.job_pids(job.id, job.session, job.uid, job.adopted)

        live = pids()
        launch.signal_pids(live, signal.SIGCONT)
        launch.signal_pids(live, signal.SIGTERM)
        deadline = time.monotonic() + kill_wait
        while live and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            live = pids()
        for _ in range(40):
            if not live:
                break
            launch.signal_pids(live, signal.SIGKILL)
            await asyncio.sleep(0.05)
            live = pids()
        if job.exited is not None:
            try:
                await asyncio.wait_for(asyncio.shield(job.exited), 5)
            except asyncio.TimeoutError:
                log(f"job {job.id}: batch script not reaped after SIGKILL")
        launch.remove_spool(job.id)
        del self.jobs[job.id]
        log(f"job {job.id} released")
        self.send({"type": "released", "job": job.id})

    # ---- client commands run on this node ----------------------------------------------------------------
    async def relay(self, reader, writer):
        rid = self.next_rid
        self.next_rid += 1
        try:
            creds = writer.get_extra_info("socket").getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                               struct.calcsize("3i"))
            uid = struct.unpack("3i", creds)[1]
            req = json.loads(await reader.readline() or b"{}")
            if self.writer is None:
                return  # no controller: the client reports "Unable to contact slurm controller"
            self.rpcs[rid] = self.loop.create_future()
            self.send({"type": "rpc", "rid": rid, "uid": uid, "req": req})
            reply = await asyncio.wait_for(self.rpcs[rid], 120)
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (OSError, ValueError, ConnectionError, asyncio.TimeoutError) as e:
            log(f"relay error: {e!r}")
        finally:
            self.rpcs.pop(rid, None)
            writer.close()

    # ---- pam_slurm_adopt ---------------------------------------------------------------------------------
    async def pam(self, reader, writer):
        try:
            req = json.loads(await reader.readline() or b"{}")
            reply = {"ok": False}
            if req.get("op") == "adopt":
                reply = self.adopt(str(req.get("user", "")), int(req.get("pid", 0)))
            elif req.get("op") == "jobs":
                reply = {"ok": True, "jobs": {j.id: j.view["user"] for j in self.jobs.values()}}
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (OSError, ValueError) as e:
            log(f"pam request error: {e!r}")
        finally:
            writer.close()

    def adopt(self, user, pid):
        """Adopt into the newest job of this user on this node (pam_slurm_adopt's action_unknown=newest)."""
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            return {"ok": False}
        mine = [j for j in self.jobs.values() if j.uid == uid and not j.releasing]
        if not mine:
            log(f"pam_slurm_adopt: denied {user}: no active jobs")
            return {"ok": False}
        job = max(mine, key=lambda j: j.id)
        if pid > 1:
            job.adopted.add(pid)
        log(f"pam_slurm_adopt: adopted {user} (pid {pid}) into job {job.id}")
        return {"ok": True, "job": job.id}


def _signal_number(name):
    name = str(name).upper()
    if name.isdigit():
        return int(name)
    return int(getattr(signal, name if name.startswith("SIG") else "SIG" + name))


def bind_socket(path, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, mode)
    sock.listen(64)
    return sock


async def serve(pam_sock, relay_sock):
    slurmd = Slurmd()
    await asyncio.start_unix_server(slurmd.pam, sock=pam_sock)
    await asyncio.start_unix_server(slurmd.relay, sock=relay_sock)
    log(f"node {slurmd.name}: {slurmd.cpus} cpus, controller {config.controller_host()}:{config.CTL_PORT}")
    await slurmd.run()


def main():
    os.makedirs(config.SLURMD_SPOOL, exist_ok=True)
    pam_sock = bind_socket(config.SLURMD_SOCKET, 0o600)
    relay_sock = bind_socket(config.RELAY_SOCKET, 0o666)
    if "--foreground" not in sys.argv and os.fork() > 0:
        os._exit(0)
    os.setsid()
    asyncio.run(serve(pam_sock, relay_sock))


if __name__ == "__main__":
    main()
