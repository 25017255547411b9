#!/usr/bin/python3
"""System tests of the HTTP API: the real `taskq` binary, a real redis-server on a free loopback
port and a real worker process (taskq_test_worker), driven over real HTTP.

    api_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import argparse
import datetime
import hashlib
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

TASKQ = None
TEST_WORKER = None


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
    """A redis-server of our own, on a free port, without persistence."""

    def __init__(self, *extra_args, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="taskq-api-redis-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--maxmemory-policy", "noeviction",
             *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(self._ping):
            raise RuntimeError("redis-server did not start")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
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
    def __init__(self, redis_url, queues):
        self.proc = subprocess.Popen([TEST_WORKER, redis_url, queues, "2000", "1000"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("test worker did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)
        self.proc.stdout.close()


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, "--job-types", "sleep,fail,hold,echo,stubborn",
                      "--max-body-bytes", "65536",
                      "--max-bulk", "50",
                      "--max-header-bytes", "4096", "--request-timeout-ms", "1000",
                      "--max-wait-ms", "5000")
        cls.worker = Worker(cls.redis.url, "sleep=4,fail=2,echo=1,stubborn=1")  # "hold": none

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

    # --- enqueue and read -----------------------------------------------------------------

    def test_quick_start_request_is_accepted_and_readable(self):
        status, body, _ = self.post_job(
            {"type": "email", "data": {"to": "user@example.com", "subject": "Hello"}})
        self.assertEqual(status, 201, body)
        self.assertEqual(body["queue"], "email")
        self.assertEqual(body["state"], "waiting")
        self.assertTrue(body["created"])
        status, job, _ = self.api.request("GET", body["links"]["self"])
        self.assertEqual(status, 200)
        self.assertEqual(job["id"], body["id"])
        self.assertEqual(job["data"], {"to": "user@example.com", "subject": "Hello"})
        # Found without naming the queue as well.
        self.assertEqual(self.get_job(body["id"])[1]["id"], body["id"])

    def test_job_runs_and_wait_returns_its_result(self):
        status, body, _ = self.post_job({"type": "sleep", "data": {"ms": 50}})
        self.assertEqual(status, 201)
        status, job, _ = self.api.request("GET", body["links"]["wait"] + "&timeout_ms=5000")
        self.assertEqual(status, 200, job)
        self.assertEqual(job["state"], "completed")
        self.assertEqual(job["result"], {"pid": self.worker.proc.pid})
        self.assertGreaterEqual(job["finished_ms"], job["started_ms"])

    def test_data_reaches_the_handler_and_the_api_exactly_as_sent(self):
        # Numbers a parser would change (1.5E0, digits past a double's precision) and escapes stay
        # as the producer wrote them; only whitespace between tokens is dropped.
        data = ('{ "price": 1.5, "big": 123456789012345678901234567890,\n'
                '  "tenth": 0.10000000000000000555, "e": 1e400, "s": "caf\\u00e9 \\/" }')
        exact = ('{"price":1.5,"big":123456789012345678901234567890,'
                 '"tenth":0.10000000000000000555,"e":1e400,"s":"caf\\u00e9 \\/"}')
        for path, raw in (("/api/jobs", '{"type": "echo", "data": ' + data + '}'),
                          ("/api/jobs/bulk", '{"jobs": [{"type": "echo", "data": {"n": 1}}, '
                                             '{"type": "echo", "data": ' + data + '}]}')):
            status, body, _ = self.api.request("POST", path, raw=raw,
                                               headers={"Content-Type": "application/json"})
            self.assertEqual(status, 201, body)
            job_id = body["id"] if path == "/api/jobs" else body["jobs"][1]["id"]
            conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=30)
            try:
                conn.request("GET", f"/api/jobs/{job_id}/wait?timeout_ms=5000")
                response = conn.getresponse()
                text = response.read().decode()
            finally:
                conn.close()
            self.assertEqual(response.status, 200, text)
            self.assertIn('"data":' + exact, text)
            self.assertIn('"result":' + exact, text)  # what the handler saw

    def test_a_type_no_live_worker_handles_is_handed_back_and_shown(self):
        # The worker serves queue "sleep" with handlers for sleep, fail and echo, not "hold".
        status, body, _ = self.post_job({"type": "hold", "queue": "sleep", "data": {}})
        self.assertEqual(status, 201, body)
        job = wait_until(lambda: (lambda j: j if j["state"] == "delayed" else None)(
            self.get_job(body["id"])[1]))
        self.assertTrue(job, self.get_job(body["id"])[1])
        self.assertEqual((job["attempts"], job["stalls"], job["errors"]), (0, 0, []))
        self.assertIs(job["live_handler"], False)
        self.assertRegex(job["logs"][-1], r"^handed back 1 time\(s\), due again in 1000 ms: "
                                          r"no handler for job type 'hold' on worker ")
        _, queue, _ = self.api.request("GET", "/api/queues/sleep")
        self.assertEqual(queue["job_types"], ["echo", "fail", "sleep", "stubborn"])
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{body['id']}")[0], 200)
        # A job a live worker handles says so while it waits.
        _, body, _ = self.post_job({"type": "sleep", "data": {}, "delay_ms": 60000})
        self.assertIs(self.get_job(body["id"])[1]["live_handler"], True)
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{body['id']}")[0], 200)

    def test_wait_answers_408_with_the_job_when_it_is_not_finished(self):
        _, body, _ = self.post_job({"type": "hold", "data": {}})
        started = time.monotonic()
        status, job, _ = self.api.request("GET", f"/api/jobs/{body['id']}/wait?timeout_ms=300")
        self.assertEqual(status, 408)
        self.assertEqual(job["state"], "waiting")
        self.assertGreaterEqual(time.monotonic() - started, 0.29)
        status, error, _ = self.api.request("GET", f"/api/jobs/{body['id']}/wait?timeout_ms=99999")
        self.assertEqual(status, 422)
        self.assertEqual(error["error"]["field"], "timeout_ms")

    def test_repeated_job_id_or_idempotency_key_returns_the_existing_job(self):
        first = self.post_job({"type": "hold", "job_id": "order-17", "data": {"n": 1}})
        self.assertEqual(first[0], 201)
        again = self.post_job({"type": "hold", "job_id": "order-17", "data": {"n": 2}})
        self.assertEqual(again[0], 200)
        self.assertEqual(again[1]["id"], "order-17")
        self.assertEqual(again[1]["data"], {"n": 1})  # unchanged
        key = {"Idempotency-Key": "checkout-42"}
        self.assertEqual(self.post_job({"type": "hold", "data": {}}, key)[0], 201)
        repeat = self.post_job({"type": "hold", "data": {}}, key)
        self.assertEqual(repeat[0], 200)
        self.assertEqual(repeat[1]["id"], "checkout-42")
        conflict = self.post_job({"type": "hold", "job_id": "other", "data": {}}, key)
        self.assertEqual(conflict[0], 422)
        self.assertEqual(conflict[1]["error"]["field"], "job_id")

    def test_options_are_stored(self):
        status, body, _ = self.post_job({
            "type": "hold", "queue": "hold", "priority": -5, "max_attempts": 7,
            "backoff": {"type": "fixed", "delay_ms": 250, "max_delay_ms": 1000, "jitter": 0},
            "timeout_ms": 1500, "retention": {"completed": {"count": 5, "age_ms": 60000}},
            "data": {"x": [1, 2, {"y": "ü"}]}})
        self.assertEqual(status, 201, body)
        job = self.get_job(body["id"])[1]
        self.assertEqual(job["priority"], -5)
        self.assertEqual(job["max_attempts"], 7)
        self.assertEqual(job["options"]["backoff"],
                         {"type": "fixed", "delay_ms": 250, "max_delay_ms": 1000, "jitter": 0})
        self.assertEqual(job["options"]["timeout_ms"], 1500)
        self.assertEqual(job["options"]["retention"]["completed"], {"count": 5, "age_ms": 60000})
        self.assertEqual(job["data"], {"x": [1, 2, {"y": "ü"}]})

    def test_run_at_in_the_future_is_delayed_and_promote_runs_it(self):
        status, body, _ = self.post_job(
            {"type": "sleep", "run_at": "2099-01-01T00:00:00Z", "data": {"ms": 1}})
        self.assertEqual(status, 201)
        self.assertEqual(body["state"], "delayed")
        job = self.get_job(body["id"])[1]
        self.assertEqual(job["due_ms"], 4070908800000)
        status, result, _ = self.api.request("POST", f"/api/jobs/{body['id']}/promote")
        self.assertEqual(status, 200, result)
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "completed"))
        status, result, _ = self.api.request("POST", f"/api/jobs/{body['id']}/promote")
        self.assertEqual(status, 409)

    def test_cancel_removes_a_delayed_job_and_refuses_a_finished_one(self):
        _, body, _ = self.post_job({"type": "sleep", "delay_ms": 60000, "data": {}})
        status, result, _ = self.api.request("DELETE", f"/api/jobs/{body['id']}")
        self.assertEqual((status, result["outcome"]), (200, "removed"))
        self.assertEqual(self.get_job(body["id"])[0], 404)
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{body['id']}")[0], 404)
        _, done, _ = self.post_job({"type": "sleep", "data": {"ms": 1}})
        self.assertTrue(wait_until(lambda: self.state_of(done["id"]) == "completed"))
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{done['id']}")[0], 409)

    def test_cancel_of_a_running_job_asks_its_worker_to_stop(self):
        _, body, _ = self.post_job({"type": "sleep", "data": {"ms": 20000}})
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "active"))
        status, result, _ = self.api.request("DELETE", f"/api/jobs/{body['id']}")
        self.assertEqual((status, result["outcome"]), (202, "stop_requested"))
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "dead"))

    def test_a_job_past_its_timeout_is_shown_overrunning_until_its_handler_returns(self):
        # The "stubborn" handler ignores the stop request: it runs 2.5 s past a 300 ms timeout.
        _, body, _ = self.post_job({"type": "stubborn", "max_attempts": 1, "timeout_ms": 300,
                                    "data": {"ms": 2500}})
        job_id = body["id"]
        self.assertTrue(wait_until(lambda: "overrunning" in self.get_job(job_id)[1]))
        job = self.get_job(job_id)[1]
        self.assertEqual(job["state"], "active")
        self.assertEqual(job["overrunning"]["timeout_ms"], 300)
        self.assertGreaterEqual(job["overrunning"]["since_ms"], job["started_ms"] + 300)
        self.assertIn("not retried until it returns", job["logs"][-1])
        _, queue, _ = self.api.request("GET", "/api/queues/stubborn")
        self.assertEqual(queue["overrunning"], 1)
        metrics = self.api.request("GET", "/metrics")[1].decode()
        self.assertIn('taskq_jobs_overrunning{queue="stubborn"} 1\n', metrics)
        # Dead only once the handler returned: the timeout failed the attempt, the result is
        # discarded.
        self.assertTrue(wait_until(lambda: self.state_of(job_id) == "dead", timeout=10))
        job = self.get_job(job_id)[1]
        self.assertNotIn("overrunning", job)
        self.assertNotIn("result", job)
        self.assertRegex(job["errors"][0]["message"],
                         r"^timed out after 300 ms; the handler returned after \d+ ms and its late "
                         r"result was discarded$")
        self.assertGreaterEqual(job["finished_ms"] - job["started_ms"], 2500)
        _, queue, _ = self.api.request("GET", "/api/queues/stubborn")
        self.assertEqual((queue["overrunning"], queue["totals"]["overran"]), (0, 1))
        metrics = self.api.request("GET", "/metrics")[1].decode()
        self.assertIn('taskq_jobs_overrunning{queue="stubborn"} 0\n', metrics)
        self.assertIn('taskq_job_overruns_total{queue="stubborn"} 1\n', metrics)

    def test_dead_job_is_retried_one_by_one_and_in_bulk(self):
        ids = [self.post_job({"type": "fail", "max_attempts": 1, "data": {}})[1]["id"]
               for _ in range(3)]
        for job_id in ids:
            self.assertTrue(wait_until(lambda: self.state_of(job_id) == "dead"))
        job = self.get_job(ids[0])[1]
        self.assertEqual(job["error"], "boom")
        self.assertEqual(job["errors"][0]["message"], "boom")
        self.assertEqual(job["errors"][0]["attempt"], 1)
        status, result, _ = self.api.request("POST", f"/api/jobs/{ids[0]}/retry")
        self.assertEqual((status, result["state"]), (200, "waiting"))
        # It ran again (a retried dead job starts a fresh count of attempts) and failed again.
        self.assertTrue(wait_until(lambda: len(self.get_job(ids[0])[1]["errors"]) == 2))
        self.assertTrue(wait_until(lambda: self.state_of(ids[0]) == "dead"))
        status, result, _ = self.api.request("POST", "/api/queues/fail/dead/retry",
                                             {"ids": ids[1:]})
        self.assertEqual((status, result["retried"]), (200, 2))
        for bad in ({"ids": 3}, {"ids": []}, {"limit": 5000}, {"all": True}):
            status, _, _ = self.api.request("POST", "/api/queues/fail/dead/retry", bad)
            self.assertEqual(status, 422, bad)

    def test_clean_removes_old_finished_jobs(self):
        _, body, _ = self.post_job({"type": "fail", "max_attempts": 1, "data": {}})
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "dead"))
        status, result, _ = self.api.request(
            "DELETE", "/api/queues/fail/jobs?state=dead&older_than_ms=0")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(result["removed"], 1)
        self.assertEqual(self.get_job(body["id"])[0], 404)
        status, error, _ = self.api.request("DELETE", "/api/queues/fail/jobs?state=waiting")
        self.assertEqual((status, error["error"]["field"]), (422, "state"))

    def test_bulk_enqueue_is_all_or_nothing(self):
        jobs = [{"type": "hold", "queue": "bulkq", "job_id": f"b{i}", "data": {"i": i}}
                for i in range(3)]
        status, result, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": jobs})
        self.assertEqual(status, 201, result)
        self.assertEqual([j["id"] for j in result["jobs"]], ["b0", "b1", "b2"])
        for i in range(3):
            self.assertEqual(self.api.request("GET", f"/api/jobs/b{i}?queue=bulkq")[1]["data"],
                             {"i": i})
        bad = [{"type": "hold", "queue": "bulkq2", "data": {}},
               {"type": "hold", "queue": "bulkq2", "priority": 1.5, "data": {}}]
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": bad})
        self.assertEqual(status, 422)
        self.assertEqual(error["error"]["field"], "jobs[1].priority")
        self.assertEqual(self.api.request("GET", "/api/queues/bulkq2")[0], 404)  # nothing written
        status, error, _ = self.api.request(
            "POST", "/api/jobs/bulk", {"jobs": [{"type": "hold"}] * 51})
        self.assertEqual((status, error["error"]["code"]), (413, "too_large"))

    def test_unique_jobs_return_the_job_holding_the_key(self):
        first = self.post_job({"type": "hold", "queue": "uq", "data": {"n": 1}, "unique": True})
        self.assertEqual(first[0], 201, first[1])
        self.assertTrue(first[1]["created"])
        self.assertNotIn("unique_hit", first[1])
        again = self.post_job({"type": "hold", "queue": "uq", "data": {"n": 1}, "unique": True})
        self.assertEqual(again[0], 200, again[1])
        self.assertEqual(again[1]["id"], first[1]["id"])
        self.assertFalse(again[1]["created"])
        self.assertTrue(again[1]["unique_hit"])
        self.assertEqual(again[1]["state"], "waiting")
        # The derived key: SHA-256 of type, NUL and the data as re-serialised.
        self.assertEqual(again[1]["options"]["unique"],
                         {"key": hashlib.sha256(b'hold\0{"n":1}').hexdigest(),
                          "mode": "until_completed"})
        other = self.post_job({"type": "hold", "queue": "uq", "data": {"n": 2}, "unique": True})
        self.assertEqual(other[0], 201)

        keyed = {"type": "hold", "queue": "uq", "unique": {"key": "tenant-7"}}
        held = self.post_job({**keyed, "data": {"v": 1}})
        self.assertEqual(held[0], 201)
        hit = self.post_job({**keyed, "data": {"v": 2}})
        self.assertEqual((hit[0], hit[1]["id"], hit[1]["data"]), (200, held[1]["id"], {"v": 1}))
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{held[1]['id']}")[0], 200)
        self.assertEqual(self.post_job({**keyed, "data": {"v": 3}})[0], 201)  # released

        # Completion releases the key.
        done = self.post_job({"type": "sleep", "data": {"ms": 1}, "unique": True})
        self.assertEqual(done[0], 201)
        self.assertTrue(wait_until(lambda: self.state_of(done[1]["id"]) == "completed"))
        self.assertEqual(self.post_job({"type": "sleep", "data": {"ms": 1}, "unique": True})[0],
                         201)

    def test_unique_debounce_ttl_and_bulk(self):
        debounce = {"type": "hold", "queue": "uq2", "delay_ms": 60000,
                    "unique": {"key": "d", "mode": "debounce"}}
        first = self.post_job({**debounce, "data": {"n": 1}})
        second = self.post_job({**debounce, "data": {"n": 2}})
        self.assertEqual((first[0], second[0]), (201, 201))
        self.assertEqual(second[1]["state"], "delayed")
        self.assertNotEqual(first[1]["id"], second[1]["id"])
        self.assertEqual(self.get_job(first[1]["id"])[0], 404)  # replaced
        self.assertEqual(self.get_job(second[1]["id"])[1]["data"], {"n": 2})

        ttl = {"type": "hold", "queue": "uq2",
               "unique": {"key": "t", "mode": "ttl", "ttl_ms": 60000}}
        held = self.post_job(ttl)
        self.assertEqual(held[0], 201)
        self.assertEqual(self.get_job(held[1]["id"])[1]["options"]["unique"],
                         {"key": "t", "mode": "ttl", "ttl_ms": 60000})
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{held[1]['id']}")[0], 200)
        hit = self.post_job(ttl)  # held for the TTL, whatever happened to the job
        self.assertEqual(hit[0], 200, hit[1])
        self.assertEqual((hit[1]["id"], hit[1]["state"]), (held[1]["id"], "unknown"))
        self.assertEqual((hit[1]["created"], hit[1]["unique_hit"]), (False, True))

        jobs = [{"type": "hold", "queue": "uq2", "unique": {"key": "b"}, "data": {"i": i}}
                for i in range(2)]
        status, result, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": jobs})
        self.assertEqual(status, 201, result)
        self.assertTrue(result["jobs"][0]["created"])
        self.assertFalse(result["jobs"][1]["created"])
        self.assertTrue(result["jobs"][1]["unique_hit"])
        self.assertEqual(result["jobs"][1]["id"], result["jobs"][0]["id"])

    def test_bad_unique_options_name_the_field(self):
        cases = [
            ({"unique": "yes"}, "unique"),
            ({"unique": {"key": ""}}, "unique.key"),
            ({"unique": {"key": "k" * 257}}, "unique.key"),
            ({"unique": {"key": "a\nb"}}, "unique.key"),
            ({"unique": {"key": 7}}, "unique.key"),
            ({"unique": {"mode": "forever"}}, "unique.mode"),
            ({"unique": {"mode": "ttl"}}, "unique.ttl_ms"),
            ({"unique": {"mode": "ttl", "ttl_ms": 0}}, "unique.ttl_ms"),
            ({"unique": {"mode": "ttl", "ttl_ms": 2592000001}}, "unique.ttl_ms"),
            ({"unique": {"mode": "debounce", "ttl_ms": 5}}, "unique.ttl_ms"),
            ({"unique": {"ttl": 5}}, "unique.ttl"),
        ]
        for extra, field in cases:
            with self.subTest(extra=extra):
                status, error, _ = self.post_job({"type": "hold", "queue": "uq3", **extra})
                self.assertEqual(status, 422, error)
                self.assertEqual(error["error"]["field"], field)
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": [
            {"type": "hold", "queue": "uq3"},
            {"type": "hold", "queue": "uq3", "unique": {"mode": "later"}}]})
        self.assertEqual((status, error["error"]["field"]), (422, "jobs[1].unique.mode"))
        self.assertEqual(self.api.request("GET", "/api/queues/uq3")[0], 404)  # nothing written

    # --- queues ---------------------------------------------------------------------------

    def test_pause_holds_jobs_until_resume(self):
        self.post_job({"type": "sleep", "queue": "sleep", "data": {"ms": 1}})
        self.assertEqual(self.api.request("POST", "/api/queues/sleep/pause")[0], 200)
        try:
            _, body, _ = self.post_job({"type": "sleep", "data": {"ms": 1}})
            time.sleep(0.3)
            self.assertEqual(self.state_of(body["id"]), "waiting")
            queue = self.api.request("GET", "/api/queues/sleep")[1]
            self.assertTrue(queue["paused"])
            self.assertGreaterEqual(queue["counts"]["waiting"], 1)
            self.assertIsNotNone(queue["oldest_waiting_age_ms"])
        finally:
            self.assertEqual(self.api.request("POST", "/api/queues/sleep/resume")[0], 200)
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "completed"))

    def test_limits_are_stored_returned_and_obeyed(self):
        status, body, _ = self.api.request("GET", "/api/queues/sleep/limits")
        no_group = {"rate": None, "concurrency": None, "field": None}
        self.assertEqual((status, body), (200, {"queue": "sleep", "rate": None,
                                                "concurrency": None, "group": no_group,
                                                "priority_aging_ms": None}))
        status, body, _ = self.api.request(
            "PUT", "/api/queues/sleep/limits", {"rate": {"max": 50, "window_ms": 2000},
                                                "concurrency": 1})
        self.assertEqual(status, 200, body)
        try:
            status, body, _ = self.api.request("GET", "/api/queues/sleep/limits")
            self.assertEqual(body, {"queue": "sleep", "rate": {"max": 50, "window_ms": 2000},
                                    "concurrency": 1, "group": no_group,
                                    "priority_aging_ms": None})
            ids = [self.post_job({"type": "sleep", "data": {"ms": 150}})[1]["id"]
                   for _ in range(3)]
            most_active = 0

            def finished():
                nonlocal most_active
                queue = self.api.request("GET", "/api/queues/sleep")[1]
                most_active = max(most_active, queue["counts"]["active"])
                return all(self.state_of(i) == "completed" for i in ids)
            self.assertTrue(wait_until(finished))
            self.assertEqual(most_active, 1)
        finally:
            status, body, _ = self.api.request("PUT", "/api/queues/sleep/limits", {})
        self.assertEqual(body, {"queue": "sleep", "rate": None, "concurrency": None,
                                "group": no_group, "priority_aging_ms": None})

    def test_group_is_stored_shown_and_checked(self):
        status, body, _ = self.post_job({"type": "hold", "group": "tenant-7", "data": {}})
        self.assertEqual(status, 201, body)
        self.assertEqual(self.get_job(body["id"])[1]["group"], "tenant-7")
        self.assertNotIn("group", self.get_job(self.post_job({"type": "hold"})[1]["id"])[1])
        for group in ["", "x" * 129, "tab\there", 7]:
            status, error, _ = self.post_job({"type": "hold", "group": group})
            self.assertEqual(status, 422, group)
            self.assertEqual(error["error"]["field"], "group", group)

    def test_bad_limits_name_the_field(self):
        cases = [({"rate": {"max": 0}}, "rate.max"),
                 ({"rate": {"window_ms": 1000}}, "rate.max"),
                 ({"rate": {"max": 5, "window_ms": 86400001}}, "rate.window_ms"),
                 ({"rate": {"max": 5, "per": "s"}}, "rate.per"),
                 ({"rate": 5}, "rate"),
                 ({"concurrency": -1}, "concurrency"),
                 ({"concurrency": 1.5}, "concurrency"),
                 ({"burst": 3}, "burst"),
                 ({"group": {"rate": {"max": 0}}}, "group.rate.max"),
                 ({"group": {"concurrency": 0}}, "group.concurrency"),
                 ({"group": {"field": ""}}, "group.field"),
                 ({"group": {"by": "x"}}, "group.by"),
                 ({"group": []}, "group"),
                 ({"priority_aging_ms": 0}, "priority_aging_ms")]
        for body, field in cases:
            status, error, _ = self.api.request("PUT", "/api/queues/sleep/limits", body)
            self.assertEqual(status, 422, body)
            self.assertEqual(error["error"]["field"], field, body)
        status, error, _ = self.api.request("PUT", "/api/queues/sleep/limits", raw=b"{nope")
        self.assertEqual((status, error["error"]["code"]), (400, "malformed_json"))
        self.assertEqual(self.api.request("GET", "/api/queues/sleep/limits")[1]["rate"], None)

    def test_queue_list_and_job_pages(self):
        for i in range(5):
            self.post_job({"type": "hold", "queue": "pages", "delay_ms": 600000,
                           "job_id": f"p{i}", "data": {}})
        status, listing, _ = self.api.request("GET", "/api/queues")
        self.assertEqual(status, 200)
        pages = [q for q in listing["queues"] if q["name"] == "pages"]
        self.assertEqual(pages[0]["counts"]["delayed"], 5)
        seen, cursor = [], ""
        while True:
            status, page, _ = self.api.request(
                "GET", f"/api/queues/pages/jobs?state=delayed&limit=2{cursor}")
            self.assertEqual(status, 200, page)
            seen += [j["id"] for j in page["jobs"]]
            if page["next_cursor"] is None:
                break
            cursor = "&cursor=" + page["next_cursor"]
        self.assertEqual(sorted(seen), [f"p{i}" for i in range(5)])
        self.assertEqual(self.api.request("GET", "/api/queues/nosuchqueue")[0], 404)
        status, error, _ = self.api.request("GET", "/api/queues/pages/jobs?state=lost")
        self.assertEqual((status, error["error"]["field"]), (422, "state"))
        status, error, _ = self.api.request("GET", "/api/queues/pages/jobs?limit=0")
        self.assertEqual((status, error["error"]["field"]), (422, "limit"))

    # --- filters, order, remove and batch actions (the dashboard's queue view) -------------

    def jobs_page(self, queue, query):
        status, page, _ = self.api.request("GET", f"/api/queues/{queue}/jobs?{query}")
        self.assertEqual(status, 200, page)
        return page

    def ids_of(self, queue, query):
        return [j["id"] for j in self.jobs_page(queue, query)["jobs"]]

    def enqueue_held(self, queue, specs):
        """Jobs in a queue no worker serves, so they stay where they are put."""
        jobs = [{"queue": queue, "type": "hold", **spec} for spec in specs]
        status, result, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": jobs})
        self.assertEqual(status, 201, result)

    def test_job_filters_by_type_data_field_and_error(self):
        self.enqueue_held("flt", [
            {"job_id": "f0", "data": {"to": "a@x.org", "customer": {"email": "c@x.org"}}},
            {"job_id": "f1", "type": "sleep", "data": {"to": "b@x.org", "n": 42, "ok": True}},
            {"job_id": "f2", "data": {"to": "a@x.org", "n": "42", "tags": ["x"]}},
            {"job_id": "f3", "type": "fail", "data": {"customer": {"email": "d@x.org"}}}])
        self.assertEqual(self.ids_of("flt", "type=sleep"), ["f1"])
        self.assertEqual(self.ids_of("flt", "type=hold"), ["f0", "f2"])
        self.assertEqual(self.ids_of("flt", "field=to&value=a@x.org"), ["f0", "f2"])
        self.assertEqual(self.ids_of("flt", "field=data.to&value=a@x.org&type=hold"),
                         ["f0", "f2"])
        self.assertEqual(self.ids_of("flt", "field=customer.email&value=d@x.org"), ["f3"])
        # A string field equals the text; another value's compact JSON does.
        self.assertEqual(self.ids_of("flt", "field=n&value=42"), ["f1", "f2"])
        self.assertEqual(self.ids_of("flt", "field=ok&value=true"), ["f1"])
        self.assertEqual(self.ids_of("flt", "field=tags&value=%5B%22x%22%5D"), ["f2"])
        self.assertEqual(self.ids_of("flt", "field=customer&value=%7B%22email%22%3A%22c%40x.org%22%7D"),
                         ["f0"])
        self.assertEqual(self.ids_of("flt", "field=missing&value=1"), [])
        page = self.jobs_page("flt", "type=sleep")
        self.assertEqual((page["scanned"], page["next_cursor"]), (4, None))
        self.assertNotIn("scanned", self.jobs_page("flt", "limit=2"))  # no filter: as before
        # The latest error, case-insensitively ("boom" from the worker's fail handler).
        ids = [self.post_job({"type": "fail", "max_attempts": 1, "data": {}})[1]["id"]
               for _ in range(2)]
        for job_id in ids:
            self.assertTrue(wait_until(lambda: self.state_of(job_id) == "dead"))
        found = self.ids_of("fail", "state=dead&error=OO&limit=1000")
        self.assertTrue(set(ids) <= set(found), found)
        self.assertEqual(self.ids_of("fail", "state=dead&error=no-such-error"), [])
        self.assertEqual(self.ids_of("flt", "error=boom"), [])  # no error at all: no match

    def test_job_filter_scan_is_bounded_and_the_cursor_continues(self):
        self.enqueue_held("scan", [{"job_id": f"s{i:02}", "data": {"even": i % 2 == 0}}
                                   for i in range(25)])
        page = self.jobs_page("scan", "field=even&value=true&scan=10")
        self.assertEqual([j["id"] for j in page["jobs"]], ["s00", "s02", "s04", "s06", "s08"])
        self.assertEqual((page["scanned"], page["next_cursor"]), (10, "10"))
        # Stopping at `limit` matches: the cursor is right after the last match.
        page = self.jobs_page("scan", "field=even&value=true&limit=2")
        self.assertEqual([j["id"] for j in page["jobs"]], ["s00", "s02"])
        self.assertEqual((page["scanned"], page["next_cursor"]), (3, "3"))
        seen, cursor, pages = [], "0", 0
        while cursor is not None:
            page = self.jobs_page("scan", f"field=even&value=true&scan=7&cursor={cursor}")
            self.assertLessEqual(page["scanned"], 7)
            seen += [j["id"] for j in page["jobs"]]
            cursor, pages = page["next_cursor"], pages + 1
        self.assertEqual(seen, [f"s{i:02}" for i in range(0, 25, 2)])
        self.assertEqual(pages, 4)  # 7 + 7 + 7 + 4
        page = self.jobs_page("scan", "field=even&value=false&reverse=true&limit=3")
        self.assertEqual([j["id"] for j in page["jobs"]], ["s23", "s21", "s19"])

    def test_reverse_order_of_waiting_and_finished_jobs(self):
        self.enqueue_held("rev", [{"job_id": "r-low", "priority": 5},
                                  {"job_id": "r-a"}, {"job_id": "r-b"},
                                  {"job_id": "r-urgent", "priority": -5},
                                  {"job_id": "r-g1", "group": "acme"},
                                  {"job_id": "r-g2", "group": "acme"},
                                  {"job_id": "r-h1", "group": "zeta"}])
        forward = self.ids_of("rev", "limit=1000")
        self.assertEqual(forward, ["r-urgent", "r-a", "r-b", "r-low", "r-g1", "r-g2", "r-h1"])
        self.assertEqual(self.ids_of("rev", "reverse=true&limit=1000"), forward[::-1])
        self.assertEqual(self.ids_of("rev", "reverse=false"), forward)
        paged, cursor = [], "0"
        while cursor is not None:
            page = self.jobs_page("rev", f"reverse=true&limit=2&cursor={cursor}")
            paged += [j["id"] for j in page["jobs"]]
            cursor = page["next_cursor"]
        self.assertEqual(paged, forward[::-1])
        for queue, state, body in (("fail", "dead", {"type": "fail", "max_attempts": 1}),
                                   ("sleep", "completed", {"type": "sleep", "data": {"ms": 1}})):
            ids = [self.post_job(body)[1]["id"] for _ in range(3)]
            for job_id in ids:
                self.assertTrue(wait_until(lambda: self.state_of(job_id) == state))
            newest_first = self.ids_of(queue, f"state={state}&limit=1000")
            oldest_first = self.ids_of(queue, f"state={state}&limit=1000&reverse=true")
            self.assertEqual(oldest_first, newest_first[::-1])
            # The three just finished come last (in the order they finished, which the worker's
            # concurrency leaves open).
            self.assertEqual(sorted(oldest_first[-3:]), sorted(ids))
            self.assertEqual(self.ids_of(queue, f"state={state}&limit=1&reverse=true"),
                             oldest_first[:1])

    def test_remove_any_job_but_a_running_one(self):
        self.enqueue_held("rm", [{"job_id": "rm1"}, {"job_id": "rm2", "delay_ms": 600000}])
        for job_id in ("rm1", "rm2"):
            status, result, _ = self.api.request("POST", f"/api/jobs/{job_id}/remove?queue=rm")
            self.assertEqual((status, result),
                             (200, {"id": job_id, "queue": "rm", "outcome": "removed"}))
            self.assertEqual(self.get_job(job_id)[0], 404)
        status, error, _ = self.api.request("POST", "/api/jobs/rm1/remove?queue=rm")
        self.assertEqual((status, error["error"]["field"]), (404, "id"))
        status, error, _ = self.api.request("POST", "/api/jobs/bad%20id/remove")
        self.assertEqual((status, error["error"]["field"]), (422, "job_id"))
        _, dead, _ = self.post_job({"type": "fail", "max_attempts": 1})
        self.assertTrue(wait_until(lambda: self.state_of(dead["id"]) == "dead"))
        self.assertEqual(self.api.request("POST", f"/api/jobs/{dead['id']}/remove")[0], 200)
        _, running, _ = self.post_job({"type": "sleep", "data": {"ms": 20000}})
        self.assertTrue(wait_until(lambda: self.state_of(running["id"]) == "active"))
        status, error, _ = self.api.request("POST", f"/api/jobs/{running['id']}/remove")
        self.assertEqual((status, error["error"]["code"]), (409, "conflict"))
        self.assertIn("cancel", error["error"]["message"])
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{running['id']}")[0], 202)
        self.assertTrue(wait_until(lambda: self.state_of(running["id"]) == "dead"))

    def test_batch_actions_do_each_job_and_report_the_others(self):
        self.enqueue_held("act", [{"job_id": "w1"}, {"job_id": "d1", "delay_ms": 600000},
                                  {"job_id": "d2", "delay_ms": 600000}])
        self.enqueue_held("other", [{"job_id": "x1"}])

        def act(action, ids):
            status, result, _ = self.api.request("POST", "/api/queues/act/jobs/actions",
                                                 {"action": action, "ids": ids})
            self.assertEqual(status, 200, result)
            self.assertEqual((result["queue"], result["action"]), ("act", action))
            return result["done"], {f["id"]: f["code"] for f in result["failed"]}

        done, failed = act("promote", ["d1", "w1", "nope", "x1", "d2"])
        self.assertEqual(done, ["d1", "d2"])
        self.assertEqual(failed, {"w1": "conflict", "nope": "not_found", "x1": "not_found"})
        self.assertEqual(self.state_of("d1"), "waiting")
        self.assertEqual(act("retry", ["w1"]), ([], {"w1": "conflict"}))
        self.assertEqual(act("cancel", ["w1", "w1"]), (["w1"], {"w1": "not_found"}))
        self.assertEqual(act("remove", ["d1", "d2"]), (["d1", "d2"], {}))
        self.assertEqual(self.get_job("x1")[0], 200)  # another queue's job is untouched
        _, result, _ = self.api.request("POST", "/api/queues/act/jobs/actions",
                                        {"action": "remove", "ids": ["gone"]})
        self.assertEqual(result["failed"][0]["message"], "no job with id 'gone'")
        # Dead jobs of the fail queue go back to waiting (the worker fails them again).
        ids = [self.post_job({"type": "fail", "max_attempts": 1})[1]["id"] for _ in range(2)]
        for job_id in ids:
            self.assertTrue(wait_until(lambda: self.state_of(job_id) == "dead"))
        status, result, _ = self.api.request("POST", "/api/queues/fail/jobs/actions",
                                             {"action": "retry", "ids": ids})
        self.assertEqual((status, result["done"], result["failed"]), (200, ids, []))
        status, error, _ = self.api.request("POST", "/api/queues/nosuchqueue/jobs/actions",
                                            {"action": "retry", "ids": ["a"]})
        self.assertEqual((status, error["error"]["field"]), (404, "queue"))

    def test_bad_batch_actions_are_422_naming_the_field(self):
        cases = [({"ids": ["a"]}, "action"), ({"action": "retry"}, "ids"),
                 ({"action": "explode", "ids": ["a"]}, "action"),
                 ({"action": 3, "ids": ["a"]}, "action"),
                 ({"action": "retry", "ids": []}, "ids"),
                 ({"action": "retry", "ids": "a"}, "ids"),
                 ({"action": "retry", "ids": [f"j{i}" for i in range(1001)]}, "ids"),
                 ({"action": "retry", "ids": ["a", "b", "c", "bad id"]}, "ids[3]"),
                 ({"action": "retry", "ids": ["a", 7]}, "ids[1]"),
                 ({"action": "retry", "ids": ["a"], "all": True}, "all"),
                 ([1], "(body)")]
        for body, field in cases:
            status, error, _ = self.api.request("POST", "/api/queues/fail/jobs/actions", body)
            self.assertEqual((status, error["error"]["field"]), (422, field), body)
        status, _, _ = self.api.request("POST", "/api/queues/fail/jobs/actions", raw="{")
        self.assertEqual(status, 400)

    def test_bad_list_filters_are_422_naming_the_parameter(self):
        self.enqueue_held("flt422", [{"job_id": "z"}])
        cases = [("field=to", "value"), ("value=x", "field"), ("error=" + "e" * 257, "error"),
                 ("field=to&value=" + "v" * 257, "value"), ("field=a.b.c.d.e.f.g.h.i&value=1",
                                                           "field"),
                 ("field=a..b&value=1", "field"), ("field=data.&value=1", "field"),
                 ("type=bad%20type", "type"), ("scan=0&type=hold", "scan"),
                 ("scan=50001&type=hold", "scan"), ("reverse=yes", "reverse")]
        for query, field in cases:
            status, error, _ = self.api.request("GET", f"/api/queues/flt422/jobs?{query}")
            self.assertEqual((status, error["error"]["field"]), (422, field), query)
        # At the limits it is fine.
        self.jobs_page("flt422", "field=a.b.c.d.e.f.g.h&value=" + "v" * 256 + "&scan=50000")

    # --- errors and limits ----------------------------------------------------------------

    def test_bad_input_gets_a_clear_error_and_writes_nothing(self):
        cases = [
            ('{"type": ', 400, "malformed_json", None),
            ('[1, 2]', 422, "invalid_field", "(body)"),
            ('{"data": {}}', 422, "invalid_field", "type"),
            ('{"type": "a:b"}', 422, "invalid_field", "type"),
            ('{"type": "x", "queue": "{tag}"}', 422, "invalid_field", "queue"),
            ('{"type": "x", "data": [1]}', 422, "invalid_field", "data"),
            ('{"type": "x", "priority": "high"}', 422, "invalid_field", "priority"),
            ('{"type": "x", "priority": 10000001}', 422, "invalid_field", "priority"),
            ('{"type": "x", "delay": 5}', 422, "invalid_field", "delay"),
            ('{"type": "x", "run_at": "tomorrow"}', 422, "invalid_field", "run_at"),
            ('{"type": "x", "max_attempts": 0}', 422, "invalid_field", "max_attempts"),
            ('{"type": "x", "backoff": {"type": "linear"}}', 422, "invalid_field",
             "backoff.type"),
            ('{"type": "x", "retention": {"dead": {"count": -1}}}', 422, "invalid_field",
             "retention.dead.count"),
            ('{"type": "x", "job_id": "has space"}', 422, "invalid_field", "job_id"),
            ('{"type": "x", "data": ' + "[" * 40 + "]" * 40 + "}", 400, "malformed_json", None),
        ]
        for raw, status, code, field in cases:
            with self.subTest(body=raw[:40]):
                got, error, _ = self.api.request("POST", "/api/jobs", raw=raw)
                self.assertEqual(got, status, error)
                self.assertEqual(error["error"]["code"], code)
                self.assertTrue(error["error"]["message"])
                if field:
                    self.assertEqual(error["error"]["field"], field)
        # None of these created a queue or a job.
        names = [q["name"] for q in self.api.request("GET", "/api/queues")[1]["queues"]]
        self.assertNotIn("x", names)

    def test_unknown_type_and_invalid_email_data_are_422_naming_the_field(self):
        status, error, _ = self.post_job({"type": "fax", "data": {}})
        self.assertEqual((status, error["error"]["field"]), (422, "type"))
        self.assertIn("email", error["error"]["message"])  # lists the known types
        self.assertIn("sleep", error["error"]["message"])
        status, error, _ = self.post_job({"type": "email", "data": {"to": "not an address"}})
        self.assertEqual((status, error["error"]["field"]), (422, "data.to"))
        status, error, _ = self.post_job(
            {"type": "email", "data": {"to": "a@example.com", "subject": "x\r\nBcc: b@evil"}})
        self.assertEqual((status, error["error"]["field"]), (422, "data.subject"))
        status, error, _ = self.api.request(
            "POST", "/api/jobs/bulk",
            {"jobs": [{"type": "email", "data": {"to": "a@example.com"}},
                      {"type": "email", "data": {"to": "a@example.com", "cc": 5}}]})
        self.assertEqual((status, error["error"]["field"]), (422, "jobs[1].data.cc"))

    def test_mutated_bodies_never_crash_the_server_or_half_write_a_job(self):
        import random
        rng = random.Random(1234)  # fixed seed: a failure reproduces
        base = json.dumps({"type": "hold", "queue": "fuzzq", "priority": 3, "delay_ms": 600000,
                           "backoff": {"type": "fixed", "delay_ms": 5},
                           "data": {"to": "a@b.c", "n": [1, 2.5, None, True], "s": "é\u0000"}})
        alphabet = '{}[]",:\\0123456789.eE+-truefalsn \t\n\u00e9\ud83d\ude00' + "\x00\x7f"
        created = 0
        for i in range(300):
            chars = list(base)
            for _ in range(rng.randint(1, 6)):
                op, pos = rng.random(), rng.randrange(len(chars))
                if op < 0.4:
                    chars[pos] = rng.choice(alphabet)
                elif op < 0.7:
                    del chars[pos]
                else:
                    chars.insert(pos, rng.choice(alphabet))
            body = "".join(chars).encode("utf-8", "surrogatepass")
            status, answer, _ = self.api.request("POST", "/api/jobs", raw=body)
            self.assertIn(status, (200, 201, 400, 413, 422), (body, answer))
            self.assertIn("error" if status >= 400 else "id", answer)
            if status == 201:
                created += 1
                # What was accepted is whole: it reads back with its options.
                self.assertEqual(self.get_job(answer["id"])[0], 200)
        self.assertEqual(self.api.request("GET", "/healthz")[0], 200)
        counts = self.api.request("GET", "/api/queues/fuzzq")
        if created:
            self.assertEqual(counts[1]["counts"]["delayed"] + counts[1]["counts"]["waiting"],
                             created)

    def test_body_over_the_limit_is_413(self):
        big = json.dumps({"type": "x", "data": {"blob": "a" * 70000}})
        status, error, _ = self.api.request("POST", "/api/jobs", raw=big)
        self.assertEqual((status, error["error"]["code"]), (413, "body_too_large"))

    def test_headers_over_the_limit_are_431(self):
        status, error, _ = self.api.request("GET", "/healthz", headers={"X-Big": "b" * 8000})
        self.assertEqual((status, error["error"]["code"]), (431, "headers_too_large"))

    def test_unknown_route_is_404_and_wrong_method_is_405(self):
        status, error, _ = self.api.request("GET", "/api/nothing")
        self.assertEqual((status, error["error"]["code"]), (404, "not_found"))
        status, error, headers = self.api.request("PUT", "/api/jobs")
        self.assertEqual((status, error["error"]["code"]), (405, "method_not_allowed"))
        self.assertEqual(headers["Allow"], "POST")
        self.assertEqual(self.get_job("no-such-job")[0], 404)

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=10)
        try:
            for i in range(50):
                conn.request("POST", "/api/jobs",
                             body=json.dumps({"type": "hold", "queue": "ka", "data": {"i": i}}))
                response = conn.getresponse()
                response.read()
                self.assertEqual(response.status, 201)
            # HEAD answers with headers only: the next answer on the connection still parses.
            conn.request("HEAD", "/healthz")
            response = conn.getresponse()
            self.assertEqual((response.status, response.read()), (200, b""))
            conn.request("GET", "/healthz")
            self.assertEqual(json.loads(conn.getresponse().read()), {"status": "ok"})
        finally:
            conn.close()
        self.assertEqual(self.api.request("GET", "/api/queues/ka")[1]["counts"]["waiting"], 50)

    def test_a_slow_client_cannot_pin_a_connection(self):
        with socket.create_connection(("127.0.0.1", self.api.port), timeout=5) as s:
            s.sendall(b"POST /api/jobs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{")
            started = time.monotonic()
            self.assertEqual(s.recv(1024), b"")  # closed by the server (1 s request timeout)
            self.assertLess(time.monotonic() - started, 4)

    # --- health, metrics, OpenAPI -------------------------------------------------------------

    def test_health_and_readiness(self):
        self.assertEqual(self.api.request("GET", "/healthz")[:2], (200, {"status": "ok"}))
        self.assertEqual(self.api.request("GET", "/readyz")[:2], (200, {"status": "ready"}))

    def test_metrics_expose_queue_counts_and_request_counters(self):
        self.post_job({"type": "hold", "queue": "metricsq", "data": {}})
        status, text, headers = self.api.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        text = text.decode()
        self.assertIn('taskq_jobs{queue="metricsq",state="waiting"} 1', text)
        self.assertIn('taskq_http_requests_total{method="POST",route="/api/jobs",code="201"}',
                      text)
        self.assertIn("taskq_http_request_duration_seconds_bucket", text)
        # Job timing histograms, reported by the worker's heartbeat (every 200 ms here).
        _, body, _ = self.post_job({"type": "sleep", "data": {"ms": 20}})
        self.assertTrue(wait_until(lambda: self.state_of(body["id"]) == "completed"))
        def histogram_line():
            metrics = self.api.request("GET", "/metrics")[1].decode()
            return [line for line in metrics.splitlines()
                    if line.startswith('taskq_job_processing_seconds_count{queue="sleep",'
                                       'type="sleep"}')]
        lines = wait_until(histogram_line, timeout=5)
        self.assertTrue(lines)
        self.assertGreaterEqual(int(lines[0].split()[-1]), 1)
        metrics = self.api.request("GET", "/metrics")[1].decode()
        self.assertIn('taskq_job_wait_seconds_bucket{queue="sleep",type="sleep",le="+Inf"}',
                      metrics)

    def test_openapi_document_and_routes_agree(self):
        status, doc, _ = self.api.request("GET", "/api/openapi.json")
        self.assertEqual(status, 200)
        self.assertTrue(doc["openapi"].startswith("3."))
        documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
        expected = {
            ("POST", "/api/jobs"), ("POST", "/api/jobs/bulk"), ("GET", "/api/jobs/{id}"),
            ("DELETE", "/api/jobs/{id}"), ("POST", "/api/jobs/{id}/retry"),
            ("POST", "/api/jobs/{id}/promote"), ("GET", "/api/jobs/{id}/wait"),
            ("GET", "/api/queues"), ("GET", "/api/queues/{queue}"),
            ("GET", "/api/queues/{queue}/jobs"), ("POST", "/api/queues/{queue}/pause"),
            ("POST", "/api/queues/{queue}/resume"), ("POST", "/api/queues/{queue}/dead/retry"),
            ("DELETE", "/api/queues/{queue}/jobs"), ("GET", "/healthz"), ("GET", "/readyz"),
            ("GET", "/metrics"), ("GET", "/api/openapi.json"), ("GET", "/api/workers"),
            ("POST", "/api/jobs/{id}/remove"), ("POST", "/api/queues/{queue}/jobs/actions")}
        self.assertTrue(expected <= documented, expected - documented)
        listing = doc["paths"]["/api/queues/{queue}/jobs"]["get"]
        self.assertTrue({"state", "limit", "cursor", "reverse", "type", "error", "field", "value",
                         "scan"} <= {p["name"] for p in listing["parameters"]})
        schemas = doc["components"]["schemas"]
        for method, path in documented:
            # Every documented operation is served: a request reaches a route (no route-level
            # 404 or 405), and every schema it names exists.
            concrete = path.replace("{id}", "no-such-job").replace("{queue}", "no-such-queue")
            status, body, _ = self.api.request(method, concrete + "?timeout_ms=0",
                                               raw="{}" if method == "POST" else None)
            self.assertNotEqual(status, 405, (method, path))
            if status == 404:
                self.assertNotIn("no route", body["error"]["message"], (method, path))
            operation = doc["paths"][path][method.lower()]
            for ref in json.dumps(operation).split('"$ref": "')[1:]:
                self.assertIn(ref.split('"')[0].rsplit("/", 1)[1], schemas)

    def test_workers_are_listed_with_their_queues_until_they_stop(self):
        status, body, _ = self.api.request("GET", "/api/workers")
        self.assertEqual(status, 200)
        mine = [w for w in body["workers"] if w["pid"] == self.worker.proc.pid]
        self.assertEqual(len(mine), 1, body)
        queues = {q["queue"]: q["concurrency"] for q in mine[0]["queues"]}
        self.assertEqual(queues, {"sleep": 4, "fail": 2, "echo": 1, "stubborn": 1})
        self.assertEqual(set(mine[0]["job_types"]), {"sleep", "fail", "echo", "stubborn"})
        self.assertLess(mine[0]["heartbeat_age_ms"], 15000)
        self.assertEqual(mine[0]["host"], socket.gethostname())
        extra = Worker(self.redis.url, "extraq=3")
        try:
            self.post_job({"type": "hold", "queue": "extraq", "delay_ms": 600000, "data": {}})
            queue = self.api.request("GET", "/api/queues/extraq")[1]
            self.assertEqual(queue["workers"], 1)
        finally:
            extra.stop()
        pids = [w["pid"] for w in self.api.request("GET", "/api/workers")[1]["workers"]]
        self.assertNotIn(extra.proc.pid, pids)  # a clean stop removes it at once
        self.assertIn(self.worker.proc.pid, pids)
        self.assertEqual(self.api.request("GET", "/api/queues/extraq")[1]["workers"], 0)

    def test_dashboard_listener_serves_the_base_path(self):
        status, body, _ = self.api.request("GET", "/admin/queues", port=self.api.dashboard_port)
        self.assertEqual(status, 200)
        self.assertIn(b"taskq", body)


class QueueRatesTest(unittest.TestCase):
    """per_minute and mean_wait_ms of /api/queues, from samples this API process takes."""

    def test_rates_and_the_mean_wait_of_jobs_that_started(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "sleep")
        worker = None
        try:
            for _ in range(5):
                job = {"type": "sleep", "queue": "rq", "data": {"ms": 0}}
                self.assertEqual(api.request("POST", "/api/jobs", job)[0], 201)
            first = api.request("GET", "/api/queues/rq")[1]  # the first sample
            self.assertIsNone(first["per_minute"])
            self.assertIsNone(first["mean_wait_ms"])
            time.sleep(1.2)  # every job waits at least this long
            worker = Worker(redis.url, "rq=2")

            def rated():
                queue = api.request("GET", "/api/queues/rq")[1]
                done = queue["counts"]["completed"] == 5 and queue["mean_wait_ms"] is not None
                return queue if done else None
            queue = wait_until(rated, timeout=30, interval=0.5)
            self.assertIsNotNone(queue, "no rate after 30 s")
            self.assertGreater(queue["per_minute"]["processed"], 0)
            self.assertEqual(queue["per_minute"]["failed"], 0)
            self.assertGreaterEqual(queue["mean_wait_ms"], 1000)
        finally:
            if worker:
                worker.stop()
            api.stop()
            redis.stop()


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


class RedisDownTest(unittest.TestCase):
    def test_redis_down_gives_503_with_retry_after_and_recovers(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "t")
        try:
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
            redis.proc.kill()
            redis.proc.wait()
            status, error, headers = api.request("POST", "/api/jobs", {"type": "t", "data": {}})
            self.assertEqual((status, error["error"]["code"]), (503, "unavailable"))
            self.assertIn("Retry-After", headers)
            self.assertEqual(api.request("GET", "/readyz")[0], 503)
            self.assertEqual(api.request("GET", "/healthz")[0], 200)
        finally:
            api.stop()
            redis.stop()


    def test_redis_closing_during_a_large_write_leaves_the_api_up(self):
        # Redis' end closes while the API writes a large command: a FIN, then a reset under the
        # API's next write() (EPIPE). Unless the process ignores SIGPIPE, that signal kills it.
        redis = Redis()
        proxy = CuttingProxy(redis.port)
        api = Api(f"redis://127.0.0.1:{proxy.port}", "--job-types", "t",
                  "--max-bulk-body-bytes", str(32 << 20), "--max-bulk", "1000")
        try:
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
            proxy.cut_after_bytes = 1 << 20
            jobs = [{"type": "t", "data": {"pad": "x" * 16000}} for _ in range(1000)]
            status = api.request("POST", "/api/jobs/bulk", {"jobs": jobs})[0]
            self.assertTrue(proxy.cuts > 0, "the proxy never cut a connection")
            self.assertIsNone(api.proc.poll(), f"taskq api exited with {api.proc.returncode}")
            self.assertEqual(status, 503)
            proxy.cut_after_bytes = None
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
        finally:
            api.stop()
            proxy.stop()
            redis.stop()

    def test_redis_out_of_memory_gives_503_with_retry_after_and_recovers(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "t")
        try:
            redis.cli("CONFIG", "SET", "maxmemory", "1")
            status, error, headers = api.request("POST", "/api/jobs", {"type": "t", "data": {}})
            self.assertEqual((status, error["error"]["code"]), (503, "unavailable"), error)
            self.assertIn("out of memory", error["error"]["message"])
            self.assertEqual(headers.get("Retry-After"), "1")
            status, error, _ = api.request(
                "POST", "/api/jobs/bulk", {"jobs": [{"type": "t", "data": {}}] * 3})
            self.assertEqual((status, error["error"]["code"]), (503, "unavailable"), error)
            redis.cli("CONFIG", "SET", "maxmemory", "0")
            self.assertEqual(redis.cli("KEYS", "taskq:*:jobs"), "")  # nothing half-written
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
        finally:
            api.stop()
            redis.stop()


class AuthTest(unittest.TestCase):
    READ = "read-token-0123456789"
    ENQUEUE = "enqueue-token-0123456789"
    ADMIN = "admin-token-0123456789"
    LIMITED = "limited-token-0123456789"  # enqueue, types t and u only
    LIMITED_ADMIN = "limited-admin-token-0123456789"  # admin, type t only

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        import hashlib
        digest = hashlib.sha256(cls.ADMIN.encode()).hexdigest()
        cls.api = Api(cls.redis.url, "--job-types", "*",
                      "--api-key", f"read:{cls.READ},enqueue:{cls.ENQUEUE}",
                      "--api-key", f"admin:sha256:{digest}",
                      "--api-key", f"enqueue/t+u:{cls.LIMITED}",
                      "--api-key", f"admin/t:{cls.LIMITED_ADMIN}")

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.redis.stop()

    def call(self, method, path, token=None, body=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.api.request(method, path, body, headers)[0]

    def test_scopes(self):
        job = {"type": "t", "data": {}}
        self.assertEqual(self.call("POST", "/api/jobs", None, job), 401)
        self.assertEqual(self.call("POST", "/api/jobs", "wrong-token-0123456789", job), 401)
        self.assertEqual(self.call("POST", "/api/jobs", self.READ, job), 403)
        self.assertEqual(self.call("POST", "/api/jobs", self.ENQUEUE, job), 201)
        self.assertEqual(self.call("POST", "/api/jobs", self.ADMIN, job), 201)
        lower = {"Authorization": f"bearer {self.ENQUEUE}"}  # the scheme is case-insensitive
        self.assertEqual(self.api.request("POST", "/api/jobs", job, lower)[0], 201)
        self.assertEqual(self.call("GET", "/api/queues", None), 401)
        self.assertEqual(self.call("GET", "/api/queues", self.READ), 200)
        self.assertEqual(self.call("POST", "/api/queues/t/pause", self.ENQUEUE), 403)
        self.assertEqual(self.call("POST", "/api/queues/t/pause", self.ADMIN), 200)
        self.assertEqual(self.call("GET", "/metrics", None), 401)
        self.assertEqual(self.call("GET", "/healthz", None), 200)
        self.assertEqual(self.call("GET", "/readyz", None), 200)

    def test_cleanup_jobs_need_the_admin_scope(self):
        # A cleanup job deletes jobs and files: an enqueue key must not reach that through it
        # (the route that cleans queues directly needs admin too).
        cleanup = {"type": "cleanup", "data": {"target": "jobs", "queue": "q", "state": "dead",
                                                "older_than_ms": 0}}
        status, error, _ = self.api.request("POST", "/api/jobs", cleanup,
                                            {"Authorization": f"Bearer {self.ENQUEUE}"})
        self.assertEqual((status, error["error"]["code"]), (403, "forbidden"))
        self.assertIn("admin", error["error"]["message"])
        bulk = {"jobs": [{"type": "t", "data": {}}, cleanup]}
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", bulk,
                                            {"Authorization": f"Bearer {self.ENQUEUE}"})
        self.assertEqual(status, 403)
        self.assertIn("jobs[1].type", error["error"]["message"])
        self.assertEqual(self.call("POST", "/api/jobs", self.ADMIN, cleanup), 201)
        self.assertEqual(self.call("POST", "/api/jobs", self.ENQUEUE, {"type": "t", "data": {}}),
                         201)

    def test_a_key_limited_to_job_types_creates_and_cancels_only_those(self):
        auth = {"Authorization": f"Bearer {self.LIMITED}"}
        status, created, _ = self.api.request("POST", "/api/jobs", {"type": "t", "data": {}}, auth)
        self.assertEqual(status, 201, created)
        status, error, _ = self.api.request("POST", "/api/jobs", {"type": "v", "data": {}}, auth)
        self.assertEqual((status, error["error"]["code"]), (403, "forbidden"))
        self.assertIn("limited to jobs of type t, u; 'v' is not one (type)",
                      error["error"]["message"])
        bulk = {"jobs": [{"type": "u", "data": {}}, {"type": "v", "data": {}}]}
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", bulk, auth)
        self.assertEqual(status, 403)
        self.assertIn("(jobs[1].type)", error["error"]["message"])
        # Another key's job of another type: not this key's to cancel; its own job is.
        status, other, _ = self.api.request("POST", "/api/jobs", {"type": "v", "data": {}},
                                            {"Authorization": f"Bearer {self.ENQUEUE}"})
        self.assertEqual(status, 201)
        status, error, _ = self.api.request("DELETE", f"/api/jobs/{other['id']}", None, auth)
        self.assertEqual(status, 403, error)
        self.assertEqual(self.api.request("GET", f"/api/jobs/{other['id']}", None, auth)[1]
                         ["state"], "waiting")
        status, cancelled, _ = self.api.request("DELETE", f"/api/jobs/{created['id']}", None,
                                                auth)
        self.assertEqual((status, cancelled["outcome"]), (200, "removed"))

    def test_an_admin_key_limited_to_job_types_acts_on_those_only(self):
        limited = {"Authorization": f"Bearer {self.LIMITED_ADMIN}"}
        admin = {"Authorization": f"Bearer {self.ADMIN}"}
        status, other, _ = self.api.request("POST", "/api/jobs",
                                            {"type": "v", "queue": "shared", "data": {}}, admin)
        self.assertEqual(status, 201)
        status, mine, _ = self.api.request("POST", "/api/jobs",
                                           {"type": "t", "queue": "shared", "data": {}}, limited)
        self.assertEqual(status, 201)
        # One job at a time: its own type only.
        self.assertEqual(self.api.request("POST", f"/api/jobs/{other['id']}/remove", None,
                                          limited)[0], 403)
        self.assertEqual(self.api.request("POST", f"/api/jobs/{mine['id']}/remove", None,
                                          limited)[0], 200)
        # Whole queues hold every type: refused, whatever the queue holds.
        for method, path, body in (
                ("POST", "/api/queues/shared/pause", None),
                ("POST", "/api/queues/shared/dead/retry", None),
                ("DELETE", "/api/queues/shared/jobs?state=completed&grace_ms=0", None),
                ("POST", "/api/queues/shared/jobs/actions",
                 {"action": "remove", "ids": [other["id"]]}),
                ("PUT", "/api/queues/shared/limits", {})):
            status, error, _ = self.api.request(method, path, body, limited)
            self.assertEqual(status, 403, (path, error))
            self.assertIn("whole queues", error["error"]["message"])
        self.assertEqual(self.api.request("GET", f"/api/jobs/{other['id']}", None, admin)[1]
                         ["state"], "waiting")
        # Schedules of another type: not to run, pause, replace or delete.
        status, _, _ = self.api.request("POST", "/api/schedules", {
            "id": "others", "cron": "@hourly", "type": "v", "data": {}}, admin)
        self.assertEqual(status, 201)
        for method, path, body in (("POST", "/api/schedules/others/run", None),
                                   ("POST", "/api/schedules/others/pause", None),
                                   ("PUT", "/api/schedules/others",
                                    {"cron": "@daily", "type": "t", "data": {}}),
                                   ("DELETE", "/api/schedules/others", None)):
            self.assertEqual(self.api.request(method, path, body, limited)[0], 403, path)
        status, schedule, _ = self.api.request("GET", "/api/schedules/others", None, admin)
        self.assertEqual((schedule["type"], schedule["cron"], schedule["runs"]), ("v", "@hourly", 0))
        self.assertEqual(self.api.request("POST", "/api/schedules", {
            "id": "mine", "cron": "@hourly", "type": "t", "data": {}}, limited)[0], 201)
        self.assertEqual(self.api.request("POST", "/api/schedules/mine/pause", None,
                                          limited)[0], 200)
        for sid in ("others", "mine"):
            self.api.request("DELETE", f"/api/schedules/{sid}", None, admin)

    def test_admin_only_types_and_type_queues_are_configurable(self):
        api = Api(self.redis.url, "--job-types", "report", "--admin-only-types", "report",
                  "--type-queues", "cleanup=maintenance,report=reports+reports-low",
                  "--api-key", f"enqueue:{self.ENQUEUE},admin:{self.ADMIN}")
        try:
            enqueue = {"Authorization": f"Bearer {self.ENQUEUE}"}
            admin = {"Authorization": f"Bearer {self.ADMIN}"}
            report = {"type": "report", "queue": "reports", "data": {}}
            self.assertEqual(api.request("POST", "/api/jobs", report, enqueue)[0], 403)
            self.assertEqual(api.request("POST", "/api/jobs", report, admin)[0], 201)
            # cleanup is no longer admin-only here, and goes to its configured queue only.
            cleanup = {"type": "cleanup", "data": {"target": "jobs", "queue": "q",
                                                   "state": "dead", "older_than_ms": 0}}
            status, error, _ = api.request("POST", "/api/jobs", cleanup, enqueue)
            self.assertEqual((status, error["error"]["field"]), (422, "queue"), error)
            self.assertIn("jobs of type 'cleanup' go only to queue maintenance",
                          error["error"]["message"])
            status, created, _ = api.request("POST", "/api/jobs",
                                             dict(cleanup, queue="maintenance"), enqueue)
            self.assertEqual((status, created.get("queue")), (201, "maintenance"), created)
            status, error, _ = api.request("POST", "/api/jobs",
                                           dict(report, queue="email"), admin)
            self.assertEqual((status, error["error"]["field"]), (422, "queue"))
            self.assertIn("reports, reports-low", error["error"]["message"])
        finally:
            api.stop()
        # The defaults: a built-in type only to its own queue, a custom one anywhere.
        cleanup = {"type": "cleanup", "queue": "q", "data": {"target": "jobs", "queue": "q",
                                                             "state": "dead", "older_than_ms": 0}}
        status, error, _ = self.api.request("POST", "/api/jobs", cleanup,
                                            {"Authorization": f"Bearer {self.ADMIN}"})
        self.assertEqual((status, error["error"]["field"]), (422, "queue"), error)
        self.assertEqual(self.call("POST", "/api/jobs", self.ENQUEUE,
                                   {"type": "t", "queue": "anywhere", "data": {}}), 201)
        bad = subprocess.run([TASKQ, "--redis-url", self.redis.url, "api", "--type-queues",
                              "cleanup", "--listen", "127.0.0.1:0", "--dashboard-listen", ""],
                             capture_output=True, text=True, timeout=20)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--type-queues", bad.stdout + bad.stderr)

    def test_secret_fields_are_redacted_for_all_but_the_admin_scope(self):
        admin = {"Authorization": f"Bearer {self.ADMIN}"}
        hook = {"url": "https://receiver.example/hook", "headers": {"X-Api-Key": "k3y-s3cret"}}
        status, created, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "queue": "webhook", "data": hook, "run_at": "2099-01-01T00:00:00Z"},
                                              admin)
        self.assertEqual(status, 201, created)
        path = f"/api/jobs/{created['id']}"
        for token in (self.READ, self.ENQUEUE):
            status, job, _ = self.api.request("GET", path, None,
                                              {"Authorization": f"Bearer {token}"})
            self.assertEqual(status, 200)
            self.assertEqual(job["data"], {"url": hook["url"],
                                           "headers": {"X-Api-Key": "[redacted]"}})
            self.assertEqual(job["secret_fields"], ["headers"])
            status, page, _ = self.api.request("GET", "/api/queues/webhook/jobs?state=delayed",
                                               None, {"Authorization": f"Bearer {token}"})
            self.assertNotIn("k3y-s3cret", json.dumps(page))
            self.assertEqual(len(page["jobs"]), 1)
        status, job, _ = self.api.request("GET", path, None, admin)
        self.assertEqual(job["data"], hook)
        reader = {"Authorization": f"Bearer {self.READ}"}
        status, job, _ = self.api.request("GET", f"/api/jobs/{created['id']}/wait?timeout_ms=0",
                                          None, reader)
        self.assertEqual((status, job["data"]["headers"]), (408, {"X-Api-Key": "[redacted]"}))
        # The existing job an idempotent enqueue answers with, and a derived unique key.
        status, existing, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "job_id": created["id"], "data": hook},
                                               {"Authorization": f"Bearer {self.ENQUEUE}"})
        self.assertEqual((status, existing["created"]), (200, False))
        self.assertNotIn("k3y-s3cret", json.dumps(existing))
        status, unique, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "data": hook, "unique": True,
            "run_at": "2099-01-01T00:00:00Z"}, admin)
        self.assertEqual(status, 201, unique)
        status, job, _ = self.api.request("GET", f"/api/jobs/{unique['id']}", None, reader)
        self.assertEqual(job["options"]["unique"]["key"], "[redacted]")
        status, job, _ = self.api.request("GET", f"/api/jobs/{unique['id']}", None, admin)
        self.assertEqual(len(job["options"]["unique"]["key"]), 64)
        # A filter matching on the secret would reveal it one guess at a time.
        query = ("/api/queues/webhook/jobs?state=delayed&field=data.headers.X-Api-Key"
                 "&value=k3y-s3cret")
        status, error, _ = self.api.request("GET", query, None,
                                            {"Authorization": f"Bearer {self.READ}"})
        self.assertEqual((status, error["error"]["code"]), (403, "forbidden"))
        self.assertIn("data.headers", error["error"]["message"])
        status, page, _ = self.api.request("GET", query, None, admin)
        self.assertEqual((status, len(page["jobs"])), (200, 2))  # the job and its unique twin
        # A schedule's job template too.
        status, _, _ = self.api.request("POST", "/api/schedules", {
            "id": "hourly-hook", "cron": "@hourly", "type": "webhook", "data": hook}, admin)
        self.assertEqual(status, 201)
        for path in ("/api/schedules/hourly-hook", "/api/schedules"):
            status, body, _ = self.api.request("GET", path, None,
                                               {"Authorization": f"Bearer {self.READ}"})
            self.assertEqual(status, 200)
            self.assertNotIn("k3y-s3cret", json.dumps(body))
            self.assertIn("[redacted]", json.dumps(body))
        self.assertIn("k3y-s3cret", json.dumps(
            self.api.request("GET", "/api/schedules/hourly-hook", None, admin)[1]))
        self.api.request("DELETE", "/api/schedules/hourly-hook", None, admin)

    def test_custom_types_name_their_secret_fields(self):
        api = Api(self.redis.url, "--job-types", "login", "--secret-fields", "login=password",
                  "--api-key", f"read:{self.READ},admin:{self.ADMIN}")
        try:
            status, created, _ = api.request(
                "POST", "/api/jobs", {"type": "login", "data": {"user": "u", "password": "pw1"}},
                {"Authorization": f"Bearer {self.ADMIN}"})
            self.assertEqual(status, 201)
            status, job, _ = api.request("GET", f"/api/jobs/{created['id']}", None,
                                         {"Authorization": f"Bearer {self.READ}"})
            self.assertEqual(job["data"], {"user": "u", "password": "[redacted]"})
        finally:
            api.stop()
        for spec in ("unknown=x", "login=creds.password"):
            bad = subprocess.run([TASKQ, "--redis-url", self.redis.url, "api", "--job-types",
                                  "login", "--secret-fields", spec, "--listen", "127.0.0.1:0",
                                  "--dashboard-listen", ""],
                                 capture_output=True, text=True, timeout=20)
            self.assertNotEqual(bad.returncode, 0, spec)
            self.assertIn("--secret-fields", bad.stdout + bad.stderr)

    def test_any_type_still_keeps_the_queues_configured_for_a_type(self):
        api = Api(self.redis.url, "--job-types", "*", "--type-queues", "report=reports")
        try:
            def post(job):
                return api.request("POST", "/api/jobs", job)
            status, error, _ = post({"type": "report", "queue": "elsewhere", "data": {}})
            self.assertEqual((status, error["error"]["field"]), (422, "queue"))
            self.assertEqual(post({"type": "report", "queue": "reports", "data": {}})[0], 201)
            self.assertEqual(post({"type": "other", "queue": "elsewhere", "data": {}})[0], 201)
            # The built-in types keep their validators and queues under "*" too.
            status, error, _ = post({"type": "email", "data": {"to": "not an address"}})
            self.assertEqual((status, error["error"]["field"]), (422, "data.to"))
        finally:
            api.stop()

    def head_only(self, path, headers, length):
        """Sends a POST's headers announcing `length` body bytes, none of them; the answer."""
        with socket.create_connection(("127.0.0.1", self.api.port), timeout=5) as s:
            s.sendall((f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{headers}"
                       f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n")
                      .encode())
            started = time.monotonic()
            answer = s.recv(4096).decode(errors="replace")
            return answer, time.monotonic() - started

    def test_credentials_are_checked_before_any_body_is_read(self):
        # A stranger announcing 15 MiB gets 401 at once: the server does not wait for the body.
        answer, seconds = self.head_only("/api/jobs/bulk", "", 15 << 20)
        self.assertTrue(answer.startswith("HTTP/1.1 401"), answer)
        self.assertLess(seconds, 2)
        answer, _ = self.head_only("/api/jobs", f"Authorization: Bearer {self.READ}\r\n", 1000)
        self.assertTrue(answer.startswith("HTTP/1.1 403"), answer)
        # With a key: 1 MiB for a job, the bulk limit (16 MiB) for a bulk enqueue.
        answer, _ = self.head_only("/api/jobs", f"Authorization: Bearer {self.ENQUEUE}\r\n",
                                   (1 << 20) + 1)
        self.assertTrue(answer.startswith("HTTP/1.1 413"), answer)
        jobs = {"jobs": [{"type": "t", "data": {"pad": "x" * 4000}} for _ in range(500)]}
        headers = {"Authorization": f"Bearer {self.ENQUEUE}"}
        status, body, _ = self.api.request("POST", "/api/jobs/bulk", jobs, headers)
        self.assertEqual(status, 201, body)  # 2 MB: over the single limit, under the bulk one


class ConnectionFloodTest(unittest.TestCase):
    def test_idle_connections_from_other_clients_do_not_starve_a_new_one(self):
        # 1,000 idle connections from 127.0.0.2-127.0.0.20, against an API started with the soft
        # open-file limit of 1024 that systemd and Docker often give: it used to run out of
        # descriptors, and a new client hung. A client on 127.0.0.1 must be served within 1 s;
        # one address gets no more than --max-connections-per-client.
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2400:
            self.skipTest(f"the hard open-file limit {hard} is too low for this test")
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2400), hard))
        redis = Redis()
        api = None
        held = []
        try:
            def low_limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
            api = Api.run(
                [TASKQ, "--redis-url", redis.url, "api", "--listen", "127.0.0.1:0",
                 "--dashboard-listen", "", "--max-connections-per-client", "100",
                 "--header-timeout-ms", "60000"], preexec_fn=low_limit)
            port = api.port
            for i in range(1000):
                s = socket.socket()
                s.bind((f"127.0.0.{2 + i % 19}", 0))
                s.connect(("127.0.0.1", port))
                held.append(s)
            time.sleep(0.5)  # the server has accepted them all
            started = time.monotonic()
            status, body, _ = api.request("GET", "/healthz", timeout=5)
            self.assertEqual((status, body), (200, {"status": "ok"}))
            self.assertLess(time.monotonic() - started, 1)
            # One address: 100 connections, then 503 and closed.
            mine = []
            for _ in range(100):
                s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.21", 0))
                mine.append(s)
            held.extend(mine)
            extra = socket.create_connection(("127.0.0.1", port), timeout=5,
                                             source_address=("127.0.0.21", 0))
            held.append(extra)
            self.assertTrue(extra.recv(100).startswith(b"HTTP/1.1 503"))
        finally:
            for s in held:
                s.close()
            if api is not None:
                api.stop()
            redis.stop()


class QuickStartTest(unittest.TestCase):
    """The README's quick start: `taskq up` (managed redis-server, API, workers) and the curl."""

    def test_quick_start_email_completes_into_the_outbox(self):
        data_dir = tempfile.mkdtemp(prefix="taskq-up-")
        redis_port = free_port()
        log = open(os.path.join(data_dir, "up.log"), "w")
        up = subprocess.Popen(
            [TASKQ, "up", "--data-dir", data_dir, "--redis-port", str(redis_port),
             "--listen", "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            def ready():
                port = listening_ports(log.name)[0]
                if port is None:
                    return False
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    conn.request("GET", "/readyz")
                    return conn.getresponse().status == 200
                except OSError:
                    return False
            self.assertTrue(wait_until(ready, timeout=20), "taskq up did not become ready")
            port = listening_ports(log.name)[0]
            result = subprocess.run(
                ["curl", "-s", "-X", "POST", f"http://localhost:{port}/api/jobs", "-H",
                 "Content-Type: application/json", "-d",
                 '{"type": "email", "data": {"to": "user@example.com", "subject": "Hello"}}'],
                capture_output=True, text=True, check=True)
            created = json.loads(result.stdout)
            self.assertEqual(created["state"], "waiting")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", created["links"]["wait"] + "&timeout_ms=10000")
            job = json.loads(conn.getresponse().read())
            self.assertEqual(job["state"], "completed", job)
            self.assertEqual(job["result"]["delivery"], "outbox")
            path = job["result"]["path"]
            self.assertTrue(path.startswith(os.path.join(data_dir, "outbox")), path)
            message = open(path, encoding="utf-8").read()
            self.assertIn("To: user@example.com", message)
            self.assertIn("Subject: Hello", message)
            with open(log.name) as f:
                self.assertIn("outbox", f.read())  # `taskq up` says where mail goes
            # The managed Redis is the owner's alone: a password (0600, in a 0700 directory),
            # on no command line; without it other local users get nothing.
            redis_dir = os.path.join(data_dir, "redis")
            self.assertEqual(os.stat(redis_dir).st_mode & 0o777, 0o700)
            password_file = os.path.join(redis_dir, "password")
            self.assertEqual(os.stat(password_file).st_mode & 0o777, 0o600)
            password = open(password_file).read().strip()
            self.assertGreaterEqual(len(password), 32)
            noauth = subprocess.run(["redis-cli", "-p", str(redis_port), "DBSIZE"],
                                    capture_output=True, text=True)
            self.assertIn("NOAUTH", noauth.stdout + noauth.stderr)
            for pid in os.listdir("/proc"):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        self.assertNotIn(password.encode(), f.read(), pid)
                except OSError:
                    pass
            # The other commands find the password in the data directory.
            stats = subprocess.run([TASKQ, "stats"], capture_output=True, text=True, timeout=20,
                                   env=dict(os.environ, TASKQ_DATA_DIR=data_dir,
                                            TASKQ_REDIS_URL=""))
            # (stats looks on 6379, not this test's port: it must not fail on the password file)
            self.assertNotIn(password, stats.stdout + stats.stderr)
            with open(log.name) as f:
                self.assertNotIn(password, f.read())
        finally:
            up.terminate()
            self.assertEqual(up.wait(30), 0)
            log.close()
        # The managed redis-server was stopped with taskq.
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
        shutil.rmtree(data_dir, ignore_errors=True)


class RedisAclTest(unittest.TestCase):
    def test_acl_user_password_and_database_from_the_url(self):
        redis = Redis("--user", "default", "off", "--user", "app", "on", ">s3cret-pass", "~*",
                      "&*", "+@all")
        try:
            url = f"redis://app:s3cret-pass@127.0.0.1:{redis.port}/3"
            api = Api(url, "--job-types", "sleep")
            worker = Worker(url, "sleep=1")
            try:
                status, body, _ = api.request("POST", "/api/jobs", {"type": "sleep", "data": {}})
                self.assertEqual(status, 201, body)
                status, job, _ = api.request("GET", body["links"]["wait"] + "&timeout_ms=5000")
                self.assertEqual(job["state"], "completed")
                keys = subprocess.run(
                    ["redis-cli", "-p", str(redis.port), "--user", "app", "--pass", "s3cret-pass",
                     "--no-auth-warning", "-n", "3", "HEXISTS", "taskq:{sleep}:jobs", body["id"]],
                    capture_output=True, text=True).stdout.strip()
                self.assertEqual(keys, "1")  # in database 3, as the URL says
            finally:
                worker.stop()
                api.stop()
            wrong = Api(f"redis://app:wrong@127.0.0.1:{redis.port}/3", "--job-types", "sleep")
            try:
                status, error, _ = wrong.request("GET", "/readyz")
                self.assertEqual(status, 503)
                self.assertNotIn("wrong", json.dumps(error))  # the password is not echoed
                # Nor where Redis is, nor what it said: anyone may ask /readyz. The log says it.
                self.assertNotIn(str(redis.port), json.dumps(error))
                self.assertNotIn("127.0.0.1", json.dumps(error))
                with open(wrong.log.name) as f:
                    self.assertIn(f"127.0.0.1:{redis.port}", f.read())
            finally:
                wrong.stop()
        finally:
            redis.stop()


class CliTest(unittest.TestCase):
    """The commands for people: enqueue, jobs, retry, stats, config."""

    def taskq(self, *args, env=None, check=True):
        result = subprocess.run([TASKQ, *args], capture_output=True, text=True, timeout=30,
                                env={**os.environ, **(env or {})})
        if check:
            self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_jobs_and_retry_of_a_dead_job(self):
        redis = Redis()
        worker = Worker(redis.url, "fail=1")
        try:
            out = self.taskq("--redis-url", redis.url, "enqueue", "--type", "fail",
                             "--max-attempts", "1").stdout
            job_id = json.loads(out)["id"]
            def listed():
                return job_id in self.taskq("--redis-url", redis.url, "jobs", "fail", "--state",
                                            "dead").stdout
            self.assertTrue(wait_until(listed))
            lines = self.taskq("--redis-url", redis.url, "jobs", "fail", "--state",
                               "dead").stdout.splitlines()
            row = [line for line in lines if line.startswith(job_id)][0]
            self.assertIn("boom", row)
            out = self.taskq("--redis-url", redis.url, "retry", job_id).stdout
            self.assertEqual(json.loads(out), {"id": job_id, "queue": "fail", "state": "waiting"})
            missing = self.taskq("--redis-url", redis.url, "retry", "no-such-job", check=False)
            self.assertEqual(missing.returncode, 1)
            self.assertIn("no job with id", missing.stderr)
            bad = self.taskq("--redis-url", redis.url, "jobs", "fail", "--state", "lost",
                             check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("--state", bad.stderr)
            self.assertIn("fail", self.taskq("--redis-url", redis.url, "stats").stdout)
        finally:
            worker.stop()
            redis.stop()

    def test_worker_waits_for_a_redis_that_is_not_up_yet(self):
        port = free_port()
        data = tempfile.mkdtemp(prefix="taskq-wait-")
        worker = subprocess.Popen([TASKQ, "--redis-url", f"redis://127.0.0.1:{port}", "worker",
                                   "--queues", "email=1", "--data-dir", data],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        redis = None
        waiting = None
        try:
            # Redis starts once the worker says it waits (a slow start-up, under ASan on a busy
            # machine, must not find Redis already there).
            first_said = threading.Event()
            lines = []
            def read_first():
                for line in worker.stdout:
                    lines.append(line)
                    if "waiting for Redis" in line:
                        first_said.set()
            first_reader = threading.Thread(target=read_first)
            first_reader.start()
            self.assertTrue(first_said.wait(15), "".join(lines))
            self.assertIsNone(worker.poll(), "the worker gave up instead of waiting")
            redis = Redis(port=port)
            self.assertTrue(wait_until(lambda: redis.cli("HLEN", "taskq:{:workers}") == "1"))
            worker.terminate()
            self.assertEqual(worker.wait(15), 0)
            first_reader.join()
            # A stop signal while it waits ends it at once, cleanly.
            # The signal goes once it says it waits: a signal before main() has blocked it (the
            # loader can be slow on a busy machine) would kill it by default, which is not this.
            waiting = subprocess.Popen([TASKQ, "--redis-url", f"redis://127.0.0.1:{free_port()}",
                                        "worker", "--queues", "email=1", "--data-dir", data],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            said = threading.Event()
            def read_until_it_waits():
                for line in waiting.stdout:
                    if "waiting for Redis" in line:
                        said.set()
                        return
            reader = threading.Thread(target=read_until_it_waits)
            reader.start()
            self.assertTrue(said.wait(10), "the worker never said it waits for Redis")
            waiting.terminate()
            self.assertEqual(waiting.wait(5), 0)
            reader.join()
            waiting.stdout.close()
        finally:
            for process in (worker, waiting):
                if process and process.poll() is None:
                    process.kill()
            if redis:
                redis.stop()
            shutil.rmtree(data, ignore_errors=True)

    def test_passwords_in_urls_never_reach_the_log(self):
        redis = Redis("--requirepass", "redis-pw-1234")
        data = tempfile.mkdtemp(prefix="taskq-mask-")
        down = f"redis://:redis-pw-1234@127.0.0.1:{free_port()}"
        worker = None
        try:
            for url, line in ((down, "waiting for Redis"),
                              (f"redis://:redis-pw-1234@127.0.0.1:{redis.port}", "worker running")):
                worker = subprocess.Popen(
                    [TASKQ, "--redis-url", url, "worker", "--queues", "email=1", "--data-dir", data,
                     "--smtp-url", "smtp://mailer:smtp-pw-5678@127.0.0.1:1"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                seen = []
                said = threading.Event()
                def read(process=worker, seen=seen, said=said, line=line):
                    for text in process.stdout:
                        seen.append(text)
                        if line in text:
                            said.set()
                reader = threading.Thread(target=read)
                reader.start()
                self.assertTrue(said.wait(15), "".join(seen))
                worker.terminate()
                self.assertEqual(worker.wait(15), 0)
                reader.join()
                worker.stdout.close()
                log = "".join(seen)
                self.assertNotIn("redis-pw-1234", log)
                self.assertNotIn("smtp-pw-5678", log)
                self.assertIn(":***@127.0.0.1", log)
        finally:
            if worker and worker.poll() is None:
                worker.kill()
            redis.stop()
            shutil.rmtree(data, ignore_errors=True)

    def test_secrets_come_from_files_and_stay_off_the_command_line(self):
        # Docker secrets: TASKQ_..._FILE (or --NAME-file) names a file whose content is the secret,
        # so that it shows in no /proc/PID/cmdline and no environment.
        redis = Redis("--requirepass", "file-pw-2468")
        files = tempfile.mkdtemp(prefix="taskq-secrets-")
        try:
            url_file = os.path.join(files, "redis_url")
            with open(url_file, "w") as f:
                f.write(f"redis://:file-pw-2468@127.0.0.1:{redis.port}\n")
            keys_file = os.path.join(files, "api_keys")
            with open(keys_file, "w") as f:
                f.write("read:read-token-from-a-file\nadmin:admin-token-from-a-file\n")
            api = Api.run(
                [TASKQ, "api", "--listen", "127.0.0.1:0", "--dashboard-listen", ""],
                env=dict(os.environ, TASKQ_REDIS_URL_FILE=url_file, TASKQ_API_KEYS_FILE=keys_file))
            proc = api.proc
            try:
                self.assertTrue(wait_until(lambda: api.request("GET", "/readyz")[0] == 200))
                auth = {"Authorization": "Bearer admin-token-from-a-file"}
                self.assertEqual(api.request("GET", "/api/queues", None, auth)[0], 200)
                self.assertEqual(api.request("GET", "/api/queues")[0], 401)
                with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                    self.assertNotIn(b"file-pw-2468", f.read())
            finally:
                api.stop()
            # Both ways at once is an error naming the flag; so is a missing file.
            both = self.taskq("--redis-url", redis.url, "--redis-url-file", url_file, "stats",
                              check=False)
            self.assertNotEqual(both.returncode, 0)
            self.assertIn("--redis-url-file", both.stdout + both.stderr)
            missing = self.taskq("--redis-url-file", os.path.join(files, "nope"), "stats",
                                 check=False)
            self.assertNotEqual(missing.returncode, 0)
            self.assertIn("--redis-url-file", missing.stdout + missing.stderr)
        finally:
            redis.stop()
            shutil.rmtree(files, ignore_errors=True)

    def test_limits_are_shown_changed_and_checked(self):
        redis = Redis()
        try:
            url = ("--redis-url", redis.url)
            out = self.taskq(*url, "limits", "email").stdout
            no_group = {"rate": None, "concurrency": None, "field": None}
            self.assertEqual(json.loads(out), {"queue": "email", "rate": None,
                                               "concurrency": None, "group": no_group,
                                               "priority_aging_ms": None})
            out = self.taskq(*url, "limits", "email", "--rate", "100/1s").stdout
            self.assertEqual(json.loads(out)["rate"], "100/1s")
            out = self.taskq(*url, "limits", "email", "--concurrency", "3").stdout
            self.assertEqual(json.loads(out), {"queue": "email", "rate": "100/1s",
                                               "concurrency": 3, "group": no_group,
                                               "priority_aging_ms": None})  # rate kept
            out = self.taskq(*url, "limits", "email", "--priority-aging-ms", "250").stdout
            self.assertEqual(json.loads(out)["priority_aging_ms"], 250)
            out = self.taskq(*url, "limits", "email", "--group-rate", "5/1m",
                             "--group-concurrency", "2", "--group-field", "tenant").stdout
            self.assertEqual(json.loads(out)["group"], {"rate": "5/1m", "concurrency": 2,
                                                        "field": "tenant"})
            self.assertEqual(redis.cli("HGET", "taskq:{email}:meta", "gf"), "tenant")
            self.assertEqual(redis.cli("HGET", "taskq:{email}:meta", "rl"), "100:1000")
            out = self.taskq(*url, "limits", "email", "--rate", "none").stdout
            self.assertEqual(json.loads(out)["rate"], None)
            bad = self.taskq(*url, "limits", "email", "--rate", "100/1d", check=False)
            self.assertEqual(bad.returncode, 1)
            self.assertIn("--rate", bad.stderr)
            self.assertEqual(json.loads(self.taskq(*url, "limits", "email").stdout)["concurrency"],
                             3)
        finally:
            redis.stop()

    def test_config_prints_effective_values_with_secrets_masked_and_reads_back(self):
        out = self.taskq("--redis-url", "redis://app:s3cret@db:6379/2", "config",
                         "--smtp-url", "smtp://mailer:m4il-pw@mail:587",
                         "--api-key", "admin:0123456789abcdefghij", "--listen", "0.0.0.0:9000",
                         env={"TASKQ_SMTP_PASSWORD": "hunter2", "TASKQ_QUEUES": "email=9",
                              "TASKQ_WEBHOOK_SECRET": "whsec_c2VjcmV0LWtleS0xMjM0"}).stdout
        self.assertIn('redis-url = "redis://app:***@db:6379/2"', out)
        self.assertIn('smtp-url = "smtp://mailer:***@mail:587"', out)
        self.assertIn('listen = "0.0.0.0:9000"', out)
        self.assertIn('queues = "email=9"', out)
        self.assertIn('max-connections = 1024', out)  # defaults are shown too
        self.assertIn("# webhook-secret", out)
        for secret in ("s3cret", "hunter2", "0123456789abcdefghij", "c2VjcmV0", "m4il-pw"):
            self.assertNotIn(secret, out)
        sentinel = self.taskq("--redis-url", "redis+sentinel://:p4@ssw0rd@s1,s2:26380/mymaster",
                              "config").stdout  # a raw '@' in the password: masked whole
        self.assertIn('redis-url = "redis+sentinel://:***@s1,s2:26380/mymaster"', sentinel)
        self.assertNotIn("ssw0rd", sentinel)
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(out)
        try:
            again = self.taskq("--config", f.name, "config").stdout
            self.assertIn('listen = "0.0.0.0:9000"', again)
            self.assertIn('queues = "email=9"', again)
        finally:
            os.unlink(f.name)

    def test_config_lists_every_flag_up_takes(self):
        help_text = self.taskq("up", "--help").stdout
        flags = set(re.findall(r"^\s+(?:-\w,)?--([a-z][a-z-]*)", help_text, re.M))
        # The secret files' flags (--NAME-file) are printed as the secret they fill.
        flags = {f for f in flags if f != "help" and not f.endswith("-file")}
        self.assertIn("redis-port", flags)
        listed = set(re.findall(r"^(?:# )?([a-z][a-z-]*) =", self.taskq("config").stdout, re.M))
        self.assertEqual(flags - listed, set())

    def test_invalid_configuration_fails_fast_naming_the_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('[up]\nlease-ms = 5\n')
        try:
            result = self.taskq("--config", f.name, "up", "--redis-url", "redis://127.0.0.1:1",
                                check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("--lease-ms", result.stderr + result.stdout)
            with open(f.name, "w") as g:
                g.write('[up]\nlisten-port = 80\n')
            result = self.taskq("--config", f.name, "config", check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("listen-port", result.stderr + result.stdout)
        finally:
            os.unlink(f.name)
        result = self.taskq("api", "--listen", "nowhere", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--listen", result.stderr + result.stdout)
        for flag, value in (("--webhook-ports", "80,x"), ("--image-ports", "0"),
                            ("--type-queues", "email=")):
            result = self.taskq("--redis-url", "redis://127.0.0.1:1", "worker", flag, value,
                                check=False)
            self.assertNotEqual(result.returncode, 0, flag)
            self.assertIn(flag, result.stderr + result.stdout)


class BuiltinTypesTest(unittest.TestCase):
    """Each built-in job type end to end: POST /api/jobs to `taskq up`, a real worker, real
    services (a loopback HTTP server for webhook, files for the others)."""

    @classmethod
    def setUpClass(cls):
        import http.server
        import threading

        received = cls.received = []

        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        cls.hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=cls.hook.serve_forever, daemon=True).start()
        cls.data_dir = tempfile.mkdtemp(prefix="taskq-types-")
        cls.log = open(os.path.join(cls.data_dir, "up.log"), "w")
        cls.redis_port = free_port()
        cls.up = subprocess.Popen(
            [TASKQ, "up", "--data-dir", cls.data_dir, "--redis-port", str(cls.redis_port),
             "--listen", "127.0.0.1:0", "--dashboard-listen", "",
             "--webhook-allow", "127.0.0.0/8", "--webhook-ports", "*",
             "--webhook-secret", "whsec_c2VjcmV0LWtleS0xMjM0"],
            stdout=cls.log, stderr=subprocess.STDOUT)
        cls.api = Api.__new__(Api)  # only its request() helper, on the up process' port
        cls.api.port = None
        if not wait_until(lambda: cls._ready(), timeout=30):
            raise RuntimeError("taskq up did not become ready")

    @classmethod
    def _ready(cls):
        cls.api.port = listening_ports(cls.log.name)[0]
        if cls.api.port is None:
            return False
        try:
            return cls.api.request("GET", "/readyz", timeout=2)[0] == 200
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        cls.up.terminate()
        cls.up.wait(30)
        cls.log.close()
        cls.hook.shutdown()
        cls.hook.server_close()
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def run_job(self, job):
        status, created, _ = self.api.request("POST", "/api/jobs", job)
        self.assertEqual(status, 201, created)
        status, done, _ = self.api.request("GET", created["links"]["wait"] + "&timeout_ms=20000")
        self.assertEqual(status, 200, done)
        self.assertEqual(done["state"], "completed", done)
        return done

    def test_a_built_in_type_runs_only_from_its_own_queue(self):
        # Written past the API (which refuses it with 422), straight into Redis by the CLI: the
        # worker of the email queue does not run a webhook job put there.
        with open(os.path.join(self.data_dir, "redis", "password")) as f:
            url = f"redis://:{f.read().strip()}@127.0.0.1:{self.redis_port}"
        out = subprocess.run(
            [TASKQ, "--redis-url", url, "enqueue", "--type", "webhook", "--queue", "email",
             "--data", '{"url": "http://127.0.0.1:9/hook"}'],
            capture_output=True, text=True, timeout=20, check=True)
        job_id = json.loads(out.stdout)["id"]
        status, job, _ = self.api.request(
            "GET", f"/api/jobs/{job_id}/wait?queue=email&timeout_ms=20000")
        self.assertEqual((status, job["state"]), (200, "dead"), job)
        self.assertIn("jobs of type 'webhook' do not run from queue 'email'",
                      job["errors"][0]["message"])
        status, error, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "queue": "email", "data": {"url": "http://127.0.0.1:9/hook"}})
        self.assertEqual((status, error["error"]["field"]), (422, "queue"))

    def test_email(self):
        job = self.run_job({"type": "email", "data": {"to": ["a@example.com", "b@example.com"],
                                                      "subject": "Grüße", "text": "hi"}})
        with open(job["result"]["path"], encoding="utf-8") as f:
            message = f.read()
        self.assertIn("To: a@example.com, b@example.com", message)
        self.assertIn("=?utf-8?", message.lower())  # the subject is RFC 2047 encoded

    def test_email_attachments_by_path_are_refused_by_default(self):
        # Without --email-attachments-dir, a path would mail any file the worker can read.
        status, error, _ = self.api.request("POST", "/api/jobs", {
            "type": "email", "data": {"to": "a@example.com", "subject": "x",
                                      "attachments": [{"path": "/etc/passwd"}]}})
        self.assertEqual(status, 422, error)
        self.assertEqual(error["error"]["field"], "data.attachments[0].path")
        self.assertIn("--email-attachments-dir", error["error"]["message"])

    def test_webhook_is_delivered_and_signed(self):
        import base64
        import hashlib
        import hmac
        url = f"http://127.0.0.1:{self.hook.server_address[1]}/hook"
        job = self.run_job({"type": "webhook", "data": {"url": url, "body": {"event": "paid"}}})
        self.assertEqual(job["result"]["status"], 200)
        path, headers, body = self.received[-1]
        self.assertEqual(path, "/hook")
        self.assertEqual(json.loads(body), {"event": "paid"})
        self.assertEqual(headers["webhook-id"], job["id"])
        signed = f"{job['id']}.{headers['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(b"secret-key-1234", signed,
                                             hashlib.sha256).digest()).decode()
        self.assertIn("v1," + expected, headers["webhook-signature"].split())

    def test_image_resize_of_a_png(self):
        import struct
        import zlib
        width, height = 64, 48
        # A PNG written by hand (no imaging library here): filter byte 0, then RGB per pixel.
        raw = b"".join(b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 128))
                                           for x in range(width)) for y in range(height))

        def chunk(kind, data):
            return (struct.pack(">I", len(data)) + kind + data +
                    struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
        png = (b"\x89PNG\r\n\x1a\n" +
               chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
               chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        images = os.path.join(self.data_dir, "images")
        os.makedirs(images, exist_ok=True)
        source = os.path.join(images, "source.png")
        with open(source, "wb") as f:
            f.write(png)
        job = self.run_job({"type": "image-resize", "data": {"source": source, "outputs": [
            {"width": 32, "height": 32, "fit": "cover", "format": "webp", "path": "thumb.webp"},
            {"width": 16, "height": 16, "fit": "inside", "format": "jpeg", "path": "s/t.jpg"}]}})
        outputs = job["result"]["outputs"]
        self.assertEqual([(o["width"], o["height"]) for o in outputs], [(32, 32), (16, 12)])
        with open(os.path.join(images, "out", "thumb.webp"), "rb") as f:
            head = f.read(12)
        self.assertEqual((head[:4], head[8:12]), (b"RIFF", b"WEBP"))
        with open(os.path.join(images, "out", "s", "t.jpg"), "rb") as f:
            self.assertEqual(f.read(3), b"\xff\xd8\xff")

    def test_export_of_inline_rows_to_csv(self):
        import csv
        import hashlib
        rows = [{"name": 'say "hi", now', "n": 1}, {"name": "line\nbreak", "n": 2},
                {"name": "ünïcode", "n": None}]
        job = self.run_job({"type": "export", "data": {
            "format": "csv", "source": {"rows": rows}, "columns": ["name", "n"],
            "output": "reports/people.csv"}})
        path = os.path.join(self.data_dir, "exports", "reports", "people.csv")
        self.assertEqual(os.path.realpath(job["result"]["path"]), os.path.realpath(path))
        self.assertEqual(job["result"]["rows"], 3)
        with open(path, "rb") as f:
            content = f.read()
        self.assertEqual(job["result"]["sha256"], hashlib.sha256(content).hexdigest())
        parsed = list(csv.reader(content.decode("utf-8").splitlines(keepends=True)))
        self.assertEqual(parsed[0], ["name", "n"])
        self.assertEqual([r[0] for r in parsed[1:]], [r["name"] for r in rows])
        status, error, _ = self.api.request("POST", "/api/jobs", {"type": "export", "data": {
            "format": "csv", "source": {"rows": rows}, "output": "../escape.csv"}})
        self.assertEqual((status, error["error"]["field"]), (422, "data.output"))

    def test_cleanup_removes_old_files_below_a_root_only(self):
        outbox = os.path.join(self.data_dir, "outbox")
        os.makedirs(outbox, exist_ok=True)
        old, new = os.path.join(outbox, "old.eml"), os.path.join(outbox, "new.eml")
        for p in (old, new):
            with open(p, "w") as f:
                f.write("x" * 100)
        os.utime(old, (time.time() - 7200, time.time() - 7200))
        job = self.run_job({"type": "cleanup", "data": {
            "target": "files", "directory": outbox, "glob": "*.eml", "older_than_ms": 3600000}})
        self.assertEqual(job["result"]["deleted"], 1)
        self.assertEqual(job["result"]["bytes_freed"], 100)
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(new))
        status, created, _ = self.api.request("POST", "/api/jobs", {"type": "cleanup", "data": {
            "target": "files", "directory": "/etc", "older_than_ms": 0}})
        self.assertEqual(status, 201)  # which roots apply is the worker's configuration
        status, job, _ = self.api.request("GET", created["links"]["wait"] + "&timeout_ms=20000")
        self.assertEqual(job["state"], "dead")
        self.assertTrue(os.path.exists("/etc/passwd"))  # nothing outside the roots was touched
        self.assertIn("/etc", job["error"])


class ListenPolicyTest(unittest.TestCase):
    def test_refuses_to_listen_beyond_loopback_without_keys(self):
        redis = Redis()
        try:
            result = subprocess.run(
                [TASKQ, "--redis-url", redis.url, "api", "--listen", f"0.0.0.0:{free_port()}",
                 "--dashboard-listen", ""], capture_output=True, text=True, timeout=20)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("--insecure", result.stdout + result.stderr)
            api = Api(redis.url, "--insecure")  # loopback with --insecure still starts
            api.stop()
        finally:
            redis.stop()

    def test_without_credentials_only_known_host_names_are_served_on_any_address(self):
        # DNS rebinding: a site's name made to resolve to this host must reach neither the API
        # nor the dashboard's anonymous admin session, also when they listen on 0.0.0.0.
        redis = Redis()
        api = None
        try:
            api = Api.run([TASKQ, "--redis-url", redis.url, "api", "--listen", "0.0.0.0:0",
                           "--dashboard-listen", "0.0.0.0:0", "--insecure",
                           "--allowed-hosts", "queue.internal"])
            for target_port, path in ((api.port, "/api/queues"),
                                      (api.dashboard_port, "/admin/queues/")):
                for host in ("evil.example", f"evil.example:{target_port}", "queue.internal.evil"):
                    status, error, _ = api.request("GET", path, None, {"Host": host},
                                                   port=target_port)
                    self.assertEqual(status, 403, (path, host))
                for host in (f"localhost:{target_port}", f"127.0.0.1:{target_port}",
                             f"QUEUE.internal:{target_port}", "queue.internal"):
                    status, _, _ = api.request("GET", path, None, {"Host": host}, port=target_port)
                    self.assertEqual(status, 200, (path, host))
            # A POST is refused on its headers, before any body is read.
            status, error, _ = api.request("POST", "/api/jobs", {"type": "t", "data": {}},
                                           {"Host": "evil.example"})
            self.assertEqual((status, error["error"]["code"]), (403, "host"))
        finally:
            if api:
                api.stop()
            redis.stop()


class ScheduleApiTest(unittest.TestCase):
    """/api/schedules against a real Redis, and a real `taskq scheduler` firing a schedule."""

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, "--job-types", "tick")

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.redis.stop()

    def req(self, method, path, body=None):
        status, payload, _ = self.api.request(method, path, body)
        return status, payload

    def test_crud_and_the_next_ten_fire_times(self):
        from zoneinfo import ZoneInfo
        status, created = self.req("POST", "/api/schedules", {
            "id": "daily", "cron": "0 3 * * *", "tz": "Europe/Berlin", "type": "tick",
            "data": {"n": 1}, "options": {"priority": 5}})
        self.assertEqual(status, 201, created)
        self.assertEqual(created["status"], "active")
        self.assertEqual(created["queue"], "tick")
        self.assertEqual(created["options"]["priority"], 5)
        self.assertIsNone(created["last_run"])
        times = created["next_fire_times"]
        self.assertEqual(len(times), 10)
        self.assertEqual(times[0], created["next_fire_ms"])
        self.assertGreater(times[0], time.time() * 1000)
        self.assertEqual(times, sorted(set(times)))
        berlin = ZoneInfo("Europe/Berlin")
        for t in times:  # 03:00 local on ten consecutive days, whatever the UTC offset
            local = datetime.datetime.fromtimestamp(t / 1000, berlin)
            self.assertEqual((local.hour, local.minute, local.second), (3, 0, 0), local)
        days = [datetime.datetime.fromtimestamp(t / 1000, berlin).date() for t in times]
        self.assertEqual([(b - a).days for a, b in zip(days, days[1:])], [1] * 9)

        status, conflict = self.req("POST", "/api/schedules",
                                    {"id": "daily", "cron": "@hourly", "type": "tick"})
        self.assertEqual(status, 409, conflict)
        self.assertEqual(conflict["error"]["field"], "id")
        status, listed = self.req("GET", "/api/schedules")
        self.assertEqual(status, 200)
        self.assertIn("daily", [s["id"] for s in listed["schedules"]])

        status, replaced = self.req("PUT", "/api/schedules/daily",
                                    {"cron": "0 4 * * *", "tz": "Europe/Berlin", "type": "tick"})
        self.assertEqual(status, 200, replaced)
        self.assertEqual(replaced["cron"], "0 4 * * *")
        local = datetime.datetime.fromtimestamp(replaced["next_fire_ms"] / 1000, berlin)
        self.assertEqual(local.hour, 4)
        status, fresh = self.req("PUT", "/api/schedules/hourly", {"cron": "@hourly", "type": "tick"})
        self.assertEqual(status, 201, fresh)
        status, mismatch = self.req("PUT", "/api/schedules/hourly",
                                    {"id": "other", "cron": "@hourly", "type": "tick"})
        self.assertEqual((status, mismatch["error"]["field"]), (422, "id"))

        status, paused = self.req("POST", "/api/schedules/daily/pause")
        self.assertEqual((status, paused), (200, {"id": "daily", "paused": True, "changed": True}))
        self.assertEqual(self.req("GET", "/api/schedules/daily")[1]["status"], "paused")
        status, resumed = self.req("POST", "/api/schedules/daily/resume")
        self.assertEqual((status, resumed["changed"]), (200, True))
        self.assertEqual(self.req("GET", "/api/schedules/daily")[1]["status"], "active")

        self.assertEqual(self.req("DELETE", "/api/schedules/daily")[0], 200)
        status, missing = self.req("GET", "/api/schedules/daily")
        self.assertEqual((status, missing["error"]["field"]), (404, "id"))
        self.assertEqual(self.req("DELETE", "/api/schedules/daily")[0], 404)
        self.assertEqual(self.req("POST", "/api/schedules/daily/pause")[0], 404)

    def test_invalid_definitions_name_the_field(self):
        status, body = self.req("POST", "/api/schedules",
                                {"id": "bad", "cron": "0 25 * * *", "type": "tick"})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["field"], "cron")
        self.assertRegex(body["error"]["message"], r"^position \d+: ")
        cases = [
            ({"id": "bad", "cron": "@daily", "tz": "Mars/Base", "type": "tick"}, "tz"),
            ({"id": "bad", "cron": "@daily", "type": "nope"}, "type"),
            ({"id": "bad", "cron": "@daily", "type": "tick", "every": 1}, "every"),
            ({"id": "bad", "cron": "@daily", "type": "tick", "missed": {"catch_up": 0}},
             "missed.catch_up"),
            ({"id": "bad", "cron": "@daily", "type": "tick", "options": {"max_attempts": 0}},
             "options.max_attempts"),
            ({"id": "b d", "cron": "@daily", "type": "tick"}, "id"),
        ]
        for definition, field in cases:
            status, body = self.req("POST", "/api/schedules", definition)
            self.assertEqual((status, body["error"]["field"]), (422, field), body)
        status, _, _ = self.api.request("POST", "/api/schedules", raw=b"{not json")
        self.assertEqual(status, 400)
        self.assertEqual(self.req("GET", "/api/schedules/bad")[0], 404)  # nothing was stored

    def test_run_now_enqueues_one_job_without_advancing_the_schedule(self):
        status, created = self.req("POST", "/api/schedules",
                                   {"id": "yearly", "cron": "@yearly", "type": "tick"})
        self.assertEqual(status, 201, created)
        status, run = self.req("POST", "/api/schedules/yearly/run")
        self.assertEqual(status, 201, run)
        status, job = self.req("GET", f"/api/jobs/{run['id']}?queue=tick")
        self.assertEqual(status, 200, job)
        self.assertEqual(job["schedule"]["id"], "yearly")
        self.assertGreater(job["schedule"]["fire_time_ms"], 0)
        status, after = self.req("GET", "/api/schedules/yearly")
        self.assertEqual((after["runs"], after["next_fire_ms"]), (0, created["next_fire_ms"]))
        self.assertEqual(self.req("POST", "/api/schedules/none/run")[0], 404)

    def test_openapi_lists_the_schedule_routes(self):
        status, doc = self.req("GET", "/api/openapi.json")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(doc["paths"]["/api/schedules/{id}"]), ["delete", "get", "put"])
        self.assertIn("post", doc["paths"]["/api/schedules/{id}/run"])

    def test_a_scheduler_fires_the_schedule_and_the_last_run_shows_its_job(self):
        scheduler = subprocess.Popen(
            [TASKQ, "--redis-url", self.redis.url, "--log-level", "warn", "scheduler",
             "--scheduler-tick-ms", "100"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            status, created = self.req("POST", "/api/schedules", {
                "id": "every-second", "cron": "* * * * * *", "type": "tick"})
            self.assertEqual(status, 201, created)
            self.assertTrue(wait_until(
                lambda: self.req("GET", "/api/schedules/every-second")[1]["last_run"], 10))
            schedule = self.req("GET", "/api/schedules/every-second")[1]
            last = schedule["last_run"]
            self.assertEqual(last["job_id"], f"s:every-second:{last['fire_time_ms']}")
            self.assertEqual(last["job_state"], "waiting")
            self.assertGreaterEqual(schedule["runs"], 1)
            status, job = self.req("GET", f"/api/jobs/{last['job_id']}?queue=tick")
            self.assertEqual(status, 200, job)
            self.assertEqual(job["schedule"], {"id": "every-second",
                                               "fire_time_ms": last["fire_time_ms"]})
            listing = subprocess.run([TASKQ, "--redis-url", self.redis.url, "schedules"],
                                     capture_output=True, text=True, timeout=30)
            self.assertEqual(listing.returncode, 0, listing.stderr)
            row = [l for l in listing.stdout.splitlines() if l.startswith("every-second")][0]
            self.assertIn("* * * * * *", row)
            self.assertIn("active", row)
        finally:
            self.req("DELETE", "/api/schedules/every-second")
            scheduler.terminate()
            self.assertEqual(scheduler.wait(15), 0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--taskq", required=True)
    parser.add_argument("--worker", required=True)
    args, rest = parser.parse_known_args()
    TASKQ, TEST_WORKER = os.path.abspath(args.taskq), os.path.abspath(args.worker)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
