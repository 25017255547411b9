#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Process isolation through the real binaries: `taskq worker` serving a `:process` queue from
children of itself, and handler crashes that fail only their own jobs.

    api_isolation_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

import api_fixtures as fx
from api_fixtures import free_port, listening_ports, wait_until, Redis, Api, Worker


def children_of(pid):
    """The processes `pid` started, from every one of its threads."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        except FileNotFoundError:
            pass
    return found


def cmdline_of(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read()


def write_png_bomb(path, width, height):
    """An interlaced 8-bit RGB PNG of zeros: a few hundred KB that decode to width x height x 3
    bytes, and that libvips must decode whole (interlaced)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    compressor = zlib.compressobj(9)
    parts = []
    # Adam7: the seven passes, each a sub-image of (x0, y0, dx, dy); a row is a filter byte and
    # its pixels.
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):
        pass_width = (width - x0 + dx - 1) // dx
        pass_height = (height - y0 + dy - 1) // dy
        if pass_width == 0 or pass_height == 0:
            continue
        row = bytes(1 + 3 * pass_width)
        for _ in range(pass_height):
            parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)  # RGB, interlaced
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


def process_ended(pid):
    """Gone, or a zombie nobody reaped yet."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True


def finished(api, job_id, timeout=20):
    def done():
        status, job, _ = api.request("GET", f"/api/jobs/{job_id}")
        return job if status == 200 and job["state"] in ("completed", "dead") else None
    return wait_until(done, timeout=timeout, interval=0.05)


class IsolationTest(unittest.TestCase):
    def test_taskq_worker_serves_a_process_queue_from_children_of_itself(self):
        redis = Redis()
        data = tempfile.mkdtemp(prefix="taskq-isolation-")
        os.makedirs(os.path.join(data, "outbox"))
        with open(os.path.join(data, "outbox", "old.eml"), "w") as f:
            f.write("x")
        log = open(os.path.join(data, "worker.log"), "w")
        worker = subprocess.Popen(
            [fx.TASKQ, "--redis-url", redis.url, "worker", "--queues", "cleanup=2:process",
             "--data-dir", data], stdout=log, stderr=subprocess.STDOUT)
        api = Api(redis.url)
        try:
            # Both handler processes are up (a child counts from its clone, before it has its
            # own group and the worker's program: wait for both).
            # The children checked are the two seen then: listed again, a child being cloned
            # or reaped at that moment would show an empty command line.
            children = []

            def started():
                found = children_of(worker.pid)
                if len(found) == 2 and all(
                        os.getpgid(c) == c and cmdline_of(c) == cmdline_of(worker.pid)
                        for c in found):
                    children[:] = found
                    return True
                return False
            self.assertTrue(wait_until(started, timeout=10))
            for child in children:
                self.assertEqual(cmdline_of(child), cmdline_of(worker.pid))
                self.assertEqual(os.getpgid(child), child)  # a process group of its own
            status, job, _ = api.request("POST", "/api/jobs", {
                "type": "cleanup",
                "data": {"target": "files", "directory": os.path.join(data, "outbox"),
                         "older_than_ms": 0}})
            self.assertEqual(status, 201, job)
            done = finished(api, job["id"])
            self.assertIsNotNone(done)
            self.assertEqual(done["state"], "completed", done)
            self.assertEqual(done["result"]["deleted"], 1)
            self.assertFalse(os.path.exists(os.path.join(data, "outbox", "old.eml")))
            # The same processes served it: none was replaced.
            self.assertEqual(sorted(children_of(worker.pid)), sorted(children))
            # Handler processes end with their worker, however it ends.
            worker.kill()
            worker.wait(10)

            def gone():
                return all(process_ended(c) for c in children)
            self.assertTrue(wait_until(gone, timeout=10), children)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
            log.close()
            api.stop()
            redis.stop()
            shutil.rmtree(data, ignore_errors=True)

    def test_taskq_up_runs_its_workers_in_a_child_that_a_crash_does_not_take_the_api_down(self):
        data = tempfile.mkdtemp(prefix="taskq-up-isolation-")
        log = open(os.path.join(data, "up.log"), "w")
        up = subprocess.Popen(
            [fx.TASKQ, "up", "--data-dir", data, "--redis-port", str(free_port()),
             "--listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0",
             "--queues", "email=1,image-resize=1:process"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            self.assertTrue(wait_until(lambda: listening_ports(log.name)[0], timeout=30))
            port = listening_ports(log.name)[0]
            client = Api.__new__(Api)
            client.port = port

            def worker_child():
                # up's children: the managed redis-server and the worker process (up's own
                # command line); the worker's: its handler processes.
                for child in children_of(up.pid):
                    if cmdline_of(child) == cmdline_of(up.pid):
                        return child
                return None
            first = wait_until(worker_child, timeout=30)
            self.assertIsNotNone(first)
            self.assertTrue(wait_until(lambda: len(children_of(first)) == 1, timeout=30))
            os.kill(first, signal.SIGKILL)  # as a crash in a handler thread would
            status, body, _ = client.request("GET", "/healthz")
            self.assertEqual(status, 200)  # the API lives on
            second = wait_until(lambda: (worker_child() or first) != first and worker_child(),
                                timeout=30)
            self.assertTrue(second, "no new worker process")
            status, job, _ = client.request("POST", "/api/jobs", {
                "type": "email", "data": {"to": "user@example.com", "subject": "Hello"}})
            self.assertEqual(status, 201, job)
            done = finished(client, job["id"], timeout=30)
            self.assertEqual(done["state"], "completed", done)
            up.terminate()
            self.assertEqual(up.wait(60), 0)
            self.assertTrue(process_ended(second))
        finally:
            if up.poll() is None:
                up.kill()
                up.wait(10)
            log.close()
            shutil.rmtree(data, ignore_errors=True)

    def test_a_decompression_bomb_fails_its_job_and_the_worker_goes_on(self):
        redis = Redis()
        data = tempfile.mkdtemp(prefix="taskq-bomb-")
        os.makedirs(os.path.join(data, "images"))
        bomb = os.path.join(data, "images", "bomb.png")
        write_png_bomb(bomb, 9000, 9000)  # 243 MB decoded, under max_decode_bytes
        self.assertLess(os.path.getsize(bomb), 2 << 20)
        log_path = os.path.join(data, "worker.log")
        log = open(log_path, "w")
        worker = subprocess.Popen(
            [fx.TASKQ, "--redis-url", redis.url, "worker", "--queues", "image-resize=1:process",
             "--handler-memory-mb", "128", "--data-dir", data],
            stdout=log, stderr=subprocess.STDOUT)
        api = Api(redis.url)
        try:
            self.assertTrue(wait_until(lambda: len(children_of(worker.pid)) == 1, timeout=10))
            status, job, _ = api.request("POST", "/api/jobs", {
                "type": "image-resize", "max_attempts": 1,
                "data": {"source": bomb, "outputs": [{"width": 100, "height": 100,
                                                      "path": "bomb.jpg"}]}})
            self.assertEqual(status, 201, job)
            done = finished(api, job["id"], timeout=60)
            self.assertIsNotNone(done)
            with open(log_path) as f:
                capped = "memory cap 128 MiB each" in f.read()
            if capped:  # not under AddressSanitizer, where no cap applies (and the job completes)
                self.assertEqual(done["state"], "dead", done)
                self.assertIn("out of memory", done["errors"][0]["message"])
            self.assertIsNone(worker.poll())  # the worker lives on, with a handler process
            self.assertTrue(wait_until(lambda: len(children_of(worker.pid)) == 1, timeout=10))
            status, small, _ = api.request("POST", "/api/jobs", {
                "type": "image-resize", "data": {"source": "/nonexistent/x.png", "outputs": [
                    {"width": 1, "height": 1, "path": "x.jpg"}]}})
            self.assertEqual(status, 201, small)
            after = finished(api, small["id"], timeout=30)
            self.assertEqual(after["state"], "dead", after)  # served: refused as outside the root
        finally:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(30)
            log.close()
            api.stop()
            redis.stop()
            shutil.rmtree(data, ignore_errors=True)

    def test_a_crashing_handler_fails_only_its_own_job(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "misbehave")
        worker = Worker(redis.url, "misbehave=2:process")
        try:
            def enqueue(data, **options):
                status, job, _ = api.request("POST", "/api/jobs", {
                    "type": "misbehave", "queue": "misbehave", "data": data, **options})
                self.assertEqual(status, 201, job)
                return job["id"]
            crash = enqueue({"do": "segv"}, max_attempts=1)
            fine = [enqueue({"do": "pid"}) for _ in range(4)]
            dead = finished(api, crash)
            self.assertEqual(dead["state"], "dead", dead)
            message = dead["errors"][0]["message"]
            self.assertIn("crashed:", message)
            for job_id in fine:
                job = finished(api, job_id)
                self.assertEqual(job["state"], "completed", job)
                self.assertNotEqual(job["result"]["pid"], worker.proc.pid)
            self.assertIsNone(worker.proc.poll())  # the worker itself lives on
            later = finished(api, enqueue({"do": "pid"}))
            self.assertEqual(later["state"], "completed", later)
            # The queue's figures, as the worker's heartbeats report them (every 200 ms here).
            def counted():
                queue = api.request("GET", "/api/queues/misbehave")[1]
                processes = queue["handler_processes"]
                return processes if processes["crashed"] == 1 and processes["alive"] == 2 else None
            processes = wait_until(counted, timeout=10, interval=0.1)
            self.assertIsNotNone(processes, api.request("GET", "/api/queues/misbehave")[1])
            self.assertGreaterEqual(processes["started"], 3)  # two, and the crashed one's successor
            self.assertEqual(processes["timed_out"] + processes["out_of_memory"], 0)
            metrics = api.request("GET", "/metrics")[1].decode()
            self.assertIn('taskq_handler_processes{queue="misbehave"} 2\n', metrics)
            self.assertIn('taskq_handler_process_ends_total{queue="misbehave",reason="crash"} 1\n',
                          metrics)
            self.assertIn('taskq_handler_process_ends_total{queue="misbehave",reason="timeout"} 0\n',
                          metrics)
            workers = api.request("GET", "/api/workers")[1]["workers"]
            queues = [q for w in workers for q in w["queues"] if w["pid"] == worker.proc.pid]
            self.assertEqual(queues, [{"queue": "misbehave", "concurrency": 2, "running": 0,
                                       "isolation": "process", "processes": 2}])
        finally:
            worker.stop()
            api.stop()
            redis.stop()


if __name__ == "__main__":
    fx.main()
