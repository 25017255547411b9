#!/usr/bin/python3
"""System tests of the HTTP API, run as api_fixtures.py describes.

The API when Redis goes away or comes back, against a Redis with ACLs, and over TLS.

    api_redis_test.py --taskq build/taskq --worker build/tests/taskq_test_worker [unittest args]
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import api_fixtures as fx
from api_fixtures import Redis, Api, Worker, CuttingProxy, documented_acl_rules


class RedisDownTest(unittest.TestCase):
    def test_redis_down_gives_503_with_retry_after_and_recovers(self):
        redis = Redis()
        api = Api(redis.url, "--job-types", "t")
        try:
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
            redis.proc.kill()
            redis.proc.wait()
            status, error, headers = api.request("POST", "/api/jobs", {"type": "t", "data": {}})
            self.assertEqual((status, error["code"]), (503, "unavailable"))
            self.assertIn("Retry-After", headers)
            self.assertEqual(api.request("GET", "/readyz")[0], 503)
            self.assertEqual(api.request("GET", "/healthz")[0], 200)
            # The scrape answers with what the process knows, and says Redis is down.
            status, metrics, _ = api.request("GET", "/metrics")
            self.assertEqual(status, 200)
            metrics = metrics.decode()
            self.assertIn("\ntaskq_redis_up 0\n", metrics)
            self.assertIn('taskq_http_requests_total{method="POST",route="/api/jobs",code="201"}',
                          metrics)
            self.assertIn("process_resident_memory_bytes", metrics)
            self.assertNotIn("taskq_jobs{", metrics)
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
            self.assertEqual((status, error["code"]), (503, "unavailable"), error)
            self.assertIn("out of memory", error["detail"])
            self.assertEqual(headers.get("Retry-After"), "1")
            status, error, _ = api.request(
                "POST", "/api/jobs/bulk", {"jobs": [{"type": "t", "data": {}}] * 3})
            self.assertEqual((status, error["code"]), (503, "unavailable"), error)
            redis.cli("CONFIG", "SET", "maxmemory", "0")
            self.assertEqual(redis.cli("KEYS", "taskq:*:jobs"), "")  # nothing half-written
            self.assertEqual(api.request("POST", "/api/jobs", {"type": "t", "data": {}})[0], 201)
        finally:
            api.stop()
            redis.stop()


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




def make_certificates(directory):
    """A CA, a server certificate for 127.0.0.1 and a client certificate (the files
    tests/testing/make_test_certificates.sh names)."""
    script = os.path.join(os.path.dirname(__file__), "..", "testing", "make_test_certificates.sh")
    subprocess.run([script, directory], check=True, timeout=60)


class TlsTest(unittest.TestCase):
    """taskq over rediss:// to a Redis that serves TLS only and asks for client certificates."""

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="taskq-api-certs-")
        make_certificates(cls.certs)
        cls.tls_port = fx.free_port()
        c = cls.certs
        cls.redis = Redis("--port", "0", "--tls-port", str(cls.tls_port), "--tls-cert-file",
                          f"{c}/server.pem", "--tls-key-file", f"{c}/server.key",
                          "--tls-ca-cert-file", f"{c}/ca.pem", "--tls-auth-clients", "yes")

    @classmethod
    def tearDownClass(cls):
        cls.redis.stop()
        shutil.rmtree(cls.certs, ignore_errors=True)

    @staticmethod
    def api(url, *global_flags):
        """`taskq api` with global flags (those go before the command)."""
        return Api.run([fx.TASKQ, "--redis-url", url, *global_flags, "api", "--listen",
                        "127.0.0.1:0", "--dashboard-listen", "127.0.0.1:0", "--job-types", "sleep"])

    def test_api_and_worker_run_a_job_over_tls_with_the_flags(self):
        c = self.certs
        url = f"rediss://127.0.0.1:{self.tls_port}"
        api = self.api(url, "--redis-tls-ca", f"{c}/ca.pem", "--redis-tls-cert",
                       f"{c}/client.pem", "--redis-tls-key", f"{c}/client.key")
        worker = Worker(f"{url}/0?tls_ca={c}/ca.pem&tls_cert={c}/client.pem"
                        f"&tls_key={c}/client.key", "sleep=1")
        try:
            status, body, _ = api.request("POST", "/api/jobs", {"type": "sleep", "data": {}})
            self.assertEqual(status, 201, body)
            status, job, _ = api.request("GET", body["links"]["wait"] + "&timeout_ms=5000")
            self.assertEqual(job["state"], "completed")
        finally:
            worker.stop()
            api.stop()

    def test_the_flags_need_a_rediss_url_and_insecure_is_loud(self):
        plain = subprocess.run(
            [fx.TASKQ, "--redis-url", "redis://127.0.0.1:1", "--redis-tls-ca", "/ca.pem", "stats"],
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(plain.returncode, 0)
        self.assertIn("--redis-tls-* flags need a rediss://", plain.stderr + plain.stdout)
        insecure = self.api(f"rediss://127.0.0.1:{self.tls_port}", "--redis-tls-insecure",
                            "--redis-tls-cert", f"{self.certs}/client.pem", "--redis-tls-key",
                            f"{self.certs}/client.key")
        try:
            status, _, _ = insecure.request("GET", "/readyz")
            self.assertEqual(status, 200)  # unverified, but connected
            with open(insecure.log.name) as f:
                self.assertIn("WITHOUT certificate verification", f.read())
        finally:
            insecure.stop()

    def test_a_server_certificate_of_an_unknown_ca_is_refused_and_logged(self):
        api = Api(f"rediss://127.0.0.1:{self.tls_port}", "--job-types", "sleep")
        try:
            status, error, _ = api.request("GET", "/readyz")
            self.assertEqual(status, 503)
            self.assertNotIn("certificate", json.dumps(error))  # anyone may ask /readyz
            def refusal_logged():
                with open(api.log.name) as f:
                    return "the server's certificate was refused" in f.read()
            self.assertTrue(fx.wait_until(refusal_logged))
        finally:
            api.stop()



class LeastPrivilegeUserTest(unittest.TestCase):
    """The API, a worker, the scheduler and the CLI as the documented ACL user: every path a job
    takes (completed, retried, dead and retried again, delayed and promoted, cancelled, unique,
    bulk, scheduled), queue actions and every listing. Redis must refuse nothing: its ACL LOG
    stays empty."""

    def test_the_documented_acl_user_runs_everything(self):
        rules = [w.replace("CHANGE-ME", "pw-for-taskq") for w in documented_acl_rules()]
        self.assertIn(">pw-for-taskq", rules)
        redis = Redis("--user", "taskq", *rules)
        url = f"redis://taskq:pw-for-taskq@127.0.0.1:{redis.port}"
        api = worker = scheduler = None
        try:
            api = Api(url, "--job-types", "sleep,fail")
            worker = Worker(url, "sleep=2,fail=1")
            scheduler = subprocess.Popen(
                [fx.TASKQ, "--redis-url", url, "--log-level", "warn", "scheduler",
                 "--scheduler-tick-ms", "100"], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL)

            def req(method, path, body=None, expect=(200, 201)):
                status, reply, _ = api.request(method, path, body)
                if status not in expect:  # what Redis refused, if that was it
                    self.fail((method, path, status, reply, redis.cli("ACL", "LOG")))
                return reply

            def finished(queue, job_id, state):
                return fx.wait_until(lambda: api.request(
                    "GET", f"/api/jobs/{job_id}?queue={queue}")[1].get("state") == state, 15)

            done = req("POST", "/api/jobs", {"type": "sleep", "data": {"ms": 1}})
            self.assertTrue(finished("sleep", done["id"], "completed"))
            dead = req("POST", "/api/jobs", {"type": "fail", "max_attempts": 2,  # fails for good
                                             "backoff": {"type": "none"}})
            self.assertTrue(finished("fail", dead["id"], "dead"))
            req("POST", f"/api/jobs/{dead['id']}/retry?queue=fail")
            self.assertTrue(fx.wait_until(lambda: len(api.request(
                "GET", f"/api/jobs/{dead['id']}?queue=fail")[1].get("errors", [])) == 2, 15))
            req("POST", "/api/queues/fail/dead/retry")
            later = req("POST", "/api/jobs", {"type": "sleep", "delay_ms": 600000})
            req("POST", f"/api/jobs/{later['id']}/promote?queue=sleep")
            self.assertTrue(finished("sleep", later["id"], "completed"))
            cancelled = req("POST", "/api/jobs", {"type": "sleep", "delay_ms": 600000})
            req("DELETE", f"/api/jobs/{cancelled['id']}?queue=sleep")
            for _ in range(2):
                req("POST", "/api/jobs", {"type": "sleep", "data": {"ms": 1},
                                          "unique": {"key": "once", "mode": "ttl",
                                                     "ttl_ms": 60000}})
            req("POST", "/api/jobs/bulk", {"jobs": [{"type": "sleep", "group": "g"}] * 3})
            # A completion callback: the worker relays the outbox into the webhook queue.
            called = req("POST", "/api/jobs", {"type": "sleep", "data": {"ms": 1},
                                               "callback_url": "https://cb.example/done"})
            self.assertTrue(finished("sleep", called["id"], "completed"))
            self.assertTrue(fx.wait_until(lambda: any(
                job["id"].startswith("cb:sleep:") for job in api.request(
                    "GET", "/api/queues/webhook/jobs?state=waiting")[1].get("jobs", [])), 15))
            req("POST", "/api/queues/sleep/pause")
            req("POST", "/api/queues/sleep/resume")
            req("PUT", "/api/queues/sleep/limits", {"concurrency": 5, "rate": {"max": 100,
                                                                               "window_ms": 1000}})
            req("GET", "/api/queues/sleep/limits")
            req("POST", "/api/schedules", {"id": "tick", "cron": "* * * * * *", "type": "sleep"})
            self.assertTrue(fx.wait_until(
                lambda: api.request("GET", "/api/schedules/tick")[1].get("last_run"), 10))
            req("POST", "/api/schedules/tick/run")
            req("DELETE", "/api/schedules/tick", expect=(200, 204))
            for path in ("/api/queues", "/api/queues/sleep", "/api/workers", "/metrics",
                         "/readyz", "/api/queues/sleep/jobs?state=completed",
                         "/api/queues/fail/jobs?state=dead", "/api/schedules"):
                req("GET", path)
            req("DELETE", "/api/queues/sleep/jobs?state=completed", expect=(200, 204))
            for command in (["stats"], ["jobs", "sleep", "--state", "completed"]):
                run = subprocess.run([fx.TASKQ, "--redis-url", url, *command],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(run.returncode, 0, (command, run.stderr))
            self.assertEqual(redis.cli("ACL", "LOG"), "")  # nothing refused
        finally:
            if scheduler:
                scheduler.terminate()
                scheduler.wait(15)
            if worker:
                worker.stop()
            if api:
                api.stop()
            redis.stop()


if __name__ == "__main__":
    fx.main()
