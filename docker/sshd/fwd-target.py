#!/usr/bin/env python3
"""Forwarding targets for fwd's tests, run inside the containers.

echo    echoes every byte; half-close is echoed too (EOF after the last byte)
sink    reads to EOF, then replies "<bytes> <sha256hex>\n" and closes (checks upload + half-close)
source  reads "N\n", sends N random bytes then their 32-byte sha256, then closes
http    HTTP/1.1: any GET answers 200 with JSON {"path", "host"}
reset   accepts and resets at once (RST), for error-path tests
all     echo :7001, sink :7002, source :7003, http :8080, reset :7004 on 127.0.0.1,
        and echo on ~/echo.sock (0600)
"""
import argparse, asyncio, hashlib, json, os, socket, struct, sys

CHUNK = 256 * 1024


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def sink(reader, writer):
    h, n = hashlib.sha256(), 0
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            h.update(data)
            n += len(data)
        writer.write(f"{n} {h.hexdigest()}\n".encode())
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def source(reader, writer):
    try:
        line = await reader.readline()
        n = int(line.strip() or b"0")
        h = hashlib.sha256()
        while n > 0:
            data = os.urandom(min(CHUNK, n))
            h.update(data)
            writer.write(data)
            await writer.drain()
            n -= len(data)
        writer.write(h.digest())
        await writer.drain()
    except (ConnectionError, OSError, ValueError):
        pass
    finally:
        writer.close()


async def http(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            path = parts[1] if len(parts) > 1 else "/"
            body = json.dumps({"path": path, "host": socket.gethostname()}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            if b"connection: close" in head.lower():
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def reset(reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


HANDLERS = {"echo": echo, "sink": sink, "source": source, "http": http, "reset": reset}


async def serve(mode, host, port, unix):
    handler = HANDLERS[mode]
    if unix:
        if os.path.exists(unix):
            os.unlink(unix)
        old = os.umask(0o177)
        try:
            server = await asyncio.start_unix_server(handler, path=unix, backlog=4096)
        finally:
            os.umask(old)
    else:
        server = await asyncio.start_server(handler, host=host, port=port, backlog=4096, reuse_address=True)
    return server


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=[*HANDLERS, "all"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--unix")
    a = p.parse_args()
    if a.mode == "all":
        servers = [
            await serve("echo", "127.0.0.1", 7001, None),
            await serve("sink", "127.0.0.1", 7002, None),
            await serve("source", "127.0.0.1", 7003, None),
            await serve("reset", "127.0.0.1", 7004, None),
            await serve("http", "127.0.0.1", 8080, None),
            await serve("echo", None, None, os.path.expanduser("~/echo.sock")),
        ]
    else:
        servers = [await serve(a.mode, a.host, a.port, a.unix)]
    for s in servers:
        for sock in s.sockets:
            print("listening", sock.getsockname(), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
