#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Jobs and queues over the HTTP API: enqueue, bulk, reads, actions, limits, rates.

    api_jobs_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import hashlib
import http.client
import json
import socket
import time
import unittest

import api_fixtures as fx
from api_fixtures import wait_until, Redis, Api, Worker


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


if __name__ == "__main__":
    fx.main()
