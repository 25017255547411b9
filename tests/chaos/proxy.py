#!/usr/bin/python3
"""A fault-injecting TCP proxy between taskq and Redis: one process, several named links, each
a listener of its own forwarding to the same upstream, each with a mode switchable at run time.

    proxy.py --upstream-port 6379 --links w1,w2,api

prints `ready w1=PORT w2=PORT api=PORT` once it listens, then reads commands from standard input,
one per line, and answers `ok` (or `error: ...`) on standard output:

    LINK pass              heal: forward normally (also ends latency)
    LINK latency MEAN JIT  delay every chunk towards Redis by MEAN +- JIT ms (uniform), in order
    LINK blackhole         forward nothing either way and answer nothing, as a dropped route
                           would: bytes wait (as unacknowledged TCP segments would) until `pass`;
                           new connections are accepted but not connected upstream until then
    LINK cut               close every connection (FIN) and close new ones at once, until `pass`
    LINK reset             abort every connection now (RST); the mode stays as it was

LINK may be `*` for every link. Latency applies to the client-to-Redis direction only, like a
netem delay on one interface: a round trip grows by MEAN +- JIT.

Used from the harness through the Proxy class below.
"""
import argparse
import asyncio
import random
import socket
import struct
import subprocess
import sys
import time

from processes import python_helper


class Link:
    def __init__(self, name, upstream_port):
        self.name = name
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.latency_ms = 0.0
        self.jitter_ms = 0.0
        self.flowing = asyncio.Event()  # cleared while black-holed
        self.flowing.set()
        self.connections = set()
        self.port = None

    def set_mode(self, mode):
        self.mode = mode
        if mode == "blackhole":
            self.flowing.clear()
        else:
            self.flowing.set()
        if mode == "pass":
            self.latency_ms = self.jitter_ms = 0.0
        if mode == "cut":
            for connection in list(self.connections):
                connection.close(abort=False)

    def reset(self):
        for connection in list(self.connections):
            connection.close(abort=True)

    def delay(self):
        if self.latency_ms <= 0:
            return 0.0
        return max(0.0, random.uniform(self.latency_ms - self.jitter_ms,
                                       self.latency_ms + self.jitter_ms)) / 1000.0

    async def serve(self, client_reader, client_writer):
        if self.mode == "cut":
            client_writer.close()
            return
        # A black-holed link holds the connection as an unanswered SYN would; the client's own
        # connect timeout decides whether it waits.
        await self.flowing.wait()
        if self.mode == "cut" or client_reader.at_eof():
            client_writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            # Redis is down: refuse as Redis itself would (the client sees a closed connection).
            Connection.abort_writer(client_writer)
            return
        connection = Connection(self, client_reader, client_writer, up_reader, up_writer)
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)


class Connection:
    def __init__(self, link, client_reader, client_writer, up_reader, up_writer):
        self.link = link
        self.client = (client_reader, client_writer)
        self.upstream = (up_reader, up_writer)
        self.closed = False

    @staticmethod
    def abort_writer(writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        writer.transport.abort()

    def close(self, abort):
        if self.closed:
            return
        self.closed = True
        for writer in (self.client[1], self.upstream[1]):
            if abort:
                self.abort_writer(writer)
            else:
                writer.close()

    async def run(self):
        to_redis = asyncio.ensure_future(self.pump(self.client[0], self.upstream[1], True))
        to_client = asyncio.ensure_future(self.pump(self.upstream[0], self.client[1], False))
        await asyncio.wait([to_redis, to_client], return_when=asyncio.FIRST_COMPLETED)
        self.close(abort=False)
        for task in (to_redis, to_client):
            task.cancel()

    async def pump(self, reader, writer, delayed):
        """Copies one direction. Chunks keep their order: each leaves no earlier than the one
        before it, so jitter never reorders a TCP stream."""
        last_due = 0.0
        try:
            while not self.closed:
                data = await reader.read(65536)
                if not data:
                    return
                await self.link.flowing.wait()
                if delayed:
                    due = max(time.monotonic() + self.link.delay(), last_due)
                    last_due = due
                    wait = due - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    await self.link.flowing.wait()
                if self.closed:
                    return
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            return


async def control(links):
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return  # the harness went away
        words = line.decode().split()
        try:
            name, command, args = words[0], words[1], words[2:]
            targets = list(links.values()) if name == "*" else [links[name]]
            for link in targets:
                if command in ("pass", "blackhole", "cut"):
                    link.set_mode(command)
                elif command == "reset":
                    link.reset()
                elif command == "latency":
                    link.latency_ms, link.jitter_ms = float(args[0]), float(args[1])
                else:
                    raise ValueError(f"unknown command {command}")
            answer = "ok"
        except (IndexError, KeyError, ValueError) as e:
            answer = f"error: {e!r}"
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()


async def main_async(args):
    links = {}
    for name in args.links.split(","):
        link = Link(name, args.upstream_port)
        server = await asyncio.start_server(link.serve, "127.0.0.1", 0, backlog=1024)
        link.port = server.sockets[0].getsockname()[1]
        links[name] = link
    sys.stdout.write("ready " + " ".join(f"{n}={l.port}" for n, l in links.items()) + "\n")
    sys.stdout.flush()
    await control(links)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--links", required=True)
    asyncio.run(main_async(parser.parse_args()))


class Proxy:
    """The harness's handle on a proxy process."""

    def __init__(self, group, upstream_port, links):
        self.child = group.start(
            "proxy", python_helper("proxy.py") + ["--upstream-port", str(upstream_port),
                                                  "--links", ",".join(links)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.child.proc.stdout.readline().decode().split()
        if not line or line[0] != "ready":
            raise RuntimeError("proxy did not start: " + self.child.log_text()[-2000:])
        self.ports = {k: int(v) for k, v in (w.split("=") for w in line[1:])}

    def url(self, link):
        return f"redis://127.0.0.1:{self.ports[link]}"

    def command(self, link, *words):
        self.child.proc.stdin.write((" ".join([link, *map(str, words)]) + "\n").encode())
        self.child.proc.stdin.flush()
        answer = self.child.proc.stdout.readline().decode().strip()
        if answer != "ok":
            raise RuntimeError(f"proxy {link} {words}: {answer}")


if __name__ == "__main__":
    main()
