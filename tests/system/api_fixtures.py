#!/usr/bin/python3
"""Fixtures of the system tests of the HTTP API: the real `taskq` binary, a real redis-server on
a free loopback port and a real worker process (taskq_test_worker), driven over real HTTP.

Each api_*_test.py file holds one area's tests and runs on its own:

    api_jobs_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]

and api_test.py runs them all with the same arguments.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

# The binaries under test (main() sets them from the command line).
TASKQ = None
TEST_WORKER = None


def main(modules=None):
    """Runs the tests of the calling module (or of `modules`, imported by name) with
    --taskq and --worker taken from the command line and the rest passed to unittest."""
    global TASKQ, TEST_WORKER
    parser = argparse.ArgumentParser()
    parser.add_argument("--taskq", required=True)
    parser.add_argument("--worker", required=True)
    args, rest = parser.parse_known_args()
    TASKQ, TEST_WORKER = os.path.abspath(args.taskq), os.path.abspath(args.worker)
    if modules is None:
        unittest.main(module="__main__", argv=[sys.argv[0], *rest], verbosity=2)
        return
    unittest.main(module=None, argv=[sys.argv[0], *rest, *modules], verbosity=2)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class Redis:
    """A redis-server of our own, on a free port, without persistence.

    It is asked whether it is up through a Unix socket in its own directory: a port found free
    may be taken by a parallel test's server first, which would answer on the port in its place.
    Our server then exits (it cannot bind), and another port is tried."""

    def __init__(self, *extra_args, port=None):
        for _ in range(1 if port else 5):
            self.port = port or free_port()
            self.dir = tempfile.mkdtemp(prefix="taskq-api-redis-")
            self.socket_path = os.path.join(self.dir, "redis.sock")
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", self.dir, "--maxmemory-policy", "noeviction",
                 "--unixsocket", self.socket_path, *extra_args],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_until(lambda: self._ping() or self.proc.poll() is not None) and \
                    self.proc.poll() is None:
                return
            self.stop()
        raise RuntimeError("redis-server did not start")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _ping(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(0.5)
                s.connect(self.socket_path)
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))  # up (maybe with ACLs)
        except OSError:
            return False

    def cli(self, *args):
        """One command through redis-cli; its output without the trailing newline."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                              text=True, check=True, timeout=10).stdout.rstrip("\n")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def documented_acl_rules():
    """The rules of the least-privilege user in docs/security.md, after `ACL SETUSER taskq`."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "security.md")
    with open(path) as f:
        text = f.read()
    block = text.split("<!-- acl:begin -->")[1].split("<!-- acl:end -->")[0]
    words = block.replace("```", " ").split()
    assert words[:3] == ["ACL", "SETUSER", "taskq"], words[:3]
    return words[3:]


def listening_ports(log_path):
    """The API and dashboard ports a `taskq api` or `taskq up` logged (None until it did)."""
    with open(log_path) as f:
        text = f.read()
    api = re.search(r"API listening on http://\S+:(\d+) ", text)
    dashboard = re.search(r"dashboard on http://\S+:(\d+)/", text)
    return (int(api.group(1)) if api else None, int(dashboard.group(1)) if dashboard else None)


class Api:
    """`taskq api` against a Redis; extra flags as given.

    It listens on port 0 and the test reads the ports from its log: a port found free beforehand
    may be taken by a parallel test, whose server would then answer in its place."""

    def __init__(self, redis_url, *flags):
        self.start([TASKQ, "--redis-url", redis_url, "api", "--listen", "127.0.0.1:0",
                    "--dashboard-listen", "127.0.0.1:0", *flags])

    def start(self, argv, **popen_args):
        self.log = tempfile.NamedTemporaryFile(prefix="taskq-api-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, **popen_args)
        self.port = self.dashboard_port = None

        def listening():
            self.port, self.dashboard_port = listening_ports(self.log.name)
            return self.proc.poll() is not None or (self.port is not None and self._healthy())

        if not wait_until(listening):
            self.stop()
            raise RuntimeError("taskq api did not start")
        if self.proc.poll() is not None:
            with open(self.log.name) as f:
                raise RuntimeError("taskq api exited: " + f.read())
        # The API answers only once the dashboard listens too, which it logs after the API's port.
        self.port, self.dashboard_port = listening_ports(self.log.name)
        return self

    @classmethod
    def run(cls, argv, **popen_args):
        """Starts `argv` (a `taskq api` or `taskq up` listening on port 0) and waits until it
        answers."""
        return cls.__new__(cls).start(argv, **popen_args)

    def _healthy(self):
        try:
            return self.request("GET", "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None, raw=None, port=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (json.dumps(body) if body is not None else None)
            conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            payload = response.read()
            content_type = response.getheader("Content-Type", "")
            parsed = json.loads(payload) if payload and "json" in content_type else payload
            return response.status, parsed, dict(response.getheaders())
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)
        self.log.close()
        os.unlink(self.log.name)


class Worker:
    def __init__(self, redis_url, queues, env=None):
        self.proc = subprocess.Popen([TEST_WORKER, redis_url, queues, "2000", "1000"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     env={**os.environ, **(env or {})})
        for line in self.proc.stdout:  # log lines may come first
            if line.strip() == "ready":
                break
        else:
            self.proc.kill()
            self.proc.wait(15)
            raise RuntimeError("test worker did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)
        self.proc.stdout.close()


class SharedApiTestCase(unittest.TestCase):
    """One Redis, API and test worker for a whole test class. The API runs the test job types
    with small limits (64 KiB bodies, bulk of 50, 4 KiB headers, 1 s request timeout, 5 s
    waits); the worker serves sleep, fail, echo and stubborn, and nothing serves "hold"."""

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, "--job-types", "sleep,fail,hold,echo,stubborn",
                      "--max-body-bytes", "65536",
                      "--max-bulk", "50",
                      "--max-header-bytes", "4096", "--request-timeout-ms", "1000",
                      "--max-wait-ms", "5000")
        cls.worker = Worker(cls.redis.url, "sleep=4,fail=2,echo=1,stubborn=1")

    @classmethod
    def tearDownClass(cls):
        cls.worker.stop()
        cls.api.stop()
        cls.redis.stop()

    def post_job(self, body, headers=None):
        return self.api.request("POST", "/api/jobs", body, headers)

    def get_job(self, job_id):
        return self.api.request("GET", f"/api/jobs/{job_id}")

    def state_of(self, job_id):
        status, job, _ = self.get_job(job_id)
        return job["state"] if status == 200 else status


class CuttingProxy:
    """Forwards TCP to a Redis. Once cut_after_bytes is set, a connection that sends that many
    bytes more is closed on the client's side: FIN first, then, with the client's bytes left
    unread, a reset."""

    def __init__(self, redis_port):
        self.redis_port = redis_port
        self.cut_after_bytes = None
        self.cuts = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.redis_port))
            threading.Thread(target=self._pump_up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(upstream, client), daemon=True).start()

    def _pump_up(self, client, upstream):
        seen = 0
        try:
            while data := client.recv(65536):
                if self.cut_after_bytes is not None:
                    seen += len(data)
                    if seen >= self.cut_after_bytes:
                        self.cuts += 1
                        client.shutdown(socket.SHUT_WR)
                        time.sleep(0.2)
                        client.close()
                        upstream.close()
                        return
                upstream.sendall(data)
        except OSError:
            pass
        for s in (client, upstream):
            s.close()

    def _pump_down(self, upstream, client):
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass

    def stop(self):
        self.listener.close()
