#!/usr/bin/python3
"""The webhook receiver of the chaos suite: every `webhook` job is delivered here, and every
request is recorded, so that the checker can tell what ran.

    sink.py LOG_FILE

prints `ready PORT FORBIDDEN_PORT` once it listens: PORT on 127.0.0.1, FORBIDDEN_PORT on
127.0.0.2 (a loopback address workers are not allowed to reach in F10: any request arriving
there is an SSRF guard failure, recorded with listener "forbidden").

Each request becomes one JSON line in LOG_FILE:
  {"t": arrival, "t_end": answer (unix seconds), "id": webhook-id header, "k": the body's "k",
   "path": "/ok", "status": 200 | 500 | 302 | "hang" | "reset" | "abandoned",
   "listener": "main" | "forbidden"}
and, for a completion callback (a body {"type", "job": {"id", ...}}), "cbj": the finished job's
id and "cbt": the body's type ("job.completed" or "job.dead").
A delivery is a request answered 200. Answers by path (query parameters in brackets):
  /ok [ms]                 200 after ms milliseconds (default 0): a job of that duration;
                           "abandoned" when the client closes the connection before that
  /flaky [fail, ms]        500 to the first `fail` requests of a webhook-id, then 200
  /always500               500
  /hang [times, hold]      the first `times` requests of an id: no answer for `hold` ms (or
                           until the client closes), then the connection is closed and the
                           request recorded as "hang"; later ones 200
  /reset [times]           the first `times` requests of an id: connection reset (RST); then 200
  /redirect [to]           302 to `to`
  /_flush                  (not recorded) writes the log out; {"requests": N}
  /_stats [after]          (not recorded) {"requests": N, "ok_after": deliveries since unix
                           time `after`, "first_ok_after": the first one's time or null}
An asyncio server rather than http.server: libcurl opens a connection per job, and a thread per
connection could not keep up with the suite's rates in one Python process.
"""
import asyncio
import bisect
import json
import socket
import struct
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter

from processes import python_helper


class Sink:
    def __init__(self, log_path):
        self.log = open(log_path, "a", encoding="utf-8")
        self.pending = []
        self.requests = 0
        self.seen = Counter()  # requests per webhook-id, for the scripted failures
        self.ok_times = []  # when each delivery was answered, in order

    def record(self, entry):
        entry["t_end"] = time.time()
        if entry["status"] == 200 and entry["listener"] == "main":
            self.ok_times.append(time.time())  # answer time: appended in order, for bisect
        self.pending.append(json.dumps(entry, separators=(",", ":")))
        self.requests += 1

    def flush(self):
        if self.pending:
            self.log.write("\n".join(self.pending) + "\n")
            self.pending.clear()
            self.log.flush()

    async def flush_often(self):
        while True:
            await asyncio.sleep(0.2)
            self.flush()

    def handler(self, listener):
        async def handle(reader, writer):
            try:
                while await self.serve_one(listener, reader, writer):
                    pass
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                pass
            finally:
                if not writer.transport.is_closing():
                    writer.close()
        return handle

    async def serve_one(self, listener, reader, writer):
        """Serves one request; False when the connection is done."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        body = await reader.readexactly(length) if length else b""
        url = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path in ("/_flush", "/_stats"):
            self.flush()
            stats = {"requests": self.requests}
            if "after" in query:
                i = bisect.bisect_right(self.ok_times, float(query["after"]))
                stats["ok_after"] = len(self.ok_times) - i
                stats["first_ok_after"] = self.ok_times[i] if i < len(self.ok_times) else None
            self.answer(writer, 200, json.dumps(stats).encode())
            await writer.drain()
            return True
        job_id = headers.get("webhook-id", "")
        try:
            parsed = json.loads(body) if body else {}
            key = parsed.get("k", "")
        except (ValueError, AttributeError):
            parsed, key = {}, ""
        self.seen[job_id] += 1
        nth = self.seen[job_id]
        entry = {"t": time.time(), "id": job_id, "k": key, "path": url.path,
                 "listener": listener}
        job = parsed.get("job") if isinstance(parsed, dict) else None
        if isinstance(job, dict) and "id" in job:  # a completion callback (F19)
            entry["cbj"] = job["id"]
            entry["cbt"] = parsed.get("type", "")
        status, extra = 200, []
        if url.path == "/flaky" and nth <= int(query.get("fail", 1)):
            status = 500
        elif url.path == "/always500":
            status = 500
        elif url.path == "/hang" and nth <= int(query.get("times", 1)):
            # Recorded when the connection ends (held for `hold`, or closed by the client
            # first), so that the request's span is the attempt's.
            await self.client_left_within(reader, int(query.get("hold", 5000)) / 1000)
            entry["status"] = "hang"
            self.record(entry)
            writer.close()
            return False
        elif url.path == "/reset" and nth <= int(query.get("times", 1)):
            entry["status"] = "reset"
            self.record(entry)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        elif url.path == "/redirect":
            status, extra = 302, [("Location", query.get("to", "/ok"))]
        ms = int(query.get("ms", 0))
        if ms > 0 and await self.client_left_within(reader, ms / 1000):
            # The worker went away (killed, or it stopped the handler) before the answer: the
            # attempt did not succeed, and the job must run again.
            entry["status"] = "abandoned"
            self.record(entry)
            writer.close()
            return False
        entry["status"] = status
        self.record(entry)
        self.answer(writer, status, b"{\"received\":true}" if status == 200 else b"no", extra)
        await writer.drain()
        return headers.get("connection", "").lower() != "close"

    @staticmethod
    async def client_left_within(reader, seconds):
        """Waits `seconds` like a job of that duration; True when the client closed its
        connection meanwhile (a client that sends more than its request is treated alike)."""
        try:
            await asyncio.wait_for(reader.read(1), seconds)
            return True
        except asyncio.TimeoutError:
            return False

    @staticmethod
    def answer(writer, status, body, extra=()):
        reason = {200: "OK", 302: "Found", 500: "Internal Server Error"}.get(status, "X")
        head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
                f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in extra]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)


async def main_async(log_path):
    sink = Sink(log_path)
    main = await asyncio.start_server(sink.handler("main"), "127.0.0.1", 0, backlog=4096)
    forbidden = await asyncio.start_server(sink.handler("forbidden"), "127.0.0.2", 0)
    ports = [s.sockets[0].getsockname()[1] for s in (main, forbidden)]
    print(f"ready {ports[0]} {ports[1]}", flush=True)
    await sink.flush_often()


class SinkProcess:
    """The harness's handle on a sink process."""

    def __init__(self, group):
        self.log_path = f"{group.workdir}/deliveries.jsonl"
        self.child = group.start("sink", python_helper("sink.py") + [self.log_path],
                                 stdout=subprocess.PIPE)
        words = self.child.proc.stdout.readline().decode().split()
        if not words or words[0] != "ready":
            raise RuntimeError("sink did not start: " + self.child.log_text()[-2000:])
        self.port, self.forbidden_port = int(words[1]), int(words[2])
        self.url = f"http://127.0.0.1:{self.port}"
        self.forbidden_url = f"http://127.0.0.2:{self.forbidden_port}"

    def stats(self, after):
        with urllib.request.urlopen(f"{self.url}/_stats?after={after}", timeout=10) as answer:
            return json.loads(answer.read())

    def records(self):
        """Every request so far, in arrival order (after making the sink write them out)."""
        with urllib.request.urlopen(self.url + "/_flush", timeout=10) as answer:
            answer.read()
        with open(self.log_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


if __name__ == "__main__":
    asyncio.run(main_async(sys.argv[1]))
