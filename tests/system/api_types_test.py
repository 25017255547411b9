#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

The built-in job types end to end through the API and `taskq up`.

    api_types_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import api_fixtures as fx
from api_fixtures import free_port, wait_until, listening_ports, Api


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
            [fx.TASKQ, "up", "--data-dir", cls.data_dir, "--redis-port", str(cls.redis_port),
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
            [fx.TASKQ, "--redis-url", url, "enqueue", "--type", "webhook", "--queue", "email",
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
        self.assertEqual((status, error["field"]), (422, "queue"))

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
        self.assertEqual(error["field"], "data.attachments[0].path")
        self.assertIn("--email-attachments-dir", error["detail"])

    def test_a_data_check_names_every_invalid_field(self):
        status, problem, _ = self.api.request("POST", "/api/jobs", {
            "type": "email", "data": {"to": "not-an-address", "subject": "Hi\r\nBcc: x@example.com",
                                      "text": "hi"}})
        self.assertEqual(status, 422, problem)
        self.assertEqual(problem["code"], "invalid_field")
        self.assertEqual([e["field"] for e in problem["errors"]], ["data.to", "data.subject"])
        self.assertEqual((problem["field"], problem["detail"]),
                         (problem["errors"][0]["field"], problem["errors"][0]["detail"]))
        self.assertIn("control characters", problem["errors"][1]["detail"])
        # With the job's own fields, in one answer.
        status, problem, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "priority": "high",
            "data": {"url": "ftp://example.com/x", "timeout_ms": 0}})
        self.assertEqual(status, 422, problem)
        self.assertEqual(sorted(e["field"] for e in problem["errors"]),
                         ["data.timeout_ms", "data.url", "priority"])

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

    def test_the_trace_of_an_enqueue_goes_on_with_the_webhook(self):
        trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        url = f"http://127.0.0.1:{self.hook.server_address[1]}/traced"
        status, created, _ = self.api.request(
            "POST", "/api/jobs", {"type": "webhook", "data": {"url": url}},
            headers={"traceparent": trace})
        self.assertEqual(status, 201, created)
        status, done, _ = self.api.request("GET", created["links"]["wait"] + "&timeout_ms=20000")
        self.assertEqual(done["state"], "completed", done)
        self.assertEqual(done["options"]["traceparent"], trace)
        path, headers, _ = self.received[-1]
        self.assertEqual((path, headers["traceparent"]), ("/traced", trace))
        status, error, _ = self.api.request(
            "POST", "/api/jobs", {"type": "webhook", "data": {"url": url}},
            headers={"traceparent": "00-abc-def-01"})
        self.assertEqual((status, error["field"]), (422, "traceparent"))
        # Every job of a bulk belongs to the header's trace.
        status, bulk, _ = self.api.request(
            "POST", "/api/jobs/bulk", {"jobs": [{"type": "webhook", "data": {"url": url}}] * 2},
            headers={"traceparent": trace})
        self.assertEqual(status, 201, bulk)
        for job in bulk["jobs"]:
            _, stored, _ = self.api.request("GET", job["links"]["self"])
            self.assertEqual(stored["options"]["traceparent"], trace)

    def test_completion_callbacks_are_signed_webhooks(self):
        import base64
        import hashlib
        import hmac
        base = f"http://127.0.0.1:{self.hook.server_address[1]}"
        ok = self.run_job({"type": "webhook", "data": {"url": f"{base}/work"},
                           "callback_url": f"{base}/cb?job=ok"})
        status, doomed, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "data": {"url": "http://127.0.0.1:9/refused"}, "max_attempts": 1,
            "callback_url": f"{base}/cb?job=dead"})
        self.assertEqual(status, 201, doomed)
        self.assertEqual(ok["options"]["callback_url"], f"{base}/cb?job=ok")

        def callbacks():
            return {path: (headers, json.loads(body)) for path, headers, body in self.received
                    if path.startswith("/cb")}
        self.assertTrue(wait_until(lambda: len(callbacks()) == 2, timeout=20), callbacks())
        headers, body = callbacks()["/cb?job=ok"]
        self.assertEqual(body["type"], "job.completed")
        self.assertEqual(body["job"]["id"], ok["id"])
        self.assertEqual(body["job"]["queue"], "webhook")
        self.assertEqual(body["job"]["result"]["status"], 200)
        self.assertTrue(headers["webhook-id"].startswith("cb:webhook:"), headers)
        raw = next(b for p, _, b in self.received if p == "/cb?job=ok")
        signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + raw
        expected = base64.b64encode(hmac.new(b"secret-key-1234", signed,
                                             hashlib.sha256).digest()).decode()
        self.assertIn("v1," + expected, headers["webhook-signature"].split())
        _, body = callbacks()["/cb?job=dead"]
        self.assertEqual(body["type"], "job.dead")
        self.assertEqual(body["job"]["id"], doomed["id"])
        self.assertIn("refused", body["job"]["error"]["message"])
        # A URL that is no http(s) URL is refused at the door, naming the field.
        status, error, _ = self.api.request("POST", "/api/jobs", {
            "type": "webhook", "data": {"url": f"{base}/work"}, "callback_url": "ftp://x/"})
        self.assertEqual((status, error["field"]), (422, "callback_url"))

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
        self.assertEqual((status, error["field"]), (422, "data.output"))

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


if __name__ == "__main__":
    fx.main()
