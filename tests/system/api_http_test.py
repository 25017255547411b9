#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

The HTTP layer of the API: bad input, size limits, routes, connections, health, metrics,
OpenAPI and the dashboard listener.

    api_http_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import http.client
import json
import socket
import time
import unittest

import api_fixtures as fx
from api_fixtures import wait_until


class HttpTest(fx.SharedApiTestCase):
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
                self.assertEqual(error["code"], code)
                self.assertTrue(error["detail"])
                if field:
                    self.assertEqual(error["field"], field)
        # None of these created a queue or a job.
        names = [q["name"] for q in self.api.request("GET", "/api/queues")[1]["queues"]]
        self.assertNotIn("x", names)

    def test_unknown_type_and_invalid_email_data_are_422_naming_the_field(self):
        status, error, _ = self.post_job({"type": "fax", "data": {}})
        self.assertEqual((status, error["field"]), (422, "type"))
        self.assertIn("email", error["detail"])  # lists the known types
        self.assertIn("sleep", error["detail"])
        status, error, _ = self.post_job({"type": "email", "data": {"to": "not an address"}})
        self.assertEqual((status, error["field"]), (422, "data.to"))
        status, error, _ = self.post_job(
            {"type": "email", "data": {"to": "a@example.com", "subject": "x\r\nBcc: b@evil"}})
        self.assertEqual((status, error["field"]), (422, "data.subject"))
        status, error, _ = self.api.request(
            "POST", "/api/jobs/bulk",
            {"jobs": [{"type": "email", "data": {"to": "a@example.com"}},
                      {"type": "email", "data": {"to": "a@example.com", "cc": 5}}]})
        self.assertEqual((status, error["field"]), (422, "jobs[1].data.cc"))

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
            self.assertIn("code" if status >= 400 else "id", answer)
            if status == 201:
                created += 1
                # What was accepted is whole: it reads back with its options.
                self.assertEqual(self.get_job(answer["id"])[0], 200)
        self.assertEqual(self.api.request("GET", "/healthz")[0], 200)
        counts = self.api.request("GET", "/api/queues/fuzzq")
        if created:
            self.assertEqual(counts[1]["counts"]["delayed"] + counts[1]["counts"]["waiting"],
                             created)

    def test_errors_are_problem_details_listing_every_invalid_field(self):
        body = {"type": "hold", "data": {}, "priority": "high", "delay_ms": -1, "colour": "red",
                "run_at": "tomorrow"}
        status, problem, headers = self.post_job(body)
        self.assertEqual(status, 422)
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        self.assertEqual(problem["type"], "urn:taskq:problem:invalid_field")
        self.assertEqual(problem["title"], "Invalid field")
        self.assertEqual(problem["status"], 422)
        self.assertEqual(problem["code"], "invalid_field")
        fields = [e["field"] for e in problem["errors"]]
        self.assertEqual(sorted(fields), ["colour", "delay_ms", "priority", "run_at"])
        # The first one is also the problem's own field and detail.
        self.assertEqual((problem["field"], problem["detail"]),
                         (problem["errors"][0]["field"], problem["errors"][0]["detail"]))
        self.assertTrue(all(e["detail"] for e in problem["errors"]))
        # An empty member name is an invalid field too, named, not a malformed body.
        status, problem, _ = self.post_job({"type": "hold", "": 1})
        self.assertEqual((status, problem["field"]), (422, "(empty name)"))
        # Data that is not an object is the one error: the type's checks of its fields wait for
        # an object (email would otherwise add data.to: is required).
        status, problem, _ = self.post_job({"type": "email", "data": ["to"], "priority": "x"})
        self.assertEqual(status, 422)
        self.assertEqual(sorted(e["field"] for e in problem["errors"]), ["data", "priority"])
        # A bulk names the invalid fields of every job, and writes none of them.
        status, problem, _ = self.api.request("POST", "/api/jobs/bulk", {"jobs": [
            {"type": "hold", "job_id": "bulk-ok", "data": {}},
            {"data": {}},
            {"type": "hold", "data": {}, "max_attempts": 0, "lifo": "yes"}]})
        self.assertEqual(status, 422)
        self.assertEqual(sorted(e["field"] for e in problem["errors"]),
                         ["jobs[1].type", "jobs[2].lifo", "jobs[2].max_attempts"])
        self.assertEqual(self.get_job("bulk-ok")[0], 404)
        # Other errors are problem details too, without a list.
        status, problem, headers = self.get_job("no-such-job")
        self.assertEqual(status, 404)
        self.assertEqual(headers["Content-Type"], "application/problem+json")
        self.assertEqual((problem["type"], problem["status"], problem["code"]),
                         ("urn:taskq:problem:not_found", 404, "not_found"))
        self.assertNotIn("errors", problem)

    def test_body_over_the_limit_is_413(self):
        big = json.dumps({"type": "x", "data": {"blob": "a" * 70000}})
        status, error, _ = self.api.request("POST", "/api/jobs", raw=big)
        self.assertEqual((status, error["code"]), (413, "body_too_large"))

    def test_a_body_of_another_media_type_is_415_and_writes_nothing(self):
        body = json.dumps({"type": "hold", "job_id": "form-posted", "data": {}})
        status, error, headers = self.api.request(
            "POST", "/api/jobs", raw=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"})  # curl -d's default
        self.assertEqual((status, error["code"], error["field"]),
                         (415, "unsupported_media_type", "Content-Type"))
        self.assertIn("-H 'Content-Type: application/json'", error["detail"])
        self.assertEqual(headers["Accept-Post"], "application/json")
        self.assertEqual(self.get_job("form-posted")[0], 404)
        for content_type in ("application/json; charset=utf-8", "APPLICATION/JSON"):
            status, created, _ = self.api.request(
                "POST", "/api/jobs", raw=body, headers={"Content-Type": content_type})
            self.assertIn(status, (200, 201), created)

    def test_headers_over_the_limit_are_431(self):
        status, error, _ = self.api.request("GET", "/healthz", headers={"X-Big": "b" * 8000})
        self.assertEqual((status, error["code"]), (431, "headers_too_large"))

    def test_unknown_route_is_404_and_wrong_method_is_405(self):
        status, error, _ = self.api.request("GET", "/api/nothing")
        self.assertEqual((status, error["code"]), (404, "not_found"))
        status, error, headers = self.api.request("PUT", "/api/jobs")
        self.assertEqual((status, error["code"]), (405, "method_not_allowed"))
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
        self.assertIn("\ntaskq_redis_up 1\n", text)
        self.assertRegex(text, r'\ntaskq_build_info\{version="\d+\.\d+\.\d+"\} 1\n')
        values = {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
                  if line.startswith("process_")}
        self.assertGreater(values["process_resident_memory_bytes"], 1 << 20)
        self.assertGreater(values["process_open_fds"], 3)
        self.assertGreaterEqual(values["process_max_fds"], values["process_open_fds"])
        self.assertGreater(values["process_cpu_seconds_total"], 0)
        self.assertLess(abs(values["process_start_time_seconds"] - time.time()), 3600)
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
        # Every bucket is there, those no job fell in too (a 20 ms job leaves le="0.005" at 0).
        buckets = [line for line in metrics.splitlines() if line.startswith(
            'taskq_job_processing_seconds_bucket{queue="sleep",type="sleep",')]
        self.assertEqual(len(buckets), 15, buckets)
        self.assertIn('taskq_job_processing_seconds_bucket{queue="sleep",type="sleep",le="0.005"} 0',
                      buckets)
        self.assertIn('le="300"', buckets[-2])
        # Lifetime counters and gauges per queue.
        values = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
                  if line.startswith("taskq_") and "{" in line and "_bucket" not in line}
        self.assertGreaterEqual(values['taskq_jobs_enqueued_total{queue="sleep"}'], 1)
        self.assertEqual(values['taskq_jobs_enqueued_total{queue="metricsq"}'], 1)
        self.assertIn('taskq_jobs_retried_total{queue="sleep"}', values)
        self.assertIn('taskq_jobs_dead_total{queue="sleep"}', values)
        self.assertEqual(values['taskq_callbacks_pending{queue="metricsq"}'], 0)
        self.assertGreaterEqual(values['taskq_queue_workers{queue="sleep"}'], 1)
        self.assertEqual(values['taskq_queue_workers{queue="metricsq"}'], 0)
        queue = self.api.request("GET", "/api/queues/metricsq")[1]
        self.assertEqual((queue["totals"]["enqueued"], queue["totals"]["retried"],
                          queue["totals"]["dead"], queue["callbacks_pending"]), (1, 0, 0, 0))

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
            ("POST", "/api/jobs/{id}/remove"), ("POST", "/api/queues/{queue}/jobs/actions"),
            ("POST", "/api/flows"), ("GET", "/api/flows/{id}"), ("DELETE", "/api/flows/{id}"),
            ("POST", "/api/batches"), ("POST", "/api/batches/{id}/jobs"),
            ("POST", "/api/batches/{id}/close"), ("GET", "/api/batches/{id}"),
            ("DELETE", "/api/batches/{id}")}
        self.assertTrue(expected <= documented, expected - documented)
        listing = doc["paths"]["/api/queues/{queue}/jobs"]["get"]
        self.assertTrue({"state", "limit", "cursor", "reverse", "type", "error", "field", "value",
                         "scan"} <= {p["name"] for p in listing["parameters"]})
        schemas = doc["components"]["schemas"]
        # What SDK generators and linters need: an identifier-like operationId, unique; tags;
        # security on every operation; a server; the Idempotency-Key header.
        operations = [(m, p, op) for p, item in doc["paths"].items() for m, op in item.items()]
        ids = [op["operationId"] for _, _, op in operations]
        self.assertEqual(len(ids), len(set(ids)), ids)
        tag_names = {t["name"] for t in doc["tags"]}
        for method, path, op in operations:
            self.assertRegex(op["operationId"], r"^[a-z][A-Za-z]+$", (method, path))
            self.assertTrue(op["tags"] and set(op["tags"]) <= tag_names, (method, path))
            self.assertIn("security", op, (method, path))
        self.assertEqual(doc["paths"]["/api/jobs"]["post"]["operationId"], "createJob")
        self.assertIn("Idempotency-Key", [p["name"] for p in
                                          doc["paths"]["/api/jobs"]["post"]["parameters"]])
        self.assertEqual(doc["paths"]["/healthz"]["get"]["security"], [])
        self.assertTrue(doc["servers"])
        self.assertRegex(doc["info"]["version"], r"^\d+\.\d+\.\d+$")
        for method, path in documented:
            # Every documented operation is served: a request reaches a route (no route-level
            # 404 or 405), and every schema it names exists.
            concrete = path.replace("{id}", "no-such-job").replace("{queue}", "no-such-queue")
            status, body, _ = self.api.request(method, concrete + "?timeout_ms=0",
                                               raw="{}" if method == "POST" else None)
            self.assertNotEqual(status, 405, (method, path))
            if status == 404:
                self.assertNotIn("no route", body["detail"], (method, path))
            operation = doc["paths"][path][method.lower()]
            for ref in json.dumps(operation).split('"$ref": "')[1:]:
                self.assertIn(ref.split('"')[0].rsplit("/", 1)[1], schemas)

    def test_dashboard_listener_serves_the_base_path(self):
        status, body, _ = self.api.request("GET", "/admin/queues", port=self.api.dashboard_port)
        self.assertEqual(status, 200)
        self.assertIn(b"taskq", body)


if __name__ == "__main__":
    fx.main()
