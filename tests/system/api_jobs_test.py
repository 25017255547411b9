#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Jobs over the HTTP API: enqueue, bulk, unique, reads, waits, cancel, retry and clean.

    api_jobs_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import hashlib
import http.client
import time
import unittest

import api_fixtures as fx
from api_fixtures import wait_until


class JobsTest(fx.SharedApiTestCase):
    def test_quick_start_request_is_accepted_and_readable(self):
        status, body, headers = self.post_job(
            {"type": "email", "data": {"to": "user@example.com", "subject": "Hello"}})
        self.assertEqual(status, 201, body)
        self.assertEqual(headers["Location"], body["links"]["self"])
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
        self.assertEqual(queue["job_types"],
                         ["echo", "fail", "gather", "misbehave", "sleep", "step", "stubborn",
                          "tally"])
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{body['id']}")[0], 200)
        # A job a live worker handles says so while it waits.
        _, body, _ = self.post_job({"type": "sleep", "data": {}, "delay_ms": 60000})
        self.assertIs(self.get_job(body["id"])[1]["live_handler"], True)
        self.assertEqual(self.api.request("DELETE", f"/api/jobs/{body['id']}")[0], 200)

    def test_wait_answers_200_with_the_job_as_it_is_when_it_is_not_finished(self):
        _, body, _ = self.post_job({"type": "hold", "data": {}})
        started = time.monotonic()
        status, job, _ = self.api.request("GET", f"/api/jobs/{body['id']}/wait?timeout_ms=300")
        self.assertEqual(status, 200)
        self.assertEqual(job["state"], "waiting")
        self.assertGreaterEqual(time.monotonic() - started, 0.29)
        status, error, _ = self.api.request("GET", f"/api/jobs/{body['id']}/wait?timeout_ms=99999")
        self.assertEqual(status, 422)
        self.assertEqual(error["field"], "timeout_ms")

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
        self.assertEqual(conflict[1]["field"], "job_id")
        # The key reused for another request: refused, naming the key; the job is unchanged.
        # (Ids are per queue: the key is compared in the queue the request goes to.)
        for other in ({"type": "hold", "data": {"n": 1}},
                      {"type": "sleep", "queue": "hold", "data": {}}):
            reused = self.post_job(other, key)
            self.assertEqual(reused[0], 422, other)
            self.assertEqual(reused[1]["field"], "Idempotency-Key")
            self.assertIn("checkout-42", reused[1]["detail"])
        self.assertEqual(self.get_job("checkout-42")[1]["data"], {})
        # Whitespace between tokens is no difference: the data is stored without it.
        spaced = self.api.request("POST", "/api/jobs", raw='{"type": "hold",  "data": { }}',
                                  headers=key)
        self.assertEqual(spaced[0], 200, spaced[1])

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
        self.assertEqual((status, error["field"]), (422, "state"))

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
        self.assertEqual(error["field"], "jobs[1].priority")
        self.assertEqual(self.api.request("GET", "/api/queues/bulkq2")[0], 404)  # nothing written
        status, error, _ = self.api.request(
            "POST", "/api/jobs/bulk", {"jobs": [{"type": "hold"}] * 51})
        self.assertEqual((status, error["code"]), (413, "too_large"))

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
                self.assertEqual(error["field"], field)
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": [
            {"type": "hold", "queue": "uq3"},
            {"type": "hold", "queue": "uq3", "unique": {"mode": "later"}}]})
        self.assertEqual((status, error["field"]), (422, "jobs[1].unique.mode"))
        self.assertEqual(self.api.request("GET", "/api/queues/uq3")[0], 404)  # nothing written


if __name__ == "__main__":
    fx.main()
