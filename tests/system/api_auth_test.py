#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

Credentials, scopes and the listen policy of the HTTP API, and connection
floods.

    api_auth_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import json
import socket
import subprocess
import time
import unittest

import api_fixtures as fx
from api_fixtures import free_port, Redis, Api


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
        self.assertEqual((status, error["code"]), (403, "forbidden"))
        self.assertIn("admin", error["detail"])
        bulk = {"jobs": [{"type": "t", "data": {}}, cleanup]}
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", bulk,
                                            {"Authorization": f"Bearer {self.ENQUEUE}"})
        self.assertEqual(status, 403)
        self.assertIn("jobs[1].type", error["detail"])
        self.assertEqual(self.call("POST", "/api/jobs", self.ADMIN, cleanup), 201)
        self.assertEqual(self.call("POST", "/api/jobs", self.ENQUEUE, {"type": "t", "data": {}}),
                         201)

    def test_a_key_limited_to_job_types_creates_and_cancels_only_those(self):
        auth = {"Authorization": f"Bearer {self.LIMITED}"}
        status, created, _ = self.api.request("POST", "/api/jobs", {"type": "t", "data": {}}, auth)
        self.assertEqual(status, 201, created)
        status, error, _ = self.api.request("POST", "/api/jobs", {"type": "v", "data": {}}, auth)
        self.assertEqual((status, error["code"]), (403, "forbidden"))
        self.assertIn("limited to jobs of type t, u; 'v' is not one (type)",
                      error["detail"])
        bulk = {"jobs": [{"type": "u", "data": {}}, {"type": "v", "data": {}}]}
        status, error, _ = self.api.request("POST", "/api/jobs/bulk", bulk, auth)
        self.assertEqual(status, 403)
        self.assertIn("(jobs[1].type)", error["detail"])
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
            self.assertIn("whole queues", error["detail"])
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
            self.assertEqual((status, error["field"]), (422, "queue"), error)
            self.assertIn("jobs of type 'cleanup' go only to queue maintenance",
                          error["detail"])
            status, created, _ = api.request("POST", "/api/jobs",
                                             dict(cleanup, queue="maintenance"), enqueue)
            self.assertEqual((status, created.get("queue")), (201, "maintenance"), created)
            status, error, _ = api.request("POST", "/api/jobs",
                                           dict(report, queue="email"), admin)
            self.assertEqual((status, error["field"]), (422, "queue"))
            self.assertIn("reports, reports-low", error["detail"])
        finally:
            api.stop()
        # The defaults: a built-in type only to its own queue, a custom one anywhere.
        cleanup = {"type": "cleanup", "queue": "q", "data": {"target": "jobs", "queue": "q",
                                                             "state": "dead", "older_than_ms": 0}}
        status, error, _ = self.api.request("POST", "/api/jobs", cleanup,
                                            {"Authorization": f"Bearer {self.ADMIN}"})
        self.assertEqual((status, error["field"]), (422, "queue"), error)
        self.assertEqual(self.call("POST", "/api/jobs", self.ENQUEUE,
                                   {"type": "t", "queue": "anywhere", "data": {}}), 201)
        bad = subprocess.run([fx.TASKQ, "--redis-url", self.redis.url, "api", "--type-queues",
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
        self.assertEqual((status, job["data"]["headers"]), (200, {"X-Api-Key": "[redacted]"}))
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
        self.assertEqual((status, error["code"]), (403, "forbidden"))
        self.assertIn("data.headers", error["detail"])
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
            bad = subprocess.run([fx.TASKQ, "--redis-url", self.redis.url, "api", "--job-types",
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
            self.assertEqual((status, error["field"]), (422, "queue"))
            self.assertEqual(post({"type": "report", "queue": "reports", "data": {}})[0], 201)
            self.assertEqual(post({"type": "other", "queue": "elsewhere", "data": {}})[0], 201)
            # The built-in types keep their validators and queues under "*" too.
            status, error, _ = post({"type": "email", "data": {"to": "not an address"}})
            self.assertEqual((status, error["field"]), (422, "data.to"))
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
                [fx.TASKQ, "--redis-url", redis.url, "api", "--listen", "127.0.0.1:0",
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


class ListenPolicyTest(unittest.TestCase):
    def test_refuses_to_listen_beyond_loopback_without_keys(self):
        redis = Redis()
        try:
            result = subprocess.run(
                [fx.TASKQ, "--redis-url", redis.url, "api", "--listen", f"0.0.0.0:{free_port()}",
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
            api = Api.run([fx.TASKQ, "--redis-url", redis.url, "api", "--listen", "0.0.0.0:0",
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
            self.assertEqual((status, error["code"]), (403, "host"))
        finally:
            if api:
                api.stop()
            redis.stop()


if __name__ == "__main__":
    fx.main()
