"""Fake slurmctld daemon (login): clients on a unix socket (peer uid = auth), node agents on TCP 6817.

Run as root: `python3 -m fakeslurm.slurmctld`. It binds both sockets, then forks into the background, so
the caller knows the controller is accepting requests once the command returns.
"""
import asyncio
import hmac
import json
import os
import socket
import struct
import sys
import time

from . import config
from .controller import Controller, Settings


def log(msg):
    sys.stderr.write(f"[{time.strftime('%Y-%m-%dT%H:%M:%S')}] slurmctld: {msg}\n")
    sys.stderr.flush()


class Daemon:
    def __init__(self):
        self.auth_key = config.read_auth_key()
        self.writers = {}
        self.wake = asyncio.Event()
        self.ctl = Controller(Settings(), self.send, log)
        self.node_waiters = []

    def send(self, node, msg):
        writer = self.writers.get(node)
        if writer is None or writer.is_closing():
            return False
        writer.write(json.dumps(msg).encode() + b"\n")
        return True

    def changed(self):
        self.wake.set()

    async def scheduler(self):
        while True:
            self.wake.clear()
            timeout = self.ctl.schedule()
            self.ctl.persist()
            self._notify_waiters()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    # ---- clients -----------------------------------------------------------------------------------------
    async def client(self, reader, writer):
        try:
            sock = writer.get_extra_info("socket")
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            line = await reader.readline()
            req = json.loads(line or b"{}")
            reply = await self.handle(req, uid)
            writer.write(json.dumps(reply).encode() + b"\n")
            await writer.drain()
        except (OSError, ValueError) as e:
            log(f"client error: {e!r}")
        finally:
            writer.close()

    async def handle(self, req, uid):
        op = req.get("op")
        if op == "ping":
            return {"ok": True}
        if op == "jobs":
            return {"now": time.time(), "jobs": self.ctl.public_jobs()}
        if op == "nodes":
            return {"now": time.time(), "nodes": self.ctl.public_nodes()}
        if op == "submit":
            reply = self.ctl.submit(req.get("job") or {}, uid)
            self.changed()
            return reply
        if op == "cancel":
            reply = {"results": self.ctl.cancel([int(i) for i in req.get("ids", [])], req.get("signal") or "", uid)}
            self.changed()
            return reply
        if op == "wait_nodes":
            return await self.wait_nodes(int(req.get("count", 1)), float(req.get("timeout", 30)))
        return {"error": f"unknown op {op!r}"}

    async def wait_nodes(self, count, timeout):
        if self.ctl.up_count() < count:
            fut = asyncio.get_running_loop().create_future()
            self.node_waiters.append((count, fut))
            try:
                await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                pass
        return {"ok": self.ctl.up_count() >= count, "up": self.ctl.up_count()}

    def _notify_waiters(self):
        up = self.ctl.up_count()
        for count, fut in list(self.node_waiters):
            if up >= count or fut.done():
                self.node_waiters.remove((count, fut))
                if not fut.done():
                    fut.set_result(True)

    # ---- node agents -------------------------------------------------------------------------------------
    async def node(self, reader, writer):
        name = None
        try:
            hello = json.loads(await reader.readline() or b"{}")
            if hello.get("type") != "register" or not hmac.compare_digest(str(hello.get("key", "")), self.auth_key):
                log("rejected a node agent with a bad key")
                return
            name = hello["node"]
            old = self.writers.get(name)
            if old is not None:
                old.close()
            self.writers[name] = writer
            addr = writer.get_extra_info("peername")[0]
            self.ctl.node_registered(name, int(hello.get("cpus", 1)), addr, hello.get("hostkey"),
                                     [int(j) for j in hello.get("jobs", [])])
            self.write_known_hosts()
            self.send(name, {"type": "registered"})
            self.changed()
            while True:
                line = await reader.readline()
                if not line:
                    break
                msg = json.loads(line)
                if msg.get("type") == "rpc":
                    asyncio.ensure_future(self.relayed(name, msg))
                    continue
                self.ctl.node_message(name, msg)
                self.changed()
        except (OSError, ValueError, KeyError) as e:
            log(f"node {name} connection error: {e!r}")
        finally:
            if name is not None and self.writers.get(name) is writer:
                del self.writers[name]
                self.ctl.node_lost(name)
                self.changed()
            writer.close()

    async def relayed(self, node, msg):
        """A client command run on a node, relayed by that node's slurmd, which vouches for the uid."""
        try:
            reply = await self.handle(msg.get("req") or {}, int(msg["uid"]))
        except (KeyError, ValueError) as e:
            reply = {"error": repr(e)}
        self.send(node, {"type": "rpc_reply", "rid": msg.get("rid"), "reply": reply})

    def write_known_hosts(self):
        """Clusters ship one global known_hosts for every node; each node's key arrives when it registers."""
        lines = self.ctl.known_hosts_lines()
        try:
            with open(config.HOST_KEY_PUB, encoding="ascii") as f:
                login_key = " ".join(f.read().split()[:2])
            names = dict.fromkeys([socket.gethostname(), config.controller_host()])
            lines.insert(0, f"{','.join(names)} {login_key}")
        except OSError:
            pass
        tmp = config.KNOWN_HOSTS + ".tmp"
        with open(tmp, "w", encoding="ascii") as f:
            f.write("".join(line + "\n" for line in lines))
        os.chmod(tmp, 0o644)
        os.replace(tmp, config.KNOWN_HOSTS)


def bind_sockets():
    os.makedirs(os.path.dirname(config.CTL_SOCKET), exist_ok=True)
    os.makedirs(os.path.dirname(config.STATE_FILE), exist_ok=True)
    if os.path.exists(config.CTL_SOCKET):
        os.unlink(config.CTL_SOCKET)
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(config.CTL_SOCKET)
    os.chmod(config.CTL_SOCKET, 0o666)  # any user may talk to the controller; the peer uid says who
    unix.listen(512)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", config.CTL_PORT))
    tcp.listen(64)
    return unix, tcp


async def serve(unix, tcp):
    daemon = Daemon()
    await asyncio.start_unix_server(daemon.client, sock=unix)
    await asyncio.start_server(daemon.node, sock=tcp)
    log(f"listening on {config.CTL_SOCKET} and :{config.CTL_PORT}")
    await daemon.scheduler()


def main():
    unix, tcp = bind_sockets()
    if "--foreground" not in sys.argv and os.fork() > 0:
        os._exit(0)
    os.setsid()
    asyncio.run(serve(unix, tcp))


if __name__ == "__main__":
    main()
