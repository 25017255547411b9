#!/usr/bin/python3
"""System tests of the dashboard's HTTP side (docs/dashboard.md): the page and its assets,
sessions, sign-in, roles, CSRF and the API passed through under the base path. The real `taskq`
binary against a real redis-server, over real HTTP. The page itself is tested in a real browser
(tests/dashboard/).

    dashboard_http_test.py --taskq build/taskq --worker build/tests/taskq_test_worker
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_fixtures  # noqa: E402  (the Redis and Api fixtures)
from api_fixtures import Api, Redis, free_port  # noqa: E402

BASE = "/admin/queues"
PASSWORD = "correct horse battery"


def hash_password(password):
    out = subprocess.run([api_fixtures.TASKQ, "hash-password"], input=password + "\n",
                         capture_output=True, text=True, check=True, timeout=30)
    return out.stdout.strip()


class Browser:
    """Enough of a browser for the dashboard: keeps the session cookie, sends the CSRF token."""

    def __init__(self, api):
        self.api = api
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        headers = dict(headers or {})
        if body is not None:
            headers.setdefault("Content-Type", "application/json")  # as the page's fetch sends it
        if self.cookie:
            headers["Cookie"] = self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            headers["X-CSRF-Token"] = self.csrf
        status, payload, response_headers = self.api.request(
            method, BASE + path, body, headers, port=self.api.dashboard_port)
        cookie = response_headers.get("Set-Cookie")
        if cookie:
            value = cookie.split(";", 1)[0]
            self.cookie = None if value.endswith("=") else value
        if path == "/session" and status == 200:
            self.csrf = payload["csrf"]
        return status, payload, response_headers


class StackTest(unittest.TestCase):
    """A redis-server and a `taskq api` (with its dashboard listener) for the class's tests."""

    @classmethod
    def api_flags(cls):
        return ["--job-types", "*"]

    @classmethod
    def setUpClass(cls):
        cls.redis = Redis()
        cls.api = Api(cls.redis.url, *cls.api_flags())

    @classmethod
    def tearDownClass(cls):
        cls.api.stop()
        cls.redis.stop()


class OpenDashboardTest(StackTest):
    """No users and no API keys: the quick-start default on loopback."""

    def get(self, path, headers=None):
        return self.api.request("GET", path, headers=headers, port=self.api.dashboard_port)

    def test_page_names_its_assets_under_the_base_path_with_a_strict_policy(self):
        for path in (BASE, BASE + "/"):
            status, body, headers = self.get(path)
            self.assertEqual(status, 200)
            self.assertIn(f'src="{BASE}/assets/js/app.js"'.encode(), body)
            self.assertNotIn(b"%BASE%", body)
            self.assertIn("script-src 'self'", headers["Content-Security-Policy"])
            self.assertNotIn("unsafe-inline", headers["Content-Security-Policy"])
            self.assertEqual(headers["X-Frame-Options"], "DENY")
        status, _, headers = self.get("/")
        self.assertEqual((status, headers["Location"]), (302, BASE + "/"))
        self.assertEqual(self.get("/elsewhere")[0], 404)

    def test_bull_board_urls_land_on_the_same_views(self):
        for path, fragment in (
                ("/queue/email", "#/queues/email"),
                ("/queue/email?status=failed", "#/queues/email?state=dead"),
                ("/queue/email?status=completed&page=3", "#/queues/email?state=completed"),
                ("/queue/email/0PKN3R2W8K5GH7TQ1ZMD", "#/jobs/email/0PKN3R2W8K5GH7TQ1ZMD")):
            status, _, headers = self.get(BASE + path)
            self.assertEqual((status, headers.get("Location")), (302, f"{BASE}/{fragment}"), path)
        self.assertEqual(self.get(BASE + "/queue/email/1/logs")[0], 404)

    def test_assets_carry_an_etag_and_answer_304_to_it(self):
        status, body, headers = self.get(BASE + "/assets/js/app.js")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/javascript"))
        self.assertTrue(body)
        status, body, _ = self.get(BASE + "/assets/js/app.js", {"If-None-Match": headers["ETag"]})
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(self.get(BASE + "/assets/nope.js")[0], 404)
        self.assertEqual(self.get(BASE + "/assets/../../etc/passwd")[0], 404)
        status, _, headers = self.api.request("POST", BASE + "/assets/js/app.js",
                                              port=self.api.dashboard_port)
        self.assertEqual((status, headers["Allow"]), (405, "GET"))

    def test_anonymous_session_is_admin_and_its_csrf_token_guards_every_change(self):
        browser = Browser(self.api)
        self.assertEqual(browser.request("GET", "/api/queues")[0], 401)  # no session yet
        status, session, _ = browser.request("GET", "/session")
        self.assertEqual(status, 200)
        self.assertEqual((session["auth"], session["role"], session["user"], session["api_keys"]),
                         ("none", "admin", None, False))
        self.assertEqual(len(session["csrf"]), 64)
        self.assertIn("HttpOnly", self.cookie_attributes(browser))
        status, job, _ = browser.request("POST", "/api/jobs", {"type": "mail", "data": {}})
        self.assertEqual(status, 201, job)
        status, error, _ = browser.request("POST", "/api/queues/mail/pause", csrf=False)
        self.assertEqual((status, error["code"]), (403, "csrf"))
        status, error, _ = browser.request("POST", "/api/queues/mail/pause",
                                           headers={"X-CSRF-Token": "0" * 64}, csrf=False)
        self.assertEqual((status, error["code"]), (403, "csrf"))
        # A page of another site cannot post even with the token (Fetch Metadata).
        status, _, _ = browser.request("POST", "/api/queues/mail/pause",
                                       headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(status, 403)
        self.assertFalse(self.api.request("GET", "/api/queues/mail")[1]["paused"])
        self.assertEqual(browser.request("POST", "/api/queues/mail/pause")[0], 200)
        self.assertTrue(self.api.request("GET", "/api/queues/mail")[1]["paused"])
        status, page, headers = browser.request("GET", "/api/queues/mail/jobs?state=waiting")
        self.assertEqual((status, page["jobs"][0]["id"]), (200, job["id"]))
        self.assertEqual(headers["Cache-Control"], "no-store")
        self.assertEqual(browser.request("GET", "/api/nowhere")[0], 404)

    def cookie_attributes(self, browser, headers=None):
        status, _, response_headers = self.api.request("GET", BASE + "/session", None, headers,
                                                       port=self.api.dashboard_port)
        self.assertEqual(status, 200)
        cookie = response_headers["Set-Cookie"]
        self.assertIn("SameSite=Strict", cookie)
        self.assertIn(f"Path={BASE}", cookie)
        return cookie

    def test_the_cookie_is_secure_when_a_proxy_or_the_origin_says_https(self):
        self.assertNotIn("Secure", self.cookie_attributes(None))
        self.assertIn("; Secure", self.cookie_attributes(None, {"X-Forwarded-Proto": "https"}))
        self.assertIn("; Secure", self.cookie_attributes(None, {"X-Forwarded-Proto": "HTTPS"}))
        self.assertNotIn("Secure", self.cookie_attributes(None, {"X-Forwarded-Proto": "http"}))
        self.assertIn("; Secure",
                      self.cookie_attributes(None, {"Origin": "https://queues.example.com"}))


class EventStream:
    """A raw Server-Sent Events reader on the dashboard's BASE/api/events."""

    def __init__(self, port, cookie):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall((f"GET {BASE}/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Cookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n").encode())
        self.buffer = b""
        head = self._read_until(b"\r\n\r\n")
        self.status_line = head.split(b"\r\n", 1)[0].decode()
        self.headers = head.decode().lower()

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the stream closed")
            self.buffer += chunk
        part, self.buffer = self.buffer.split(marker, 1)
        return part

    def next_event(self):
        """(name, data) of the next event; comments and retry lines are skipped."""
        while True:
            block = self._read_until(b"\n\n").decode()
            name, data = None, None
            for line in block.split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
            if name:
                return name, data

    def wait_for(self, predicate):
        while True:
            name, data = self.next_event()
            if predicate(name, data):
                return data

    def close(self):
        self.sock.close()


class LiveEventsTest(StackTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.browser = Browser(cls.api)
        cls.browser.request("GET", "/session")

    def test_stream_opens_with_a_snapshot_then_pushes_job_events_and_counts(self):
        self.assertEqual(self.api.request("POST", "/api/jobs", {"type": "live", "data": {}})[0], 201)
        stream = EventStream(self.api.dashboard_port, self.browser.cookie)
        try:
            self.assertIn("200", stream.status_line)
            self.assertIn("content-type: text/event-stream", stream.headers)
            name, first = stream.next_event()
            self.assertEqual(name, "queues")
            live = {q["name"]: q for q in first["queues"]}["live"]
            self.assertEqual(live["counts"]["waiting"], 1)
            status, job, _ = self.api.request("POST", "/api/jobs", {"type": "live", "data": {}})
            self.assertEqual(status, 201)
            event = stream.wait_for(lambda n, d: n == "job" and job["id"] in d["ids"])
            self.assertEqual((event["queue"], event["event"], event["count"]),
                             ("live", "enqueued", 1))
            counts = stream.wait_for(lambda n, d: n == "queues")
            self.assertEqual({q["name"]: q for q in counts["queues"]}["live"]["counts"]["waiting"],
                             2)
            # An action through the dashboard shows up too.
            self.assertEqual(self.browser.request(
                "DELETE", f"/api/jobs/{job['id']}?queue=live")[0], 200)
            event = stream.wait_for(lambda n, d: n == "job" and d["event"] == "removed")
            self.assertEqual(event["ids"], [job["id"]])
        finally:
            stream.close()

    def test_a_queue_created_while_watching_is_followed_from_its_first_job(self):
        stream = EventStream(self.api.dashboard_port, self.browser.cookie)
        try:
            self.assertEqual(stream.next_event()[0], "queues")
            status, job, _ = self.api.request("POST", "/api/jobs", {"type": "fresh", "data": {}})
            self.assertEqual(status, 201)
            event = stream.wait_for(lambda n, d: n == "job" and d["queue"] == "fresh")
            self.assertEqual((event["event"], event["ids"]), ("enqueued", [job["id"]]))
        finally:
            stream.close()

    def test_the_stream_needs_a_session(self):
        stream = EventStream(self.api.dashboard_port, "taskq_session=" + "0" * 64)
        try:
            self.assertIn("401", stream.status_line)
        finally:
            stream.close()


class BrowserDefenceTest(StackTest):
    """Listeners without credentials (the API without keys, the dashboard without login) against
    other sites' pages in the operator's browser and against DNS rebinding."""

    def test_api_without_keys_refuses_other_sites_pages(self):
        job = {"type": "t", "data": {}}
        host = f"127.0.0.1:{self.api.port}"
        for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
            status, error, _ = self.api.request("POST", "/api/jobs", job, headers)
            self.assertEqual((status, error["code"]), (403, "cross_site"), headers)
        self.assertEqual(self.api.request("POST", "/api/queues/t/pause", None,
                                          {"Origin": "http://evil.example"})[0], 403)
        self.assertEqual(self.api.request("GET", "/api/queues", None,
                                          {"Origin": "http://evil.example"})[0], 200)
        # The API's own origin, and clients that are not browsers, are served.
        self.assertEqual(self.api.request("POST", "/api/jobs", job, {"Origin": f"http://{host}"})[0],
                         201)
        # Behind a proxy that rewrites Host, the browser's own word (Sec-Fetch-Site) counts;
        # without it, Origin is compared case-insensitively.
        behind_proxy = {"Origin": "https://taskq.example.com", "Sec-Fetch-Site": "same-origin"}
        self.assertEqual(self.api.request("POST", "/api/jobs", job, behind_proxy)[0], 201)
        upper = {"Origin": f"http://LOCALHOST:{self.api.port}", "Host": f"localhost:{self.api.port}"}
        self.assertEqual(self.api.request("POST", "/api/jobs", job, upper)[0], 201)
        self.assertEqual(self.api.request("POST", "/api/jobs", job)[0], 201)
        self.assertEqual(self.api.request("GET", "/api/queues/t")[1]["counts"]["waiting"], 4)
        self.assertFalse(self.api.request("GET", "/api/queues/t")[1]["paused"])

    def test_loopback_listeners_without_credentials_answer_only_loopback_names(self):
        # DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
        for port, path in ((self.api.port, "/api/queues"),
                           (self.api.dashboard_port, BASE + "/session")):
            status, error, _ = self.api.request("GET", path, None,
                                                {"Host": f"evil.example:{port}"}, port=port)
            self.assertEqual((status, error["code"]), (403, "host"), path)
            for host in (f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.1"):
                self.assertEqual(
                    self.api.request("GET", path, None, {"Host": host}, port=port)[0], 200, host)

    def test_sign_in_takes_only_json_from_this_site(self):
        browser = Browser(self.api)
        status, error, _ = browser.request("POST", "/session", {"api_key": "x" * 20},
                                           headers={"Content-Type": "text/plain"})
        self.assertEqual((status, error["code"]), (415, "unsupported_media_type"))
        status, error, _ = browser.request("POST", "/session", {"api_key": "x" * 20},
                                           headers={"Origin": "http://evil.example"})
        self.assertEqual((status, error["code"]), (403, "csrf"))


class LoginDashboardTest(StackTest):
    ADMIN_KEY = "admin-key-0123456789"
    READ_KEY = "read-key-0123456789"
    LIMITED_KEY = "limited-admin-key-0123456789"  # admin, jobs of type mail only

    @classmethod
    def api_flags(cls):
        digest = hash_password(PASSWORD)
        return ["--job-types", "*", "--dashboard-user", f"alice:admin:{digest}",
                "--dashboard-user", f"bob:read:{digest}",
                "--api-key", f"admin:{cls.ADMIN_KEY},read:{cls.READ_KEY}",
                "--api-key", f"admin/mail:{cls.LIMITED_KEY}"]

    def test_a_key_limited_to_job_types_cannot_sign_in(self):
        # A session has a role, not a type list: it would act on every type.
        browser, status, error = self.sign_in({"api_key": self.LIMITED_KEY})
        self.assertEqual((status, error["code"]), (403, "forbidden"))
        self.assertIn("limited to job types", error["detail"])
        self.assertIsNone(browser.cookie)
        self.assertEqual(browser.request("GET", "/api/queues")[0], 401)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.api.request("POST", "/api/jobs", {"type": "mail", "data": {}},
                        {"Authorization": f"Bearer {cls.ADMIN_KEY}"})

    def sign_in(self, body):
        browser = Browser(self.api)
        status, session, _ = browser.request("POST", "/session", body)
        return browser, status, session

    def test_nothing_without_signing_in(self):
        browser = Browser(self.api)
        status, session, _ = browser.request("GET", "/session")
        self.assertEqual((status, session["auth"], session["role"], session["csrf"]),
                         (200, "login", None, None))
        self.assertIsNone(browser.cookie)
        self.assertEqual(browser.request("GET", "/api/queues")[0], 401)
        self.assertEqual(browser.request("GET", "/api/events")[0], 401)

    def test_wrong_credentials_are_refused(self):
        for body in ({"username": "alice", "password": "wrong"},
                     {"username": "mallory", "password": PASSWORD},
                     {"api_key": "not-a-key-0123456789"}):
            browser, status, error = self.sign_in(body)
            self.assertEqual((status, error["code"]), (401, "unauthorized"), body)
            self.assertIsNone(browser.cookie)
        _, status, error = self.sign_in({"username": "alice"})
        self.assertEqual((status, error["field"]), (422, "password"))
        _, status, error = self.sign_in({"username": "alice", "password": 5})
        self.assertEqual((status, error["field"]), (422, "password"))
        _, status, error = self.sign_in({"username": "alice", "password": "x", "admin": True})
        self.assertEqual((status, error["field"]), (422, "admin"))
        browser = Browser(self.api)
        status, _, _ = browser.request("POST", "/session", {"username": "alice", "password": PASSWORD},
                                       headers={"Sec-Fetch-Site": "cross-site"})
        self.assertEqual(status, 403)  # no sign-in from another site's page

    def sign_in_from(self, source, body):
        """POST /session from the local address `source` (127.0.0.x): (status, headers)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.api.dashboard_port, timeout=30,
                                          source_address=(source, 0))
        try:
            conn.request("POST", BASE + "/session", body=json.dumps(body),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            return response.status, dict(response.getheaders())
        finally:
            conn.close()

    def test_a_guessing_client_slows_only_itself(self):
        # A stranger guessing from 127.0.0.2 as fast as it can, on 20 connections at once, used
        # to keep every sign-in at 503 (one shared queue of 16 checks). Now each address has one
        # check in flight and backs off after 5 failures; the admin elsewhere is not held up.
        stop = threading.Event()
        answers = []

        def guess():
            while not stop.is_set():
                answers.append(self.sign_in_from("127.0.0.2",
                                                 {"username": "alice", "password": "guess"})[0])

        guessers = [threading.Thread(target=guess) for _ in range(20)]
        for t in guessers:
            t.start()
        try:
            time.sleep(1.5)
            for _ in range(3):
                started = time.monotonic()
                status, _ = self.sign_in_from("127.0.0.1",
                                              {"username": "alice", "password": PASSWORD})
                self.assertEqual(status, 200)
                # Not a speed check: a sign-in held behind the guesses would be refused (503)
                # or wait out their back-off; under a sanitizer on two busy cores one check
                # alone can take seconds.
                self.assertLess(time.monotonic() - started, 20)
        finally:
            stop.set()
            for t in guessers:
                t.join()
        self.assertIn(429, answers)  # the guesser was told to wait
        self.assertNotIn(503, answers)
        # 5 free tries, then 1 s, 2 s, 4 s, ... apart: few guesses in the seconds the flood ran.
        self.assertLessEqual(answers.count(401), 12)
        # Right after a failure, the next try is told how long to wait.
        for _ in range(10):
            status, headers = self.sign_in_from("127.0.0.2", {"username": "alice", "password": "x"})
            if status == 429:
                break
        self.assertEqual(status, 429)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        with open(self.api.log.name) as f:
            self.assertIn("failed sign-in for \"alice\" from 127.0.0.2", f.read())

    def test_admin_acts_and_signs_out(self):
        browser, status, session = self.sign_in({"username": "alice", "password": PASSWORD})
        self.assertEqual((status, session["user"], session["role"]), (200, "alice", "admin"))
        self.assertTrue(session["api_keys"])  # the page's curl command then sends a key
        self.assertEqual(browser.request("GET", "/session")[1]["user"], "alice")
        self.assertEqual(browser.request("POST", "/api/queues/mail/pause")[0], 200)
        self.assertEqual(browser.request("POST", "/api/queues/mail/resume")[0], 200)
        cookie = browser.cookie
        self.assertEqual(browser.request("DELETE", "/session")[0], 200)
        browser.cookie = cookie  # the old cookie is worth nothing now
        self.assertEqual(browser.request("GET", "/api/queues")[0], 401)

    def test_read_role_reads_but_cannot_act(self):
        for body in ({"username": "bob", "password": PASSWORD}, {"api_key": self.READ_KEY}):
            browser, status, session = self.sign_in(body)
            self.assertEqual((status, session["role"]), (200, "read"), body)
            self.assertEqual(browser.request("GET", "/api/queues")[0], 200)
            status, error, _ = browser.request("POST", "/api/queues/mail/pause")
            self.assertEqual((status, error["code"]), (403, "forbidden"))
            status, _, _ = browser.request("POST", "/api/jobs", {"type": "mail", "data": {}})
            self.assertEqual(status, 403)
        self.assertFalse(self.api.request("GET", "/api/queues/mail", headers={
            "Authorization": f"Bearer {self.READ_KEY}"})[1]["paused"])

    def test_signing_out_ends_the_live_stream(self):
        browser, status, _ = self.sign_in({"username": "alice", "password": PASSWORD})
        self.assertEqual(status, 200)
        stream = EventStream(self.api.dashboard_port, browser.cookie)
        try:
            self.assertEqual(stream.next_event()[0], "queues")
            self.assertEqual(browser.request("DELETE", "/session")[0], 200)
            key = {"Authorization": f"Bearer {self.ADMIN_KEY}"}
            status, job, _ = self.api.request("POST", "/api/jobs",
                                              {"type": "mail", "data": {}}, key)
            self.assertEqual(status, 201)
            with self.assertRaises(EOFError):  # closed, not delivering the job
                stream.wait_for(lambda n, d: n == "job" and job["id"] in d["ids"])
        finally:
            stream.close()

    def test_sign_in_behind_an_https_proxy_sets_a_secure_cookie(self):
        browser = Browser(self.api)
        body = {"username": "alice", "password": PASSWORD}
        _, _, headers = browser.request("POST", "/session", body)
        self.assertNotIn("Secure", headers["Set-Cookie"])
        _, _, headers = browser.request("POST", "/session", body, headers={
            "X-Forwarded-Proto": "https", "Sec-Fetch-Site": "same-origin"})
        self.assertIn("; Secure", headers["Set-Cookie"])  # set on the login thread's answer

    def test_admin_api_key_signs_in_as_admin(self):
        browser, status, session = self.sign_in({"api_key": self.ADMIN_KEY})
        self.assertEqual((status, session["role"]), (200, "admin"))
        self.assertEqual(browser.request("POST", "/api/queues/mail/resume")[0], 200)


class StartUpTest(unittest.TestCase):
    def run_api(self, *flags):
        return subprocess.run(
            [api_fixtures.TASKQ, "--redis-url", "redis://127.0.0.1:1", "api", "--listen",
             f"127.0.0.1:{free_port()}", *flags], capture_output=True, text=True, timeout=30)

    def test_refuses_a_dashboard_beyond_loopback_without_login(self):
        out = self.run_api("--dashboard-listen", f"0.0.0.0:{free_port()}")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("--dashboard-user", out.stderr + out.stdout)

    def test_refuses_malformed_users_and_base_paths(self):
        out = self.run_api("--dashboard-user", "alice:admin:plaintext")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("pbkdf2-sha256", out.stderr + out.stdout)
        out = self.run_api("--dashboard-user", "alice:root:" + hash_password("x"))
        self.assertIn("role must be admin or read", out.stderr + out.stdout)
        out = self.run_api("--dashboard-base-path", "admin")
        self.assertIn("must start with /", out.stderr + out.stdout)

    def test_hash_password_salts_each_hash(self):
        first, second = hash_password("same"), hash_password("same")
        self.assertTrue(first.startswith("pbkdf2-sha256$600000$"))
        self.assertNotEqual(first, second)
        out = subprocess.run([api_fixtures.TASKQ, "hash-password"], input="\n", capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 2)

    def test_custom_base_path(self):
        redis = Redis()
        api = Api(redis.url, "--dashboard-base-path", "/ops/taskq")
        try:
            status, body, _ = api.request("GET", "/ops/taskq/", port=api.dashboard_port)
            self.assertEqual(status, 200)
            self.assertIn(b'src="/ops/taskq/assets/js/app.js"', body)
            self.assertEqual(api.request("GET", "/admin/queues/", port=api.dashboard_port)[0], 404)
            status, _, headers = api.request("GET", "/ops/taskq/session", port=api.dashboard_port)
            self.assertIn("Path=/ops/taskq;", headers["Set-Cookie"])
        finally:
            api.stop()
            redis.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--taskq", required=True)
    parser.add_argument("--worker", required=True)
    args, rest = parser.parse_known_args()
    api_fixtures.TASKQ = os.path.abspath(args.taskq)
    api_fixtures.TEST_WORKER = os.path.abspath(args.worker)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
